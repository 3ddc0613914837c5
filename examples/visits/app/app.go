// Package app holds the handlers of the demo server (examples/visits): the
// visit counter, login and logout, the cart and the session inspector. The
// native server (examples/visits) and the edge worker (examples/edge) mount
// the same handlers behind [cookiesession.Manager.Handler].
package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/examples/visits/pages"
)

type app struct {
	sessions *cookiesession.Manager
	mux      *http.ServeMux
}

// New returns the demo's routes. Serve them behind sessions.Handler.
//
// They refuse cross-origin POSTs with a 403 (http.CrossOriginProtection)
// before a handler touches the session: a form on another site cannot log
// the visitor in as someone else or empty the cart. SameSite=Lax alone does
// not stop a sibling subdomain or another port, nor a login posted by a
// visitor who has no cookie yet.
func New(sessions *cookiesession.Manager) http.Handler {
	a := &app{sessions: sessions, mux: http.NewServeMux()}
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("GET /login", a.loginForm)
	a.mux.HandleFunc("POST /login", a.login)
	a.mux.HandleFunc("POST /logout", a.logout)
	a.mux.HandleFunc("POST /logout/everywhere", a.logoutEverywhere)
	a.mux.HandleFunc("GET /cart", a.cart)
	a.mux.HandleFunc("POST /cart", a.cartAdd)
	a.mux.HandleFunc("POST /cart/clear", a.cartClear)
	a.mux.HandleFunc("GET /session", a.inspect)
	a.mux.HandleFunc("GET /api/session", a.inspectJSON)
	return http.NewCrossOriginProtection().Handler(a.mux)
}

// home is the visit counter. With ?delay=D (a Go duration, at most
// maxDelay) it answers D late: a way to race two tabs by hand. Load
// /?delay=5s in one tab and, within those seconds, add 50 items to the cart
// in another: the counter's response, sealed from the one-cookie session its
// request carried, lands last and leaves the cart's session.1 in the browser.
// The next request still opens the session (the counter's) and expires
// session.1, which /session shows among the cookies sent. scripts/browser.sh
// plays this race in Chromium.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s := a.sessions.Session(r)
	s.Set("visits", s.GetInt("visits")+1)
	if !delay(r) {
		return
	}
	pages.Render(w, "home", map[string]any{
		"Visits":     s.GetInt("visits"),
		"User":       s.GetString("user"),
		"Flashes":    s.Flashes(),
		"Everywhere": s.Subject() != "" && a.revoker() != nil,
	})
}

// maxDelay bounds the ?delay of the counter, so that a request cannot hold
// a connection for long.
const maxDelay = 5 * time.Second

