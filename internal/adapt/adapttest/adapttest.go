// Package adapttest holds the helpers that the tests of the framework
// adapters share: a Manager with a recorded ErrorLog, one request through a
// handler, the session cookie of a response.
package adapttest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/cookiesessiontest"
)

// ErrLog records what a Manager reports to Config.ErrorLog.
type ErrLog struct {
	mu   sync.Mutex
	errs []error
}

// Record is a Config.ErrorLog.
func (l *ErrLog) Record(_ *http.Request, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

// Has reports whether an error matching target was recorded.
func (l *ErrLog) Has(target error) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// Errors returns what was recorded.
func (l *ErrLog) Errors() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}

// Manager is cookiesessiontest.NewManager (a new ring, a fixed clock) with
// an ErrorLog that records, unless cfg sets one.
func Manager(t testing.TB, cfg cookiesession.Config) (*cookiesession.Manager, *ErrLog) {
	t.Helper()
	log := &ErrLog{}
	if cfg.ErrorLog == nil {
		cfg.ErrorLog = log.Record
	}
	m, _ := cookiesessiontest.NewManager(t, cfg)
	return m, log
}

// Get sends GET https://example.com+path with the Cookie header cookie (none
// when "") to h.
func Get(h http.Handler, path, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "https://example.com"+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// SessionCookie returns "session=VALUE" of the session cookie that rec
// sets, or "" when it sets none (an expired one does not count).
func SessionCookie(rec *httptest.ResponseRecorder) string {
	for _, c := range rec.Result().Cookies() {
		if c.Name == cookiesession.DefaultName && c.MaxAge >= 0 {
			return c.Name + "=" + c.Value
		}
	}
	return ""
}

// Open returns the session that the cookie header carries.
func Open(t testing.TB, m *cookiesession.Manager, cookie string) *cookiesession.Session {
	t.Helper()
	s, err := m.LoadHeader(cookie)
	if err != nil {
		t.Fatalf("LoadHeader: %v", err)
	}
	return s
}

// BigValue is a value no session of the default budget holds, compressed
// or not.
func BigValue(t testing.TB) string {
	b := make([]byte, 6000)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
