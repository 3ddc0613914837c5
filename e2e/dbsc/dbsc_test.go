package dbsc

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/examples/visits/app"
)

// boundLifetime is the bound cookie's lifetime in this test: short, so that
// the run waits for it a few times and stays within CI's budget. Override it
// with DBSC_BOUND_SECONDS for a longer run.
func boundLifetime(t *testing.T) time.Duration {
	if v := os.Getenv("DBSC_BOUND_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 {
			t.Fatalf("DBSC_BOUND_SECONDS=%q: want a whole number of seconds, at least 10", v)
		}
		return time.Duration(n) * time.Second
	}
	return 15 * time.Second
}

// site is the application under test: a login that asks for binding, a page
// that says who is logged in, and what the server saw of registration and
// refresh.
type site struct {
	*httptest.Server
	m *cookiesession.Manager

	mu      sync.Mutex
	refused []error
	hits    map[string]int // registration and refresh requests, by "path status"
}

func newSite(t *testing.T, lifetime time.Duration) *site {
	s := &site{hits: map[string]int{}}
	keys, err := cookiesession.GenerateKey("e2e")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(keys)
	if err != nil {
		t.Fatal(err)
	}
	s.m, err = cookiesession.New(cookiesession.Config{
		Name:          "__Host-session",
		Keys:          ring,
		DeviceBinding: &cookiesession.DeviceBinding{CookieLifetime: lifetime, Exclude: []string{"/static"}},
		ErrorLog: func(_ *http.Request, err error) {
			s.mu.Lock()
			s.refused = append(s.refused, err)
			s.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		ss := s.m.Session(r)
		ss.Renew()
		ss.Set("user", r.FormValue("user"))
		ss.BindDevice()
		io.WriteString(w, "<!doctype html><title>in</title><p id=who>logged in</p>")
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		who := s.m.Session(r).GetString("user")
		if who == "" {
			who = "nobody"
		}
		fmt.Fprintf(w, "<!doctype html><title>who</title><p id=who>%s</p>", who)
	})
	mux.HandleFunc("GET /device", func(w http.ResponseWriter, r *http.Request) {
		dk, _ := s.m.Session(r).DeviceKey()
		json.NewEncoder(w).Encode(dk)
	})
	h := s.m.Handler(mux)
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		h.ServeHTTP(rec, r)
		if strings.HasPrefix(r.URL.Path, "/.cookiesession/dbsc/") {
			s.mu.Lock()
			s.hits[r.URL.Path[len("/.cookiesession/dbsc/"):]+" "+strconv.Itoa(rec.status)]++
			s.mu.Unlock()
		}
	}))
	s.StartTLS() // 127.0.0.1 with httptest's certificate, which has that IP in its SANs
	t.Cleanup(s.Close)
	return s
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }

func (s *site) count(key string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.hits[key] }

// spki is the base64 SHA-256 of the server certificate's public key, for
// --ignore-certificate-errors-spki-list.
func (s *site) spki() string {
	cert, err := x509.ParseCertificate(s.TLS.Certificates[0].Certificate[0])
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// chrome is one headless Chromium process.
type chrome struct {
	t       *testing.T
	ctx     context.Context
	version string
	events  chan *network.EventDeviceBoundSessionEventOccurred
}

const dbscFeatures = "DeviceBoundSessions,EnableBoundSessionCredentialsSoftwareKeysForManualTesting"

func startChrome(t *testing.T, s *site, dbsc bool) *chrome {
	exe := os.Getenv("CHROMIUM")
	if exe == "" {
		var err error
		if exe, err = exec.LookPath("chromium"); err != nil {
			t.Fatal("chromium not found: install Debian's chromium or set $CHROMIUM (this test is the proof: it never skips)")
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", "new"),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("ignore-certificate-errors-spki-list", s.spki()),
	}
	if dbsc {
		opts = append(opts, chromedp.Flag("enable-features", dbscFeatures))
	}
	root, cancelRoot := context.WithTimeout(context.Background(), 5*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelCtx(); cancelAlloc(); cancelRoot() })
	v, err := chromedp.CallBrowser(ctx, cdpbrowser.GetVersion, cdp.Empty{})
	if err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	c := &chrome{t: t, ctx: ctx, version: v.Product}
	c.listen()
	return c
}

// listen enables the DBSC events of the context's tab.
func (c *chrome) listen() {
	c.events = make(chan *network.EventDeviceBoundSessionEventOccurred, 64)
	if err := chromedp.Listen(c.ctx, func(ev any) {
		if e, ok := ev.(*network.EventDeviceBoundSessionEventOccurred); ok {
			select {
			case c.events <- e:
			default:
			}
		}
	}); err != nil {
		c.t.Fatal(err)
	}
	if _, err := chromedp.Call(c.ctx, network.Enable, network.EnableParams{}); err != nil {
		c.t.Fatal(err)
	}
	if _, err := chromedp.Call(c.ctx, network.EnableDeviceBoundSessions, network.EnableDeviceBoundSessionsParams{Enable: true}); err != nil {
		c.t.Fatalf("Network.enableDeviceBoundSessions: %v", err)
	}
}

// profile returns a second, separate profile (browser context) of the same
// process: its own cookies and its own DBSC sessions.
func (c *chrome) profile() *chrome {
	ctx, cancel := chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext())
	c.t.Cleanup(cancel)
	p := &chrome{t: c.t, ctx: ctx, version: c.version}
	p.listen()
	return p
}

