package cookiesession

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkMiddleware measures what Manager.Handler adds to a request:
//
//	bare        the handler alone, no middleware, no session
//	untouched   through the middleware, the handler never calls Session
//	readModify  a small session cookie from an earlier response in the
//	            request; the handler reads one value and sets one (open,
//	            then seal and write Set-Cookie)
//	readModifyExpvar  readModify with Counters as Config.Observer
//
// The cookiesessionotel module measures readModify with its OpenTelemetry
// observer in its own BenchmarkMiddleware.
func BenchmarkMiddleware(b *testing.B) {
	m, _, lg := e2eManager(b, Config{})
	counted, _, _ := e2eManager(b, Config{Observer: new(Counters).Observe})
	plain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})
	readModifyOf := func(m *Manager) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			s.Set("n", s.GetInt("n")+1)
			io.WriteString(w, "ok")
		})
	}

	// A small session, as an earlier response set it.
	s, _ := m.LoadHeader()
	s.Set("user", "alice")
	s.Set("n", 1)
	s.Set("roles", []string{"admin", "dev"})
	lines, err := m.SetCookies(s)
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Cookie", "theme=dark; "+e2eCookieHeader(b, lines))

	cases := []struct {
		name       string
		h          http.Handler
		setsCookie bool
	}{
		{"bare", plain, false},
		{"untouched", m.Handler(plain), false},
		{"readModify", m.Handler(readModifyOf(m)), true},
		{"readModifyExpvar", counted.Handler(readModifyOf(counted)), true},
	}
	for _, c := range cases {
		// Each case does what it claims, once, before it is timed.
		rec := httptest.NewRecorder()
		c.h.ServeHTTP(rec, req)
		if got := len(rec.Header().Values("Set-Cookie")) == 1; got != c.setsCookie || rec.Body.String() != "ok" {
			b.Fatalf("%s: Set-Cookie %q, body %q", c.name, rec.Header().Values("Set-Cookie"), rec.Body)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
	if errs := lg.take(); len(errs) != 0 {
		b.Fatalf("ErrorLog: %v", errs)
	}
}
