package cookiesessionotel

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/cookiesessiontest"
)

// BenchmarkMiddleware is the root's BenchmarkMiddleware/readModify (a small
// session cookie in the request; the handler reads one value and sets one)
// with each observer, side by side in one run:
//
//	readModify        no observer
//	readModifyExpvar  cookiesession.Counters
//	readModifyOTel    this package's Observer on the SDK's MeterProvider
func BenchmarkMiddleware(b *testing.B) {
	obs, _ := newObserved(b)
	for _, c := range []struct {
		name     string
		observer func(cookiesession.Event)
	}{
		{"readModify", nil},
		{"readModifyExpvar", new(cookiesession.Counters).Observe},
		{"readModifyOTel", obs.Observe},
	} {
		m, _ := cookiesessiontest.NewManager(b, cookiesession.Config{Observer: c.observer})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			s.Set("n", s.GetInt("n")+1)
			io.WriteString(w, "ok")
		}))
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Cookie", "theme=dark; "+cookiesessiontest.CookieHeader(b, m, map[string]any{
			"user": "alice", "n": 1, "roles": []string{"admin", "dev"},
		}))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if len(rec.Header().Values("Set-Cookie")) != 1 || rec.Body.String() != "ok" {
			b.Fatalf("%s: Set-Cookie %q, body %q", c.name, rec.Header().Values("Set-Cookie"), rec.Body)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
