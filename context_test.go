package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type ctxKey struct{}

// ctxGreeting is code below a handler: it has a context, not a request.
func ctxGreeting(ctx context.Context, m *Manager) (string, error) {
	s, err := m.SessionFrom(ctx)
	if err != nil {
		return "", err
	}
	s.Set("greeted", s.GetInt("greeted")+1)
	return fmt.Sprintf("hello %s (%d)", s.GetString("user"), s.GetInt("greeted")), nil
}

// TestMiddlewareSessionFromContext: a function that only has the request's
// context, or one derived from it, reaches the request's session, and its
// changes are saved with the response.
func TestMiddlewareSessionFromContext(t *testing.T) {
	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/greet", func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), ctxKey{}, "other middleware"), time.Minute)
			defer cancel()
			msg, err := ctxGreeting(ctx, m)
			if err != nil {
				t.Errorf("SessionFrom in a handler: %v", err)
			}
			if s, _ := m.SessionFrom(ctx); s != m.Session(r) {
				t.Error("SessionFrom and Session return different sessions")
			}
			fmt.Fprint(w, msg)
		})
	})
	env.get("/set?user=cleo")
	if got := env.get("/greet").body; got != "hello cleo (1)" {
		t.Errorf("first greeting %q", got)
	}
	resp := env.get("/greet")
	if resp.body != "hello cleo (2)" {
		t.Errorf("second greeting %q: the change made through the context was not saved", resp.body)
	}
	checkSession(t, resp, 1)
	env.log.expectNone(t)
}

// TestSessionFromOutsideHandler: a context that did not come through the
// manager's Handler is ErrNoSession, never a panic or another manager's
// session.
func TestSessionFromOutsideHandler(t *testing.T) {
	m1, _, _ := e2eManager(t, Config{Name: "a"})
	m2, _, _ := e2eManager(t, Config{Name: "b"})
	if s, err := m1.SessionFrom(context.Background()); s != nil || !errors.Is(err, ErrNoSession) {
		t.Errorf("background context: %v, %v", s, err)
	}
	var err error
	m2.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err = m1.SessionFrom(r.Context())
	})).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	if !errors.Is(err, ErrNoSession) {
		t.Errorf("another manager's request: %v", err)
	}
	func() {
		defer func() {
			if msg := fmt.Sprint(recover()); msg == "<nil>" || !strings.Contains(msg, "wrap the handler with Manager.Handler") {
				t.Errorf("Session outside Handler panicked with %q, want the fix named", msg)
			}
		}()
		m1.Session(httptest.NewRequest(http.MethodGet, "/", nil))
	}()
}
