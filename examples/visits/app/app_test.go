package app

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/cookiesessiontest"
)

// serve runs one request through the demo behind its middleware.
func serve(m *cookiesession.Manager, r *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	m.Handler(New(m)).ServeHTTP(rec, r)
	return rec.Result()
}

// post is a form's POST carrying the cookie header of a session.
func post(target string, form url.Values, cookie string) *http.Request {
	r := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Cookie", cookie)
	return r
}

func TestHomeCounts(t *testing.T) {
	m, _ := cookiesessiontest.NewManager(t, cookiesession.Config{})
	resp := serve(m, cookiesessiontest.NewRequest(t, m, "GET", "/", map[string]any{"visits": 4}))
	if s := cookiesessiontest.ResponseSession(t, m, resp); s.GetInt("visits") != 5 {
		t.Errorf("visits = %d, want 5", s.GetInt("visits"))
	}
}

// TestLoginRenewsAndRemembers: login gives a new identity, stores the user,
// and with "remember" the session lives RememberLifetime.
func TestLoginRenewsAndRemembers(t *testing.T) {
	m, clock := cookiesessiontest.NewManager(t, cookiesession.Config{Lifetime: 24 * time.Hour, RememberLifetime: 30 * 24 * time.Hour})
	cookie := cookiesessiontest.CookieHeader(t, m, map[string]any{"visits": 1})
	before, _ := m.LoadHeader(cookie)
	resp := serve(m, post("/login", url.Values{"user": {"ada"}, "remember": {"on"}}, cookie))
	s := cookiesessiontest.ResponseSession(t, m, resp)
	if s.GetString("user") != "ada" || s.ID() == before.ID() || !s.ExpiresAt().Equal(clock.Now().Add(30*24*time.Hour)) {
		t.Errorf("after login: user %q, id %s (was %s), expires %v", s.GetString("user"), s.ID(), before.ID(), s.ExpiresAt())
	}
}

func TestLogoutDestroys(t *testing.T) {
	m, _ := cookiesessiontest.NewManager(t, cookiesession.Config{})
	cookie := cookiesessiontest.CookieHeader(t, m, map[string]any{"user": "ada"})
	resp := serve(m, post("/logout", url.Values{"flash": {"off"}}, cookie))
	if s := cookiesessiontest.ResponseSession(t, m, resp); s.Len() != 0 || s.GetString("user") != "" {
		t.Errorf("after logout: %v", s.Keys())
	}
}

// TestCrossOriginLoginRefused: a login posted from another origin (login
// CSRF) gets a 403 and no cookie; the same form from the demo's own page logs
// in.
func TestCrossOriginLoginRefused(t *testing.T) {
	m, _ := cookiesessiontest.NewManager(t, cookiesession.Config{})
	login := func(site string) *http.Response {
		r := post("http://localhost:8080/login", url.Values{"user": {"mallory"}}, "")
		r.Header.Set("Sec-Fetch-Site", site)
		return serve(m, r)
	}
	for _, site := range []string{"cross-site", "same-site"} {
		if res := login(site); res.StatusCode != http.StatusForbidden || len(res.Cookies()) != 0 {
			t.Errorf("Sec-Fetch-Site: %s: %d, cookies %v; want 403 and none", site, res.StatusCode, res.Cookies())
		}
	}
	if res := login("same-origin"); res.StatusCode != http.StatusSeeOther || len(res.Cookies()) != 1 {
		t.Errorf("Sec-Fetch-Site: same-origin: %d, cookies %v; want 303 and the session", res.StatusCode, res.Cookies())
	}
}
