package cookiesession

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPlainHTTPReported: a Secure cookie sent in answer to plain HTTP for a
// host other than localhost is logged once at Warn, with the setting that
// changes it; requests whose browser keeps the cookie are not, and
// Config.ErrorLog (about requests' cookies) hears nothing of it.
func TestPlainHTTPReported(t *testing.T) {
	logs := captureSlog(t)
	serve := func(m *Manager, target string, edit func(r *http.Request)) *http.Response {
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("touch") != "no" {
				m.Session(r).Set("n", 1)
			}
		}))
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if edit != nil {
			edit(r)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Result()
	}
	withTLS := func(r *http.Request) { r.TLS = &tls.ConnectionState{} }
	forwarded := func(v string) func(r *http.Request) {
		return func(r *http.Request) { r.Header.Set("X-Forwarded-Proto", v) }
	}
	quiet := []struct {
		name, target string
		insecure     bool
		edit         func(r *http.Request)
	}{
		{"localhost", "http://localhost:8080/", false, nil},
		{"LOCALHOST", "http://LOCALHOST/", false, nil},
		{"a .localhost name", "http://app.localhost:8080/", false, nil},
		{"127.0.0.1", "http://127.0.0.1:8080/", false, nil},
		{"127.1.2.3", "http://127.1.2.3/", false, nil},
		{"::1", "http://[::1]:8080/", false, nil},
		{"TLS", "http://192.0.2.2:18081/", false, withTLS},
		{"X-Forwarded-Proto: https", "http://192.0.2.2:18081/", false, forwarded("https")},
		{"X-Forwarded-Proto: HTTPS, http", "http://192.0.2.2:18081/", false, forwarded("HTTPS, http")},
		{"Insecure", "http://192.0.2.2:18081/", true, nil},
		{"no Set-Cookie", "http://192.0.2.2:18081/?touch=no", false, nil},
	}
	for _, c := range quiet {
		m, _, lg := e2eManager(t, Config{Insecure: c.insecure})
		res := serve(m, c.target, c.edit)
		if want := !strings.HasSuffix(c.target, "touch=no"); (len(res.Header["Set-Cookie"]) == 1) != want {
			t.Fatalf("%s: Set-Cookie %q", c.name, res.Header["Set-Cookie"])
		}
		if errs, recs := lg.take(), logs.take(); len(errs) != 0 || len(recs) != 0 {
			t.Errorf("%s: ErrorLog got %v, slog %+v; want nothing", c.name, errs, recs)
		}
	}

	m, _, lg := e2eManager(t, Config{})
	for _, target := range []string{"http://192.0.2.2:18081/", "http://192.0.2.2:18081/again", "http://example.com/"} {
		serve(m, target, forwarded("http"))
	}
	if errs := lg.take(); len(errs) != 0 {
		t.Errorf("ErrorLog got %v, want nothing", errs)
	}
	recs := logs.take()
	if len(recs) != 1 || recs[0].level != slog.LevelWarn || recs[0].attrs["url"] != "http://192.0.2.2:18081/" {
		t.Fatalf("slog got %+v, want one Warn for http://192.0.2.2:18081/", recs)
	}
	for _, want := range []string{"Secure", "Config.Insecure", "X-Forwarded-Proto: https"} {
		if !strings.Contains(recs[0].msg, want) {
			t.Errorf("%q does not say %q", recs[0].msg, want)
		}
	}
}

// TestPlainHTTPCheckAllocates nothing for a request to localhost, which a
// development server answers on every response.
func TestPlainHTTPCheckAllocates(t *testing.T) {
	m, _, _ := e2eManager(t, Config{})
	for _, target := range []string{"http://localhost:8080/", "http://App.Localhost/", "http://127.0.0.1:8080/", "http://[::1]:8080/"} {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if n := testing.AllocsPerRun(100, func() { m.checkPlainHTTP(r) }); n != 0 {
			t.Errorf("%s: %.0f allocations", target, n)
		}
	}
}
