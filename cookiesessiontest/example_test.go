package cookiesessiontest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/cookiesessiontest"
)

// addToCart is the handler under test.
func addToCart(sessions *cookiesession.Manager) http.Handler {
	return sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		if s.GetString("user") == "" {
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		s.Set("items", s.GetInt("items")+1)
	}))
}

// TestAddToCart is the README's handler test.
func TestAddToCart(t *testing.T) {
	sessions, clock := cookiesessiontest.NewManager(t, cookiesession.Config{Lifetime: time.Hour})

	rec := httptest.NewRecorder()
	addToCart(sessions).ServeHTTP(rec, cookiesessiontest.NewRequest(t, sessions, "POST", "/cart", map[string]any{"user": "ada", "items": 2}))
	if s := cookiesessiontest.ResponseSession(t, sessions, rec.Result()); s.GetInt("items") != 3 {
		t.Errorf("items = %d, want 3", s.GetInt("items"))
	}

	req := cookiesessiontest.NewRequest(t, sessions, "POST", "/cart", map[string]any{"user": "ada"})
	clock.Advance(time.Hour) // the session has expired
	rec = httptest.NewRecorder()
	addToCart(sessions).ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("expired session: %d, want 401", rec.Code)
	}
}