// page loads url and returns the text of #who and how long the load took.
func (c *chrome) page(url string) (string, time.Duration) {
	c.t.Helper()
	start := time.Now()
	if err := chromedp.Do(c.ctx, chromedp.Navigate(url)); err != nil {
		c.t.Fatalf("load %s: %v", url, err)
	}
	took := time.Since(start)
	text, err := chromedp.Run(c.ctx, chromedp.Text(chromedp.CSS("#who")))
	if err != nil {
		c.t.Fatalf("read %s: %v", url, err)
	}
	return text, took
}

// event waits for a DBSC event that match accepts.
func (c *chrome) event(what string, timeout time.Duration, match func(*network.EventDeviceBoundSessionEventOccurred) bool) *network.EventDeviceBoundSessionEventOccurred {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e := <-c.events:
			if match(e) {
				return e
			}
			c.t.Logf("DBSC event (not %s): %s", what, eventString(e))
		case <-deadline:
			c.t.Fatalf("no DBSC %s event within %v", what, timeout)
		}
	}
}

// drain returns the DBSC events not read yet.
func (c *chrome) drain() string {
	var out []string
	for {
		select {
		case e := <-c.events:
			out = append(out, eventString(e))
		default:
			return strings.Join(out, "\n")
		}
	}
}

func eventString(e *network.EventDeviceBoundSessionEventOccurred) string {
	b, _ := json.Marshal(e)
	return string(b)
}

func (c *chrome) cookies() []*network.Cookie {
	res, err := chromedp.CallBrowser(c.ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		c.t.Fatal(err)
	}
	return res.Cookies
}

