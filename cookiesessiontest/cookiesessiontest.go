// Package cookiesessiontest helps write handler tests for applications that
// use cookiesession, one line each: a Manager with a generated key ring and
// a fixed [Clock] ([NewManager]), a request that carries a session with given
// values and options such as its [Subject] ([NewRequest]), and the session a
// response left behind ([ResponseSession]).
//
//	m, clock := cookiesessiontest.NewManager(t, cookiesession.Config{})
//	req := cookiesessiontest.NewRequest(t, m, "GET", "/cart", map[string]any{"user": "ada"})
//	rec := httptest.NewRecorder()
//	m.Handler(app).ServeHTTP(rec, req)
//	s := cookiesessiontest.ResponseSession(t, m, rec.Result())
//
// Sessions are sealed and opened by the Manager itself, with its own
// configuration and clock: what a test sees is what a browser would carry.
package cookiesessiontest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// Start is the instant a [Clock] from [NewManager] shows first: a whole
// second, so that sealed times and Max-Age values are exact.
var Start = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// A Clock is a time that moves only when told, for Config.Now. It is safe for
// concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time; pass the method value as Config.Now.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d (back when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// NewManager returns a Manager of cfg for a test, failing the test when cfg
// is refused. Unless cfg sets them, it uses a freshly generated one-key ring,
// a [Clock] at [Start] (returned, so the test can move it) and an ErrorLog
// that writes to the test's log. When cfg.Now is set the Manager keeps it and
// the returned Clock is not used.
func NewManager(t testing.TB, cfg cookiesession.Config) (*cookiesession.Manager, *Clock) {
	t.Helper()
	clock := NewClock(Start)
	if cfg.Keys == nil {
		key, err := cookiesession.GenerateKey("test")
		if err != nil {
			t.Fatalf("cookiesessiontest: %v", err)
		}
		ring, err := cookiesession.NewKeyRing(key)
		if err != nil {
			t.Fatalf("cookiesessiontest: %v", err)
		}
		cfg.Keys = ring
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.ErrorLog == nil {
		cfg.ErrorLog = func(r *http.Request, err error) {
			if r != nil {
				t.Logf("cookiesession: %s %s: %v", r.Method, r.URL.Path, err)
			} else {
				t.Logf("cookiesession: %v", err)
			}
		}
	}
	m, err := cookiesession.New(cfg)
	if err != nil {
		t.Fatalf("cookiesessiontest: %v", err)
	}
	return m, clock
}

// An Option changes the session before it is sealed, for what values cannot
// say: [Subject], [RememberMe], or any call on the session. An error fails
// the test.
type Option func(*cookiesession.Session) error

// Subject gives the session a subject, the user it belongs to (see
// [cookiesession.Session.SetSubject]).
func Subject(id string) Option {
	return func(s *cookiesession.Session) error { return s.SetSubject(id) }
}

// RememberMe makes the session choose remember-me (see
// [cookiesession.Session.RememberMe]).
func RememberMe(remember bool) Option {
	return func(s *cookiesession.Session) error { s.RememberMe(remember); return nil }
}

// NewRequest returns httptest.NewRequest(method, target, nil) carrying the
// cookies of a new session of m that holds values, issued at m's current time,
// as if an earlier response had set them. With no values and no options the
// request carries no session cookie. It fails the test when a value does not
// marshal or the session does not fit.
func NewRequest(t testing.TB, m *cookiesession.Manager, method, target string, values map[string]any, opts ...Option) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	if len(values) > 0 || len(opts) > 0 {
		r.Header.Add("Cookie", CookieHeader(t, m, values, opts...))
	}
	return r
}

// CookieHeader returns the Cookie header value ("session=…" or
// "session=…; session.1=…") of a new session of m holding values, as a
// browser would send it back. It fails the test when a value does not
// marshal or the session does not fit.
func CookieHeader(t testing.TB, m *cookiesession.Manager, values map[string]any, opts ...Option) string {
	t.Helper()
	s, _ := m.LoadHeader()
	for k, v := range values {
		if err := s.Set(k, v); err != nil {
			t.Fatalf("cookiesessiontest: value %q: %v", k, err)
		}
	}
	for _, opt := range opts {
		if err := opt(s); err != nil {
			t.Fatalf("cookiesessiontest: option: %v", err)
		}
	}
	lines, err := m.SetCookies(s)
	if err != nil {
		t.Fatalf("cookiesessiontest: %v", err)
	}
	var pairs []string
	for _, line := range lines {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("cookiesessiontest: Set-Cookie %q: %v", line, err)
		}
		if c.MaxAge >= 0 {
			pairs = append(pairs, c.Name+"="+c.Value)
		}
	}
	return strings.Join(pairs, "; ")
}

// ResponseSession returns the session that resp left in the browser: the one
// its Set-Cookie lines for m's cookie seal, opened by m at its current time.
// It is empty when the response expired the cookie (Destroy, a refused
// cookie), and nil when the response did not set m's cookie (the browser
// keeps what it had; expiring stale chunks alone leaves it too). It fails the test when the cookies set do not
// open. For a recorded response, pass rec.Result().
func ResponseSession(t testing.TB, m *cookiesession.Manager, resp *http.Response) *cookiesession.Session {
	t.Helper()
	name := m.Config().Name
	var pairs []string
	seen := false
	for _, c := range resp.Cookies() {
		if c.Name != name && !strings.HasPrefix(c.Name, name+".") {
			continue
		}
		seen = seen || c.Name == name
		if c.MaxAge >= 0 {
			pairs = append(pairs, c.Name+"="+c.Value)
		}
	}
	if !seen {
		return nil
	}
	s, err := m.LoadHeader(strings.Join(pairs, "; "))
	if err != nil {
		t.Fatalf("cookiesessiontest: the response's session cookie does not open: %v", err)
	}
	return s
}
