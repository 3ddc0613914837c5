// Package httpfunc is the visit counter as one plain http.HandlerFunc, for
// platforms that call a function with a ResponseWriter and a Request: Vercel
// Go functions, Google Cloud Functions, or any server behind the AWS Lambda
// Web Adapter. The key ring comes from the COOKIESESSION_KEYS environment
// variable (a JWK Set, shared by every instance).
package httpfunc

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/cookiesession/cookiesession"
)

// sessions is built once per instance, on the first request.
var sessions = sync.OnceValues(func() (*cookiesession.Manager, error) {
	keys, err := cookiesession.KeyRingFromEnv("COOKIESESSION_KEYS")
	if err != nil {
		return nil, err
	}
	return cookiesession.New(cookiesession.Config{Keys: keys})
})

// crossOrigin refuses browsers' cross-origin requests other than GET, HEAD
// and OPTIONS: a page of another origin cannot post here (CSRF).
var crossOrigin = http.NewCrossOriginProtection()

// Handler counts the visits of one browser.
func Handler(w http.ResponseWriter, r *http.Request) {
	if err := crossOrigin.Check(r); err != nil {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	m, err := sessions()
	if err != nil {
		slog.Error("cookiesession not configured", "err", err)
		http.Error(w, "session keys are not configured", http.StatusInternalServerError)
		return
	}
	s, err := m.Load(r) // a refused cookie gives a fresh session and an error for the logs
	if err != nil {
		slog.Warn("session cookie refused", "err", err)
	}
	s.Set("visits", s.GetInt("visits")+1)
	if err := m.Save(w, s); err != nil { // before the first byte of the body
		http.Error(w, "session too large", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "visits: %d\n", s.GetInt("visits"))
}