// TestDeviceBoundSessionInChromium runs DBSC end to end. Chromium re-signs
// before every request while the bound cookie expires within about two
// minutes, and refuses to sign past a quota (SigningQuotaExceeded after six
// signings within a minute here), so the real browser makes as few requests
// as the checks need; the copy is probed from the second profile, which signs
// nothing.
func TestDeviceBoundSessionInChromium(t *testing.T) {
	lifetime := boundLifetime(t)
	s := newSite(t, lifetime)
	a := startChrome(t, s, true)
	t.Logf("dbsc: %s, bound cookie lifetime %v", a.version, lifetime)

	// A browser without DBSC logs in first; it is checked at the end, past
	// the bound cookie's lifetime.
	plain := startChrome(t, s, false)
	if who, _ := plain.page(s.URL + "/login?user=bob"); who != "logged in" {
		t.Fatalf("plain login: %q", who)
	}

	// 1. Login asks for binding; Chromium registers its software key.
	if who, _ := a.page(s.URL + "/login?user=alice"); who != "logged in" {
		t.Fatalf("login page: %q", who)
	}
	created := a.event("creation", 30*time.Second, func(e *network.EventDeviceBoundSessionEventOccurred) bool {
		return e.CreationEventDetails != nil
	})
	if !created.Succeeded || s.count("register 200") != 1 {
		t.Fatalf("registration failed: %s (server: hits %v, refused %v)", eventString(created), s.hits, s.refused)
	}

	// 2. A second profile gets a copy of every cookie of the first.
	thief := a.profile()
	var copies []*network.CookieParam
	for _, c := range a.cookies() {
		copies = append(copies, &network.CookieParam{Name: c.Name, Value: c.Value, URL: s.URL + "/", Path: c.Path,
			Secure: c.Secure, HTTPOnly: c.HTTPOnly, SameSite: c.SameSite})
	}
	copied := time.Now()
	if _, err := chromedp.CallBrowser(thief.ctx, storage.SetCookies, storage.SetCookiesParams{Cookies: copies,
		BrowserContextID: chromedp.FromContext(thief.ctx).BrowserContextID}); err != nil {
		t.Fatal(err)
	}
	if who, _ := thief.page(s.URL + "/whoami"); who != "alice" {
		t.Fatalf("the copy right after copying: %q, want alice", who)
	}
	// The copy holds the bound session: it shows the device key it is bound to.
	if err := chromedp.Do(thief.ctx, chromedp.Navigate(s.URL+"/device")); err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Run(thief.ctx, chromedp.Text(chromedp.CSS("body")))
	var dk cookiesession.DeviceKey
	if err != nil || json.Unmarshal([]byte(res), &dk) != nil || dk.BindingID != created.SessionID {
		t.Fatalf("device key %q (%v), DBSC session %q", res, err, created.SessionID)
	}
	fmt.Printf("dbsc check: registered (%s, key thumbprint %s, session %s): ok\n", dk.Algorithm, dk.Thumbprint, dk.BindingID)

	// 3. The copy works until its bound cookie expires, then never again.
	var refusedAfter time.Duration
	for deadline := copied.Add(lifetime + 10*time.Second); ; {
		time.Sleep(time.Second)
		if who, _ := thief.page(s.URL + "/whoami"); who == "nobody" {
			refusedAfter = time.Since(copied)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the copy still works %v after copying (bound lifetime %v)", time.Since(copied), lifetime)
		}
	}
	if refusedAfter > lifetime+2*time.Second {
		t.Fatalf("the copy was refused only %v after copying, bound lifetime %v", refusedAfter, lifetime)
	}

	// 4. Chromium holds the real browser's next request, refreshes (403 with
	// a challenge, then a signed proof) and sends it with the new cookie.
	who, waited := a.page(s.URL + "/whoami")
	if who != "alice" {
		t.Fatalf("the real browser after its bound cookie expired: %q, want alice (server: hits %v, refused %v; events: %s)",
			who, s.hits, s.refused, a.drain())
	}
	if s.count("refresh 200") == 0 || s.count("refresh 403") == 0 {
		t.Fatalf("no refresh reached the server: %v", s.hits)
	}
	fmt.Printf("dbsc check: refreshed after the bound cookie expired (the held request waited %.2fs; %d challenges, %d refreshes): ok\n",
		waited.Seconds(), s.count("refresh 403"), s.count("refresh 200"))
	fmt.Printf("dbsc check: a copy of every cookie in a second profile worked, then was refused %.1fs after the copy (bound lifetime %v) while the real browser stays logged in: ok\n",
		refusedAfter.Seconds(), lifetime)
	if who, _ := thief.page(s.URL + "/whoami"); who != "nobody" {
		t.Fatalf("the copy after the real browser refreshed: %q", who)
	}

	// 5. A browser without DBSC keeps its unbound session as before.
	if who, _ := plain.page(s.URL + "/whoami"); who != "bob" {
		t.Fatalf("browser without DBSC, past the bound lifetime: %q, want bob", who)
	}
	if len(plain.drain()) != 0 {
		t.Fatalf("DBSC events in the browser without DBSC")
	}
	fmt.Printf("dbsc check: a browser without DBSC keeps its unbound session past the bound lifetime: ok\n")
	fmt.Printf("dbsc: ran %s\n", a.version)
}

// TestDemoLoginBindsInChromium: the demo's own login form (examples/visits,
// as its -https mode configures it) binds the session in Chromium.
func TestDemoLoginBindsInChromium(t *testing.T) {
	key, err := cookiesession.GenerateKey("demo")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(cookiesession.Config{Keys: ring, Revocations: cookiesession.NewRevocations(nil),
		DeviceBinding: &cookiesession.DeviceBinding{Exclude: []string{"/favicon.ico"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(m.Handler(app.New(m)))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	a := startChrome(t, &site{Server: srv, m: m}, true)
	if err := chromedp.Do(a.ctx, chromedp.Navigate(srv.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(a.ctx, chromedp.SetValue(chromedp.CSS("#user-input"), "ada")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(a.ctx, chromedp.Click(chromedp.CSS("#login"))); err != nil {
		t.Fatal(err)
	}
	created := a.event("creation", 30*time.Second, func(e *network.EventDeviceBoundSessionEventOccurred) bool {
		return e.CreationEventDetails != nil
	})
	if !created.Succeeded || created.CreationEventDetails.NewSession == nil ||
		created.CreationEventDetails.NewSession.CookieCravings[0].Name != "session_bound" {
		t.Fatalf("the demo's login did not bind: %s", eventString(created))
	}
	if err := chromedp.Do(a.ctx, chromedp.Navigate(srv.URL+"/session")); err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(a.ctx, chromedp.Text(chromedp.CSS("#device")))
	if err != nil || !strings.HasPrefix(shown, "ES256, thumbprint ") {
		t.Fatalf("the demo's inspector shows device %q (%v)", shown, err)
	}
	fmt.Printf("dbsc check: the demo's login form (its -https mode) binds the session, DBSC session %s; its inspector shows %s: ok\n", created.SessionID, shown)
}