// delay waits for the request's ?delay (see home), at most maxDelay, and
// reports whether the client is still there to answer.
func delay(r *http.Request) bool {
	d, err := time.ParseDuration(r.URL.Query().Get("delay"))
	if err != nil || d <= 0 {
		return true
	}
	t := time.NewTimer(min(d, maxDelay))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (a *app) loginForm(w http.ResponseWriter, r *http.Request) {
	pages.Render(w, "login", map[string]any{"User": a.sessions.Session(r).GetString("user")})
}

// login renews the session (new identity: defeats fixation) and stores the
// user, as the session's subject too: what "log out everywhere" revokes. It
// asks a browser with DBSC to bind the session to its device key (nothing
// happens unless the Manager has a DeviceBinding: the demo's -https mode).
func (a *app) login(w http.ResponseWriter, r *http.Request) {
	user := strings.TrimSpace(r.FormValue("user"))
	if user == "" || len(user) > 64 {
		http.Error(w, "a user name of 1 to 64 characters, please", http.StatusBadRequest)
		return
	}
	s := a.sessions.Session(r)
	s.Renew()
	if err := s.SetSubject(user); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.Set("user", user)
	s.BindDevice()
	s.RememberMe(r.FormValue("remember") == "on")
	s.AddFlash("Welcome, " + user + ".")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// logout destroys the session, then starts a new one for the flash message.
func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s := a.sessions.Session(r)
	s.Destroy()
	if r.FormValue("flash") != "off" {
		s.AddFlash("You are logged out.")
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// A Revoker revokes a subject's sessions issued before an instant: a
// [*cookiesession.Revocations], or a type that writes the revocation list
// file the server follows and reloads it (examples/visits does).
type Revoker interface {
	Revoke(subject string, at time.Time) error
}

// revoker returns the Manager's revocation source when it can revoke.
func (a *app) revoker() Revoker {
	r, _ := a.sessions.Config().Revocations.(Revoker)
	return r
}

// logoutEverywhere logs the user out of every other browser: it revokes the
// sessions of their subject issued until now, then renews this one, which
// the Manager issues at the revocation's not-before so that it survives it.
func (a *app) logoutEverywhere(w http.ResponseWriter, r *http.Request) {
	s := a.sessions.Session(r)
	revoker := a.revoker()
	if s.Subject() == "" || revoker == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if err := revoker.Revoke(s.Subject(), a.sessions.Config().Now()); err != nil {
		http.Error(w, "revocation not recorded: "+err.Error(), http.StatusInternalServerError)
		return
	}
	s.Renew()
	s.AddFlash("Your other sessions are logged out.")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type item struct {
	SKU   string `json:"sku"`
	Name  string `json:"name"`
	Qty   int    `json:"qty"`
	Added int64  `json:"added"`
}

func (a *app) cart(w http.ResponseWriter, r *http.Request) {
	s := a.sessions.Session(r)
	items, _ := cookiesession.Get[[]item](s, "cart")
	pages.Render(w, "cart", map[string]any{"Items": items, "Flashes": s.Flashes(), "Error": r.URL.Query().Get("error")})
}

// cartAdd adds n items. When the cart no longer fits the cookie budget the
// error is shown and the previous session (and cookie) is kept.
func (a *app) cartAdd(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.FormValue("n"))
	if err != nil || n < 1 || n > 500 {
		n = 1
	}
	s := a.sessions.Session(r)
	items, _ := cookiesession.Get[[]item](s, "cart")
	for i := 0; i < n; i++ {
		k := len(items) + 1
		items = append(items, item{SKU: fmt.Sprintf("SKU-%05d-%x", k, time.Now().UnixNano()&0xffffff), Name: fmt.Sprintf("Item number %d, a fine thing", k), Qty: 1 + k%3, Added: time.Now().Unix()})
	}
	s.Set("cart", items)
	if err := s.Save(); err != nil {
		var size *cookiesession.SizeError
		msg := err.Error()
		if errors.As(err, &size) {
			msg = fmt.Sprintf("The cart no longer fits in the session cookies (%s: %d, budget %d). Your previous cart is kept.", size.What, size.Size, size.Budget)
		}
		if r.Header.Get("Accept") == "application/json" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			json.NewEncoder(w).Encode(map[string]string{"error": msg})
			return
		}
		http.Redirect(w, r, "/cart?error="+url.QueryEscape(msg), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/cart", http.StatusSeeOther)
}

func (a *app) cartClear(w http.ResponseWriter, r *http.Request) {
	a.sessions.Session(r).Delete("cart")
	http.Redirect(w, r, "/cart", http.StatusSeeOther)
}

// sessionReport is what the inspector shows about this request's cookie.
type sessionReport struct {
	ID           string                     `json:"id"`
	New          bool                       `json:"new"`
	KeyID        string                     `json:"kid"`
	Primary      bool                       `json:"primary"`
	IssuedAt     string                     `json:"issued_at"`
	LastActivity string                     `json:"last_activity"`
	ExpiresAt    string                     `json:"expires_at"`
	Chunks       int                        `json:"chunks"`
	Bytes        int                        `json:"bytes"`
	CookieBytes  map[string]int             `json:"cookie_bytes"`
	Compressed   bool                       `json:"compressed"`
	Subject      string                     `json:"subject,omitempty"`
	Device       *cookiesession.DeviceKey   `json:"device,omitempty"` // bound to a device key (DBSC)
	LoadError    string                     `json:"load_error,omitempty"`
	Values       map[string]json.RawMessage `json:"values"`
}

func (a *app) report(r *http.Request) sessionReport {
	s := a.sessions.Session(r)
	info := s.Info()
	rep := sessionReport{
		ID: s.ID(), New: s.IsNew(), KeyID: info.KeyID, Primary: info.Primary,
		Chunks: info.Chunks, Bytes: info.Bytes, Compressed: info.Compressed,
		CookieBytes: map[string]int{}, Values: map[string]json.RawMessage{},
	}
	for _, t := range []struct {
		t   time.Time
		dst *string
	}{{s.IssuedAt(), &rep.IssuedAt}, {s.LastActivity(), &rep.LastActivity}, {s.ExpiresAt(), &rep.ExpiresAt}} {
		if !t.t.IsZero() {
			*t.dst = t.t.UTC().Format(time.RFC3339)
		}
	}
	rep.Subject = s.Subject()
	if dk, ok := s.DeviceKey(); ok {
		rep.Device = &dk
	}
	if err := s.LoadError(); err != nil {
		rep.LoadError = err.Error()
	}
	name := a.sessions.Config().Name
	for _, c := range r.Cookies() {
		if c.Name == name || strings.HasPrefix(c.Name, name+".") {
			rep.CookieBytes[c.Name] = len(c.Name) + 1 + len(c.Value)
		}
	}
	for _, k := range s.Keys() {
		rep.Values[k] = s.Raw(k)
	}
	return rep
}

func (a *app) inspect(w http.ResponseWriter, r *http.Request) {
	pages.Render(w, "session", a.report(r))
}

func (a *app) inspectJSON(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(a.report(r))
}
