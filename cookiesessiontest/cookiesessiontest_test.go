package cookiesessiontest

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// app is a small application under test.
func app(m *cookiesession.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		s.Set("n", s.GetInt("n")+1)
		io.WriteString(w, s.GetString("user"))
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, m.Session(r).GetString("user"))
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		m.Session(r).Destroy()
	})
	mux.HandleFunc("/nothing", func(w http.ResponseWriter, r *http.Request) {})
	return m.Handler(mux)
}

func serve(h http.Handler, r *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Result()
}

func TestRequestAndResponseSession(t *testing.T) {
	m, _ := NewManager(t, cookiesession.Config{})
	h := app(m)

	resp := serve(h, NewRequest(t, m, "GET", "/count", map[string]any{"user": "ada", "n": 41}))
	body, _ := io.ReadAll(resp.Body)
	s := ResponseSession(t, m, resp)
	if string(body) != "ada" || s == nil || s.GetInt("n") != 42 || s.GetString("user") != "ada" {
		t.Fatalf("body %q, session %v", body, s)
	}

	// A response that does not touch the session leaves the browser's cookie: nil.
	if s := ResponseSession(t, m, serve(h, NewRequest(t, m, "GET", "/read", map[string]any{"user": "ada"}))); s != nil {
		t.Errorf("read-only response left %v", s.Keys())
	}
	if s := ResponseSession(t, m, serve(h, NewRequest(t, m, "GET", "/nothing", nil))); s != nil {
		t.Errorf("untouched response left %v", s.Keys())
	}
	if got := NewRequest(t, m, "GET", "/", nil).Header.Get("Cookie"); got != "" {
		t.Errorf("a request without values carries %q", got)
	}

	// Destroy leaves an empty session.
	s = ResponseSession(t, m, serve(h, NewRequest(t, m, "GET", "/logout", map[string]any{"user": "ada"})))
	if s == nil || s.Len() != 0 || !s.IsNew() {
		t.Errorf("after logout: %v", s)
	}
}

// TestChunkedSession: a session over one cookie travels in its chunks, both
// ways.
func TestChunkedSession(t *testing.T) {
	m, _ := NewManager(t, cookiesession.Config{})
	big := strings.Repeat("0123456789abcdef", 250) // 4 kB: two cookies
	req := NewRequest(t, m, "GET", "/count", map[string]any{"big": big})
	if got := len(req.Cookies()); got != 2 {
		t.Fatalf("request carries %d cookies, want 2", got)
	}
	s := ResponseSession(t, m, serve(app(m), req))
	if s == nil || s.GetString("big") != big || s.GetInt("n") != 1 || s.Info().Chunks != 2 {
		t.Fatalf("chunked session back: %v", s)
	}
}

// TestClockAndOptions: the session is sealed at the Manager's clock, and the
// clock moves the session's time.
func TestClockAndOptions(t *testing.T) {
	m, clock := NewManager(t, cookiesession.Config{Lifetime: time.Hour, RememberLifetime: 48 * time.Hour})
	plain := NewRequest(t, m, "GET", "/read", map[string]any{"user": "bo"})
	remembered := NewRequest(t, m, "GET", "/read", map[string]any{"user": "bo"}, RememberMe(true))
	s, err := m.Load(plain)
	if err != nil || !s.IssuedAt().Equal(Start) || !s.ExpiresAt().Equal(Start.Add(time.Hour)) {
		t.Fatalf("issued %v, expires %v, %v", s.IssuedAt(), s.ExpiresAt(), err)
	}
	clock.Advance(2 * time.Hour)
	if _, err := m.Load(plain); !errors.Is(err, cookiesession.ErrExpired) {
		t.Errorf("plain session after 2h: %v", err)
	}
	if s, err := m.Load(remembered); err != nil || s.GetString("user") != "bo" {
		t.Errorf("remember-me session after 2h: %v", err)
	}
	clock.Set(Start)
	if got := clock.Now(); !got.Equal(Start) {
		t.Errorf("Set: %v", got)
	}
	if s, err := m.Load(NewRequest(t, m, "GET", "/", nil, Subject("user-7"))); err != nil || s.Subject() != "user-7" {
		t.Errorf("Subject option: %q, %v", s.Subject(), err)
	}
}

// TestFailures: what cannot be a session fails the test instead of passing
// silently.
func TestFailures(t *testing.T) {
	m, _ := NewManager(t, cookiesession.Config{Limits: cookiesession.Limits{MaxChunks: 1}})
	for name, f := range map[string]func(tb testing.TB){
		"value does not marshal": func(tb testing.TB) { CookieHeader(tb, m, map[string]any{"ch": make(chan int)}) },
		"session too large":      func(tb testing.TB) { CookieHeader(tb, m, map[string]any{"big": strings.Repeat("x", 5000)}) },
		"option refused":         func(tb testing.TB) { CookieHeader(tb, m, nil, Subject(strings.Repeat("x", 1000))) },
		"response does not open": func(tb testing.TB) {
			ResponseSession(tb, m, &http.Response{Header: http.Header{"Set-Cookie": {"session=tampered"}}})
		},
		"bad configuration": func(tb testing.TB) {
			NewManager(tb, cookiesession.Config{Lifetime: -time.Hour})
		},
	} {
		if !failed(f) {
			t.Errorf("%s: the test did not fail", name)
		}
	}
}

// failed runs f with a testing.TB that records a fatal failure.
func failed(f func(tb testing.TB)) bool {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.failed
}

type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()                        {}
func (r *recorder) Logf(string, ...any)            {}
func (r *recorder) Fatalf(format string, a ...any) { r.failed = true; runtime.Goexit() }
