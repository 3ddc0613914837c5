package adapt_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/internal/adapt"
	"github.com/cookiesession/cookiesession/internal/adapt/adapttest"
)

func newManager(t *testing.T) *cookiesession.Manager {
	m, _ := adapttest.Manager(t, cookiesession.Config{})
	return m
}

// run serves one request through Manager.Handler and an adapt.Writer, the
// way an adapter does, with handle as the framework's handler.
func run(t *testing.T, m *cookiesession.Manager, handle func(w http.ResponseWriter, st *adapt.State)) (*httptest.ResponseRecorder, []error) {
	t.Helper()
	var reported []error
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := adapt.NewState(m, r, func(err error) { reported = append(reported, err) })
		handle(&adapt.Writer{ResponseWriter: w, State: st}, st)
		_ = st.Save()
	})).ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	return rec, reported
}

func TestSavedBeforeTheFirstByte(t *testing.T) {
	m := newManager(t)
	for name, send := range map[string]func(w http.ResponseWriter){
		"WriteHeader": func(w http.ResponseWriter) { w.WriteHeader(201) },
		"Write":       func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) },
		"Flush":       func(w http.ResponseWriter) { _ = http.NewResponseController(w).Flush() },
		"nothing":     func(http.ResponseWriter) {},
	} {
		t.Run(name, func(t *testing.T) {
			rec, reported := run(t, m, func(w http.ResponseWriter, st *adapt.State) {
				st.Session().Set("user", "ada")
				send(w)
			})
			if len(reported) != 0 || len(rec.Result().Cookies()) != 1 {
				t.Fatalf("reported %v, cookies %v", reported, rec.Result().Cookies())
			}
		})
	}
}

func TestSaveErrorDropsTheResponse(t *testing.T) {
	m := newManager(t)
	big := make([]byte, 6000)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	rec, reported := run(t, m, func(w http.ResponseWriter, st *adapt.State) {
		st.Session().Set("big", hex.EncodeToString(big))
		w.WriteHeader(200)
		if _, err := w.Write([]byte("body")); !errors.Is(err, cookiesession.ErrTooLarge) {
			t.Errorf("Write: %v", err)
		}
		if err := http.NewResponseController(w).Flush(); !errors.Is(err, cookiesession.ErrTooLarge) {
			t.Errorf("Flush: %v", err)
		}
		if !errors.Is(st.Err(), cookiesession.ErrTooLarge) {
			t.Errorf("Err: %v", st.Err())
		}
	})
	if len(reported) != 1 || !errors.Is(reported[0], cookiesession.ErrTooLarge) {
		t.Fatalf("reported %v", reported)
	}
	if rec.Body.Len() != 0 || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("body %q cookies %v", rec.Body.String(), rec.Result().Cookies())
	}
}

func TestUnloadedSessionIsNotLoaded(t *testing.T) {
	m := newManager(t)
	rec, _ := run(t, m, func(w http.ResponseWriter, st *adapt.State) { _, _ = w.Write([]byte("x")) })
	if rec.Header().Get("Vary") != "" || len(rec.Result().Cookies()) != 0 {
		t.Fatalf("headers %v", rec.Header())
	}
}
