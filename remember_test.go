package cookiesession

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestMiddlewareRememberLifetime: a session that chose remember-me lives
// RememberLifetime from its issue, enforced from its sealed claims; the others
// live Lifetime.
func TestMiddlewareRememberLifetime(t *testing.T) {
	const day = 24 * time.Hour
	env := newE2E(t, Config{Lifetime: day, RememberLifetime: 30 * day}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			s.Renew()
			s.Set("user", r.URL.Query().Get("user"))
			if r.URL.Query().Has("remember") {
				s.RememberMe(true)
			}
			io.WriteString(w, "ok")
		})
	})
	resp := env.get("/login?user=rita&remember")
	checkSession(t, resp, 1)
	if _, _, maxAge, _ := e2eLine(t, resp.lines[0]); maxAge != strconv.Itoa(30*86400) {
		t.Errorf("remember-me cookie Max-Age %s, want 30 days", maxAge)
	}
	// A session that did not choose it, from the same server: 24 hours.
	plain := env.do(env.bare, http.MethodGet, "/login?user=paul", "").lines
	if _, _, maxAge, _ := e2eLine(t, plain[0]); maxAge != strconv.Itoa(86400) {
		t.Errorf("plain cookie Max-Age %s, want 24 hours", maxAge)
	}
	plainCookie := e2eCookieHeader(t, plain)

	env.clock.Advance(day)
	if v := env.do(env.bare, http.MethodGet, "/read", plainCookie).view(t); v.User != "" || !v.LoadErr {
		t.Errorf("plain session after 24h: %+v", v)
	}
	env.log.expectOne(t, ErrExpired)

	env.clock.Advance(28 * day) // day 29
	if v := env.get("/read").view(t); v.User != "rita" || v.LoadErr {
		t.Fatalf("remember-me session at day 29: %+v", v)
	}
	env.clock.Advance(day - time.Second) // the last second of day 30
	if v := env.get("/read").view(t); v.User != "rita" {
		t.Fatalf("remember-me session one second before 30 days: %+v", v)
	}
	env.log.expectNone(t)
	env.clock.Advance(day + time.Second) // day 31
	resp = env.get("/read")
	if v := resp.view(t); v.User != "" || !v.New || !v.LoadErr {
		t.Errorf("remember-me session at day 31: %+v", v)
	}
	checkSession(t, resp, 0, "session")
	env.log.expectOne(t, ErrExpired)
}

// TestMiddlewareRememberRevoked: a revocation keeps refusing a remember-me
// session for as long as RememberLifetime, not only Lifetime: the list in
// force is pruned by the longer of the two.
func TestMiddlewareRememberRevoked(t *testing.T) {
	const day = 24 * time.Hour
	revs := NewRevocations(nil)
	env := newE2E(t, Config{Lifetime: day, RememberLifetime: 30 * day, Revocations: revs}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			s.Renew()
			s.SetSubject("rita")
			s.Set("user", "rita")
			s.RememberMe(true)
		})
	})
	env.get("/login")
	env.clock.Advance(time.Minute)
	if err := revs.Revoke("rita", env.clock.Now()); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(2 * day) // the list is first put in force now
	if v := env.get("/read").view(t); v.User != "" || !v.LoadErr {
		t.Errorf("revoked remember-me session after two days: %+v", v)
	}
	env.log.expectOne(t, ErrRevoked)
}

// TestRememberLifetimeFromClaims: the lifetime follows the sealed "rm" claim
// alone; a codec whose RememberLifetime was shortened applies it to cookies
// already out, as it does Lifetime.
func TestRememberLifetimeFromClaims(t *testing.T) {
	const day = 24 * time.Hour
	long := fxCodec(t, CodecConfig{Lifetime: day, RememberLifetime: 30 * day})
	short := fxCodec(t, CodecConfig{Lifetime: day, RememberLifetime: 2 * day})
	for _, rm := range []RememberMe{RememberDefault, RememberNo, RememberYes} {
		p := &Payload{ID: "x", IssuedAt: fxNow, LastActivity: fxNow, Expiry: long.ExpiryOf(fxNow, fxNow, rm), RememberMe: rm}
		sealed := fxSeal(t, long, p)
		_, _, err := long.Open(sealed, fxNow.Add(10*day))
		if (err == nil) != (rm == RememberYes) {
			t.Errorf("rm %d at day 10: %v", rm, err)
		}
		if rm == RememberYes {
			fxCheckErr(t, firstErr(short.Open(sealed, fxNow.Add(2*day))), ErrExpired)
			if _, _, err := short.Open(sealed, fxNow.Add(2*day-time.Second)); err != nil {
				t.Errorf("shortened remember lifetime, a second before: %v", err)
			}
		}
	}
	if got := long.Expiry(fxNow, fxNow); !got.Equal(fxNow.Add(day)) {
		t.Errorf("Expiry = %v, want Lifetime from issue", got)
	}
}

func firstErr(_ *Payload, _ OpenInfo, err error) error { return err }
