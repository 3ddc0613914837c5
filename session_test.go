package cookiesession

// Tests of the Session API, the Manager's configuration and its low-level
// calls, plus the end-to-end harness (e2e*) that middleware_test.go shares:
// an httptest TLS server, a cookie jar and an injected clock.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// Harness

// e2eStart is where the injected clock starts: a whole second, so that
// truncated claims and Max-Age values are exact.
var e2eStart = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// e2eClock is the injected Config.Now: a test time moved by hand.
type e2eClock struct {
	mu sync.Mutex
	t  time.Time
}

func newE2EClock() *e2eClock { return &e2eClock{t: e2eStart} }

func (c *e2eClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *e2eClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// e2eLog records what Config.ErrorLog receives.
type e2eLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *e2eLog) record(_ *http.Request, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

// take returns the errors logged since the last take.
func (l *e2eLog) take() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	errs := l.errs
	l.errs = nil
	return errs
}

// expectOne checks that exactly one error was logged since the last take and
// that it matches want.
func (l *e2eLog) expectOne(t *testing.T, want error) error {
	t.Helper()
	errs := l.take()
	if len(errs) != 1 || !errors.Is(errs[0], want) {
		t.Fatalf("ErrorLog got %v, want one error matching %v", errs, want)
	}
	return errs[0]
}

func (l *e2eLog) expectNone(t *testing.T) {
	t.Helper()
	if errs := l.take(); len(errs) != 0 {
		t.Fatalf("ErrorLog got %v, want nothing", errs)
	}
}

// e2eKey is a key with a fixed secret derived from its id.
func e2eKey(t testing.TB, id string) Key {
	t.Helper()
	sum := sha256.Sum256([]byte("e2e secret " + id))
	k, err := NewKey(id, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func e2eRing(t testing.TB, ids ...string) *KeyRing {
	t.Helper()
	keys := make([]Key, len(ids))
	for i, id := range ids {
		keys[i] = e2eKey(t, id)
	}
	r, err := NewKeyRing(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// e2eManager returns a manager of cfg with, unless cfg sets them, the ring
// {A}, an injected clock and a recording ErrorLog.
func e2eManager(t testing.TB, cfg Config) (*Manager, *e2eClock, *e2eLog) {
	t.Helper()
	clock, lg := newE2EClock(), &e2eLog{}
	if cfg.Keys == nil {
		cfg.Keys = e2eRing(t, "A")
	}
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	if cfg.ErrorLog == nil {
		cfg.ErrorLog = lg.record
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m, clock, lg
}

// e2eEnv is a server running routes behind the manager's middleware, and a
// client with a cookie jar.
type e2eEnv struct {
	t      *testing.T
	m      *Manager
	clock  *e2eClock
	log    *e2eLog
	srv    *httptest.Server
	u      *url.URL
	jar    *cookiejar.Jar
	client *http.Client // with the jar
	bare   *http.Client // without a jar
}

func newE2E(t *testing.T, cfg Config, routes func(m *Manager, mux *http.ServeMux)) *e2eEnv {
	t.Helper()
	m, clock, lg := e2eManager(t, cfg)
	mux := http.NewServeMux()
	routes(m, mux)
	srv := httptest.NewUnstartedServer(m.Handler(mux))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // panicking handlers, TLS noise
	if cfg.Insecure {
		srv.Start()
	} else {
		srv.StartTLS()
	}
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := *srv.Client()
	client.Jar = jar
	client.Timeout = 30 * time.Second
	bare := *srv.Client()
	bare.Timeout = 30 * time.Second
	return &e2eEnv{t: t, m: m, clock: clock, log: lg, srv: srv, u: u, jar: jar, client: &client, bare: &bare}
}

// e2eResp is a response read to its end.
type e2eResp struct {
	status int
	header http.Header
	body   string
	lines  []string // Set-Cookie
}

func (e *e2eEnv) do(c *http.Client, method, path, cookie string) *e2eResp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return e.send(c, req)
}

// send sends req and reads the response. Every response that sets a cookie
// must keep out of shared caches: Vary: Cookie and Cache-Control: no-store.
func (e *e2eEnv) send(c *http.Client, req *http.Request) *e2eResp {
	e.t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", req.Method, req.URL.Path, err)
	}
	r := &e2eResp{status: resp.StatusCode, header: resp.Header, body: string(body), lines: resp.Header.Values("Set-Cookie")}
	if len(r.lines) > 0 {
		e2eCheckUncacheable(e.t, r.header)
	}
	return r
}

// e2eVary reports whether the Vary header lists field.
func e2eVary(h http.Header, field string) bool {
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), field) {
				return true
			}
		}
	}
	return false
}

func e2eCheckUncacheable(t testing.TB, h http.Header) {
	t.Helper()
	if !e2eVary(h, "Cookie") && !e2eVary(h, "*") {
		t.Errorf("Set-Cookie without Vary: Cookie (Vary %q)", h.Values("Vary"))
	}
	if !strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-store") { // directives are case-insensitive
		t.Errorf("Set-Cookie without Cache-Control: no-store (%q)", h.Get("Cache-Control"))
	}
}

// get requests path with the jar's cookies, storing what the response sets.
func (e *e2eEnv) get(path string) *e2eResp {
	e.t.Helper()
	return e.do(e.client, http.MethodGet, path, "")
}

// getWith requests path with a raw Cookie header and no jar.
func (e *e2eEnv) getWith(path, cookie string) *e2eResp {
	e.t.Helper()
	return e.do(e.bare, http.MethodGet, path, cookie)
}

// jarCookies returns the jar's cookies for the server, name to value.
func (e *e2eEnv) jarCookies() map[string]string {
	out := make(map[string]string)
	for _, c := range e.jar.Cookies(e.u) {
		out[c.Name] = c.Value
	}
	return out
}

func (e *e2eEnv) jarNames() []string {
	var names []string
	for n := range e.jarCookies() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// jarHeader is the Cookie header the jar would send.
func (e *e2eEnv) jarHeader() string {
	var parts []string
	for _, c := range e.jar.Cookies(e.u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// e2eLine splits a Set-Cookie line into its name, value, Max-Age ("" when
// absent) and the other attributes in order.
func e2eLine(t testing.TB, line string) (name, value, maxAge string, attrs []string) {
	t.Helper()
	parts := strings.Split(line, "; ")
	name, value, ok := strings.Cut(parts[0], "=")
	if !ok {
		t.Fatalf("Set-Cookie %q: no name=value", line)
	}
	for _, a := range parts[1:] {
		if v, ok := strings.CutPrefix(a, "Max-Age="); ok {
			if maxAge != "" {
				t.Fatalf("Set-Cookie %q: two Max-Age", line)
			}
			maxAge = v
			continue
		}
		attrs = append(attrs, a)
	}
	if _, err := http.ParseSetCookie(line); err != nil {
		t.Fatalf("Set-Cookie %q does not parse: %v", line, err)
	}
	return name, value, maxAge, attrs
}

// e2eCookieMap parses Set-Cookie lines, name to line; a name set twice fails.
func e2eCookieMap(t testing.TB, lines []string) map[string]string {
	t.Helper()
	out := make(map[string]string)
	for _, l := range lines {
		name, _, _, _ := e2eLine(t, l)
		if _, dup := out[name]; dup {
			t.Fatalf("Set-Cookie for %q twice in %q", name, lines)
		}
		out[name] = l
	}
	return out
}

// e2eExpired reports whether a Set-Cookie line expires its cookie.
func e2eExpired(t testing.TB, line string) bool {
	t.Helper()
	_, value, maxAge, _ := e2eLine(t, line)
	return value == "" && maxAge == "0"
}

// e2eCookieHeader turns Set-Cookie lines into the Cookie header a browser
// would send back (expired cookies left out).
func e2eCookieHeader(t testing.TB, lines []string) string {
	t.Helper()
	var parts []string
	for _, l := range lines {
		if e2eExpired(t, l) {
			continue
		}
		name, value, _, _ := e2eLine(t, l)
		parts = append(parts, name+"="+value)
	}
	return strings.Join(parts, "; ")
}

// e2eKid returns the key id in the protected header of a first cookie value.
func e2eKid(t testing.TB, value string) string {
	t.Helper()
	if len(value) >= 2 && value[1] == '~' {
		value = value[2:]
	}
	seg, _, _ := strings.Cut(value, ".")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("cookie header segment: %v", err)
	}
	var h struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatalf("cookie header %s: %v", raw, err)
	}
	return h.Kid
}

// e2eRandomHex returns n incompressible characters, the same on every run.
func e2eRandomHex(seed uint64, n int) string {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, (n+1)/2)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(b)[:n]
}

// e2eRoundTrip saves s with the low-level calls and loads the result as a
// browser would send it back.
func e2eRoundTrip(t testing.TB, m *Manager, s *Session) *Session {
	t.Helper()
	lines, err := m.SetCookies(s)
	if err != nil {
		t.Fatalf("SetCookies: %v", err)
	}
	if len(lines) == 0 {
		t.Fatal("SetCookies wrote nothing")
	}
	got, err := m.LoadHeader(e2eCookieHeader(t, lines))
	if err != nil {
		t.Fatalf("LoadHeader: %v", err)
	}
	return got
}

// ---------------------------------------------------------------------------
// Configuration

func TestSessionConfigErrors(t *testing.T) {
	ring := e2eRing(t, "A")
	tests := []struct {
		name  string
		cfg   Config
		field string // the message names it
	}{
		{"missing keys", Config{}, "Keys"},
		{"__Host- with Domain", Config{Name: "__Host-s", Domain: "example.com"}, "Domain"},
		{"__Host- with Path", Config{Name: "__Host-s", Path: "/app"}, "Path"},
		{"__Host- Insecure", Config{Name: "__Host-s", Insecure: true}, "Secure"},
		{"__Secure- Insecure", Config{Name: "__Secure-s", Insecure: true}, "__Secure-"},
		{"SameSite=None Insecure", Config{SameSite: http.SameSiteNoneMode, Insecure: true}, "SameSite"},
		{"Partitioned Insecure", Config{Partitioned: true, Insecure: true}, "Partitioned"},
		{"unknown SameSite", Config{SameSite: http.SameSite(9)}, "SameSite"},
		{"Path with ;", Config{Path: "/a;b"}, "Path"},
		{"Domain with control", Config{Domain: "a\nb"}, "Domain"},
		{"HeaderBudget low", Config{Limits: Limits{HeaderBudget: 100}}, "HeaderBudget"},
		{"HeaderBudget high", Config{Limits: Limits{HeaderBudget: MaxHeaderBudget + 1}}, "HeaderBudget"},
		{"MaxChunks high", Config{Limits: Limits{MaxChunks: MaxChunksLimit + 1}}, "MaxChunks"},
		{"MaxChunks negative", Config{Limits: Limits{MaxChunks: -1}}, "MaxChunks"},
		{"ClockSkew high", Config{Limits: Limits{ClockSkew: MaxClockSkew + time.Second}}, "ClockSkew"},
		{"Lifetime high", Config{Lifetime: MaxLifetime + time.Hour}, "Lifetime"},
		{"Lifetime under a second", Config{Lifetime: time.Millisecond}, "Lifetime"},
		{"IdleTimeout > Lifetime", Config{Lifetime: time.Hour, IdleTimeout: 2 * time.Hour}, "IdleTimeout"},
		{"IdleTimeout > default Lifetime", Config{IdleTimeout: DefaultLifetime + time.Second}, "IdleTimeout"},
		{"IdleTimeout negative", Config{IdleTimeout: -time.Second}, "IdleTimeout"},
		{"TouchInterval > IdleTimeout", Config{IdleTimeout: time.Minute, TouchInterval: 2 * time.Minute}, "TouchInterval"},
		{"TouchInterval negative", Config{TouchInterval: -time.Second}, "TouchInterval"},
		{"name with space", Config{Name: "my session"}, "name"},
		{"name with dot", Config{Name: "s.1"}, "name"},
		{"name with =", Config{Name: "a=b"}, "name"},
		{"name with ;", Config{Name: "a;b"}, "name"},
		{"name non-ASCII", Config{Name: "séance"}, "name"},
		{"unknown Mode", Config{Mode: Mode(7)}, "mode"},
		{"Compress in Signed mode", Config{Mode: Signed, Compress: true}, "Compress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if tt.name != "missing keys" {
				cfg.Keys = ring
			}
			m, err := New(cfg)
			if err == nil {
				t.Fatalf("New(%+v) = %v, want an error", tt.cfg, m)
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("error %q does not match ErrConfig", err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.field)) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}

	// The same fields, correct, are accepted.
	for _, cfg := range []Config{
		{Name: "__Host-s"},
		{Name: "__Secure-s", Domain: "example.com", Path: "/app"},
		{SameSite: http.SameSiteNoneMode, Partitioned: true},
		{Insecure: true, SameSite: http.SameSiteStrictMode},
		{Lifetime: time.Hour, IdleTimeout: time.Hour, TouchInterval: time.Hour},
		{Limits: Limits{HeaderBudget: 512, MaxChunks: 1, ClockSkew: -1}},
		{Limits: Limits{HeaderBudget: MaxHeaderBudget, MaxChunks: MaxChunksLimit, ClockSkew: MaxClockSkew}},
		{Mode: Signed},
	} {
		cfg.Keys = ring
		if _, err := New(cfg); err != nil {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
}

func TestSessionConfigDefaults(t *testing.T) {
	m, _, _ := e2eManager(t, Config{IdleTimeout: 10 * time.Minute})
	c := m.Config()
	if c.Name != DefaultName || c.Path != "/" || c.SameSite != http.SameSiteLaxMode ||
		c.Lifetime != DefaultLifetime || c.TouchInterval != time.Minute || c.Purpose != DefaultName ||
		c.Limits.HeaderBudget != DefaultHeaderBudget || c.Limits.MaxChunks != DefaultMaxChunks ||
		c.ErrorHandler == nil || c.ErrorLog == nil || c.Now == nil {
		t.Errorf("defaults not filled in: %+v", c)
	}
}

// ---------------------------------------------------------------------------
// Set-Cookie attributes

func TestSessionCookieAttributes(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		attrs []string // without Max-Age, in order
	}{
		{"defaults", Config{}, []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"}},
		{"Strict", Config{SameSite: http.SameSiteStrictMode}, []string{"Path=/", "HttpOnly", "Secure", "SameSite=Strict"}},
		{"SameSiteDefaultMode is Lax", Config{SameSite: http.SameSiteDefaultMode}, []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"}},
		{"None Partitioned", Config{SameSite: http.SameSiteNoneMode, Partitioned: true},
			[]string{"Path=/", "HttpOnly", "Secure", "SameSite=None", "Partitioned"}},
		{"Path Domain", Config{Path: "/app", Domain: "example.com"},
			[]string{"Path=/app", "Domain=example.com", "HttpOnly", "Secure", "SameSite=Lax"}},
		{"Insecure ScriptAccess", Config{Insecure: true, ScriptAccess: true}, []string{"Path=/", "SameSite=Lax"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clock, _ := e2eManager(t, tt.cfg)
			s, _ := m.LoadHeader()
			s.Set("k", "v")
			lines, err := m.SetCookies(s)
			if err != nil || len(lines) != 1 {
				t.Fatalf("SetCookies = %q, %v; want one line", lines, err)
			}
			name, value, maxAge, attrs := e2eLine(t, lines[0])
			if name != DefaultName || value == "" {
				t.Errorf("cookie %q=%q", name, value)
			}
			if !slices.Equal(attrs, tt.attrs) {
				t.Errorf("attributes %q, want %q", attrs, tt.attrs)
			}
			if want := strconv.Itoa(int(DefaultLifetime / time.Second)); maxAge != want {
				t.Errorf("Max-Age %q, want %q", maxAge, want)
			}
			c, _ := http.ParseSetCookie(lines[0])
			if c.HttpOnly != !tt.cfg.ScriptAccess || c.Secure != !tt.cfg.Insecure || c.Partitioned != tt.cfg.Partitioned {
				t.Errorf("parsed %+v", c)
			}
			// Max-Age follows the sealed expiry.
			got, err := m.LoadHeader(name + "=" + value)
			if err != nil {
				t.Fatal(err)
			}
			if d := got.ExpiresAt().Sub(clock.Now()); d != DefaultLifetime {
				t.Errorf("sealed expiry %v after now, want %v", d, DefaultLifetime)
			}
			// Expired cookies carry the same attributes.
			got.Destroy()
			lines, err = m.SetCookies(got)
			if err != nil || len(lines) != 1 {
				t.Fatalf("Destroy: SetCookies = %q, %v", lines, err)
			}
			_, value, maxAge, attrs = e2eLine(t, lines[0])
			if value != "" || maxAge != "0" || !slices.Equal(attrs, tt.attrs) {
				t.Errorf("expired cookie %q, want attributes %q", lines[0], tt.attrs)
			}
		})
	}
}

func TestSessionMaxAgeFollowsExpiry(t *testing.T) {
	m, clock, _ := e2eManager(t, Config{Lifetime: 2 * time.Hour, IdleTimeout: time.Hour})
	set := func(header string, n int) []string {
		t.Helper()
		s, err := m.LoadHeader(header)
		if err != nil {
			t.Fatalf("LoadHeader: %v", err)
		}
		s.Set("n", n)
		lines, err := m.SetCookies(s)
		if err != nil || len(lines) != 1 {
			t.Fatalf("SetCookies = %q, %v", lines, err)
		}
		return lines
	}
	maxAge := func(lines []string) string {
		_, _, ma, _ := e2eLine(t, lines[0])
		return ma
	}
	lines := set("", 1)
	if got := maxAge(lines); got != "3600" { // the idle window ends first
		t.Errorf("new session: Max-Age %s, want 3600", got)
	}
	clock.Advance(50 * time.Minute)
	lines = set(e2eCookieHeader(t, lines), 2)
	if got := maxAge(lines); got != "3600" { // 50m + 1h < 2h
		t.Errorf("after 50m: Max-Age %s, want 3600", got)
	}
	clock.Advance(50*time.Minute + 500*time.Millisecond) // 1h40m since issue
	lines = set(e2eCookieHeader(t, lines), 3)
	if got := maxAge(lines); got != "1199" { // the absolute lifetime ends first, 1199.5s away
		t.Errorf("after 1h40m: Max-Age %s, want 1199", got)
	}
	s, err := m.LoadHeader(e2eCookieHeader(t, lines))
	if err != nil {
		t.Fatal(err)
	}
	if want := e2eStart.Add(2 * time.Hour); !s.ExpiresAt().Equal(want) {
		t.Errorf("ExpiresAt %v, want %v", s.ExpiresAt(), want)
	}
}

func TestSessionBrowserSessionAndRememberMe(t *testing.T) {
	env := newE2E(t, Config{BrowserSession: true}, func(m *Manager, mux *http.ServeMux) {
		mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
			m.Session(r).Set("n", m.Session(r).GetInt("n")+1)
		})
		mux.HandleFunc("/remember", func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			s.RememberMe(r.URL.Query().Get("on") == "1")
			s.Set("n", s.GetInt("n")+1)
		})
	})
	maxAge := func(resp *e2eResp) string {
		t.Helper()
		if len(resp.lines) != 1 {
			t.Fatalf("Set-Cookie %q, want one line", resp.lines)
		}
		_, _, ma, _ := e2eLine(t, resp.lines[0])
		return ma
	}
	if ma := maxAge(env.get("/set")); ma != "" {
		t.Errorf("BrowserSession: Max-Age=%s, want none", ma)
	}
	if ma := maxAge(env.get("/remember?on=1")); ma != "86400" {
		t.Errorf("RememberMe(true): Max-Age=%q, want 86400", ma)
	}
	// The choice is sealed in the cookie (the rm claim) and kept.
	if ma := maxAge(env.get("/set")); ma != "86400" {
		t.Errorf("after RememberMe(true): Max-Age=%q, want 86400", ma)
	}
	if ma := maxAge(env.get("/remember?on=0")); ma != "" {
		t.Errorf("RememberMe(false): Max-Age=%q, want none", ma)
	}
	if ma := maxAge(env.get("/set")); ma != "" {
		t.Errorf("after RememberMe(false): Max-Age=%q, want none", ma)
	}
	if got := env.get("/set"); len(got.lines) != 1 {
		t.Fatal("no cookie")
	}
	env.log.expectNone(t)

	// RememberMe(false) on a persistent configuration gives a session cookie.
	m, _, _ := e2eManager(t, Config{})
	s, _ := m.LoadHeader()
	s.RememberMe(false)
	s.Set("a", 1)
	s = e2eRoundTrip(t, m, s)
	s.Set("a", 2)
	lines, err := m.SetCookies(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ma, _ := e2eLine(t, lines[0]); ma != "" {
		t.Errorf("RememberMe(false) kept after a round trip: Max-Age=%s, want none", ma)
	}
	// RememberMe with the value it already has changes nothing.
	s = e2eRoundTrip(t, m, s)
	s.RememberMe(false)
	if lines, err := m.SetCookies(s); err != nil || len(lines) != 0 {
		t.Errorf("RememberMe(unchanged) wrote %q, %v", lines, err)
	}
}

// ---------------------------------------------------------------------------
// Values

func TestSessionTypedGetters(t *testing.T) {
	m, _, _ := e2eManager(t, Config{})
	when := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
	const big = int64(1<<62 + 1)
	s, _ := m.LoadHeader()
	for k, v := range map[string]any{
		"i64":   big,
		"min":   int64(math.MinInt64),
		"i":     42,
		"i300":  300,
		"f":     3.25,
		"b":     true,
		"t":     when,
		"bytes": []byte{0, 1, 2, 0xfe, 0xff},
		"s":     "héllo \"quoted\" <tag>",
		"obj":   map[string]any{"x": 1, "y": []int{2, 3}},
		"null":  nil,
	} {
		if err := s.Set(k, v); err != nil {
			t.Fatalf("Set(%q): %v", k, err)
		}
	}
	s = e2eRoundTrip(t, m, s) // through a real cookie

	if got := s.GetInt64("i64"); got != big {
		t.Errorf("GetInt64 = %d, want %d", got, big)
	}
	if got, ok := Get[int64](s, "i64"); !ok || got != big {
		t.Errorf("Get[int64] = %d, %v, want %d", got, ok, big)
	}
	if got := s.GetInt64("min"); got != math.MinInt64 {
		t.Errorf("GetInt64(min) = %d", got)
	}
	if got := s.Get("i64"); got != json.Number("4611686018427387905") {
		t.Errorf("Get = %#v, want json.Number", got)
	}
	if got := s.Get("f"); got != json.Number("3.25") {
		t.Errorf("Get(f) = %#v, want json.Number", got)
	}
	if got, want := s.Get("obj"), map[string]any{"x": json.Number("1"), "y": []any{json.Number("2"), json.Number("3")}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Get(obj) = %#v, want %#v", got, want)
	}
	if got := s.Get("null"); got != nil || !s.Has("null") {
		t.Errorf("Get(null) = %#v, Has %v", got, s.Has("null"))
	}
	if got := s.Get("absent"); got != nil {
		t.Errorf("Get(absent) = %#v", got)
	}
	if got := s.GetInt("i"); got != 42 {
		t.Errorf("GetInt = %d", got)
	}
	if got := s.GetFloat64("f"); got != 3.25 {
		t.Errorf("GetFloat64 = %v", got)
	}
	if got := s.GetFloat64("i"); got != 42 {
		t.Errorf("GetFloat64(int) = %v", got)
	}
	if !s.GetBool("b") || s.GetBool("s") || s.GetBool("absent") {
		t.Error("GetBool")
	}
	if got := s.GetTime("t"); !got.Equal(when) || got.Nanosecond() != when.Nanosecond() {
		t.Errorf("GetTime = %v, want %v", got, when)
	}
	if got := s.GetTime("s"); !got.IsZero() {
		t.Errorf("GetTime(string) = %v", got)
	}
	if got := s.GetBytes("bytes"); !bytes.Equal(got, []byte{0, 1, 2, 0xfe, 0xff}) {
		t.Errorf("GetBytes = %x", got)
	}
	if got := s.GetBytes("absent"); got != nil {
		t.Errorf("GetBytes(absent) = %x", got)
	}
	if got := s.GetString("s"); got != "héllo \"quoted\" <tag>" {
		t.Errorf("GetString = %q", got)
	}
	if got, ok := Get[map[string][]int](s, "obj"); ok {
		t.Errorf("Get[map[string][]int](obj) = %v, true; want false (x is not a list)", got)
	}
	type point struct {
		X int   `json:"x"`
		Y []int `json:"y"`
	}
	if got, ok := Get[point](s, "obj"); !ok || got.X != 1 || !slices.Equal(got.Y, []int{2, 3}) {
		t.Errorf("Get[point] = %+v, %v", got, ok)
	}

	// Wrong types are not decoded and give the zero value.
	if v, ok := Get[int](s, "s"); ok || v != 0 {
		t.Errorf("Get[int](string) = %v, %v", v, ok)
	}
	if v, ok := Get[string](s, "i"); ok || v != "" {
		t.Errorf("Get[string](number) = %q, %v", v, ok)
	}
	if v, ok := Get[int](s, "f"); ok || v != 0 {
		t.Errorf("Get[int](3.25) = %v, %v", v, ok)
	}
	if v, ok := Get[int8](s, "i300"); ok || v != 0 {
		t.Errorf("Get[int8](300) = %v, %v", v, ok)
	}
	if v, ok := Get[bool](s, "absent"); ok || v {
		t.Errorf("Get[bool](absent) = %v, %v", v, ok)
	}
	if got := s.GetInt("s"); got != 0 {
		t.Errorf("GetInt(string) = %d", got)
	}
	if got := s.GetString("i"); got != "" {
		t.Errorf("GetString(number) = %q", got)
	}
	if got := string(s.Raw("i")); got != "42" {
		t.Errorf("Raw = %q", got)
	}
}

func TestSessionSetUnmarshalable(t *testing.T) {
	m, _, _ := e2eManager(t, Config{})
	s, _ := m.LoadHeader()
	s.Set("keep", "me")
	s = e2eRoundTrip(t, m, s)
	for name, v := range map[string]any{
		"channel":  make(chan int),
		"NaN":      math.NaN(),
		"+Inf":     math.Inf(1),
		"func":     func() {},
		"in a map": map[string]any{"c": make(chan int)},
	} {
		if err := s.Set("bad", v); err == nil {
			t.Errorf("Set(%s) succeeded", name)
		}
		if err := s.Set("keep", v); err == nil {
			t.Errorf("Set(keep, %s) succeeded", name)
		}
	}
	if s.Has("bad") || s.Len() != 1 || s.GetString("keep") != "me" {
		t.Errorf("failed Set changed the session: keys %q, keep %q", s.Keys(), s.GetString("keep"))
	}
	if lines, err := m.SetCookies(s); err != nil || len(lines) != 0 {
		t.Errorf("failed Set made the session dirty: %q, %v", lines, err)
	}
}

func TestSessionPopKeysLenClear(t *testing.T) {
	m, _, _ := e2eManager(t, Config{})
	s, _ := m.LoadHeader()
	if s.Len() != 0 || len(s.Keys()) != 0 || s.Has("a") || s.Pop("a") != nil || s.PopString("a") != "" {
		t.Fatal("new session not empty")
	}
	for _, k := range []string{"zeta", "alpha", "mid", "Beta"} {
		s.Set(k, k)
	}
	s.Set("n", 7)
	s.AddFlash("hello")
	s = e2eRoundTrip(t, m, s)
	if got, want := s.Keys(), []string{"Beta", "alpha", "mid", "n", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("Keys = %q, want %q (sorted, no flash key)", got, want)
	}
	if s.Len() != 5 || s.Has(flashKey) {
		t.Errorf("Len = %d, Has(flash) = %v", s.Len(), s.Has(flashKey))
	}
	if got := s.Pop("n"); got != json.Number("7") || s.Has("n") {
		t.Errorf("Pop = %#v, Has after %v", got, s.Has("n"))
	}
	if got := s.Pop("n"); got != nil {
		t.Errorf("second Pop = %#v", got)
	}
	if got := s.PopString("mid"); got != "mid" || s.Has("mid") {
		t.Errorf("PopString = %q", got)
	}
	if got := s.PopString("mid"); got != "" {
		t.Errorf("second PopString = %q", got)
	}
	s.Delete("absent")
	if s.Len() != 3 {
		t.Errorf("Len = %d after pops, want 3", s.Len())
	}
	s = e2eRoundTrip(t, m, s)
	if got := s.Keys(); !slices.Equal(got, []string{"Beta", "alpha", "zeta"}) {
		t.Errorf("Keys after round trip = %q", got)
	}
	id := s.ID()
	s.Clear()
	if s.Len() != 0 || len(s.Keys()) != 0 || s.Flashes() != nil || s.ID() != id {
		t.Errorf("Clear: Len %d, Keys %q, ID changed %v", s.Len(), s.Keys(), s.ID() != id)
	}
	// A cleared session is not worth a cookie: its cookie is expired.
	lines, err := m.SetCookies(s)
	if err != nil || len(lines) != 1 || !e2eExpired(t, lines[0]) {
		t.Errorf("SetCookies after Clear = %q, %v; want one expired cookie", lines, err)
	}
}

func TestSessionFlashes(t *testing.T) {
	m, _, _ := e2eManager(t, Config{})
	s, _ := m.LoadHeader()
	s.Set("user", "bob")
	s.AddFlash("one")
	s.AddFlash("two")
	s = e2eRoundTrip(t, m, s)
	if got := s.Flashes(); !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("Flashes = %q", got)
	}
	if got := s.Flashes(); got != nil {
		t.Errorf("Flashes again = %q", got)
	}
	s = e2eRoundTrip(t, m, s)
	if got := s.Flashes(); got != nil {
		t.Errorf("Flashes after the round trip = %q", got)
	}
	if s.GetString("user") != "bob" {
		t.Error("flashes took a value with them")
	}
}

func TestSessionIdentity(t *testing.T) {
	m, clock, _ := e2eManager(t, Config{})
	s, _ := m.LoadHeader()
	if !s.IsNew() || !s.IssuedAt().IsZero() || !s.ExpiresAt().IsZero() || !s.LastActivity().IsZero() || s.Info() != (OpenInfo{}) {
		t.Fatal("new session has times or info")
	}
	id := s.ID()
	if len(id) != 22 || !validSID(id) {
		t.Fatalf("new session ID %q, want 22 base64url characters", id)
	}
	if s.ID() != id {
		t.Fatal("ID changed between calls")
	}
	s.Set("a", 1)
	s = e2eRoundTrip(t, m, s)
	if s.ID() != id || s.IsNew() || !s.IssuedAt().Equal(e2eStart) || !s.LastActivity().Equal(e2eStart) {
		t.Errorf("loaded: ID %q (want %q), IsNew %v, IssuedAt %v, LastActivity %v", s.ID(), id, s.IsNew(), s.IssuedAt(), s.LastActivity())
	}
	if info := s.Info(); info.KeyID != "A" || !info.Primary || info.Chunks != 1 || info.Bytes == 0 || info.Compressed {
		t.Errorf("Info = %+v", info)
	}

	clock.Advance(time.Hour)
	s.Renew()
	if s.ID() == id || !s.IsNew() || s.GetInt("a") != 1 {
		t.Errorf("Renew: ID %q, IsNew %v, a=%d", s.ID(), s.IsNew(), s.GetInt("a"))
	}
	renewed := s.ID()
	s = e2eRoundTrip(t, m, s)
	if s.ID() != renewed || !s.IssuedAt().Equal(e2eStart.Add(time.Hour)) || s.GetInt("a") != 1 {
		t.Errorf("after Renew: ID %q want %q, IssuedAt %v", s.ID(), renewed, s.IssuedAt())
	}

	// Destroy, then Set: a new session with a new identity.
	s.Destroy()
	if s.Len() != 0 || s.Has("a") {
		t.Error("Destroy kept values")
	}
	s.Set("b", 2)
	if s.ID() == renewed || s.Has("a") || !s.IsNew() {
		t.Errorf("Set after Destroy: ID %q (old %q), a present %v", s.ID(), renewed, s.Has("a"))
	}
	got := e2eRoundTrip(t, m, s)
	if got.ID() != s.ID() || got.Keys()[0] != "b" || got.Len() != 1 {
		t.Errorf("after Destroy+Set: %q %q", got.ID(), got.Keys())
	}
}

// ---------------------------------------------------------------------------
// Low level: Load, LoadHeader, SetCookies, Save

func TestSessionLowLevel(t *testing.T) {
	m, _, lg := e2eManager(t, Config{Limits: Limits{HeaderBudget: 16384}})

	// A chunked session, to load in every form a request may carry it.
	s, _ := m.LoadHeader()
	s.Set("user", "carol")
	s.Set("big", e2eRandomHex(1, 6000))
	lines, err := m.SetCookies(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) < 2 {
		t.Fatalf("want a chunked session, got %d lines", len(lines))
	}
	if again, err := m.SetCookies(s); err != nil || !slices.Equal(again, lines) {
		t.Errorf("SetCookies of an unchanged session sealed again: %v", err)
	}
	var pairs []string // "name=value" of each chunk
	for _, l := range lines {
		name, value, _, _ := e2eLine(t, l)
		if want := ChunkName(DefaultName, len(pairs)); name != want {
			t.Fatalf("line %d names %q, want %q", len(pairs), name, want)
		}
		pairs = append(pairs, name+"="+value)
	}
	check := func(what string, s *Session, err error) {
		t.Helper()
		if err != nil || s.GetString("user") != "carol" || len(s.GetString("big")) != 6000 || s.Info().Chunks != len(pairs) {
			t.Errorf("%s: err %v, user %q, chunks %d", what, err, s.GetString("user"), s.Info().Chunks)
		}
	}
	// One raw Cookie header among other cookies, in any order.
	rev := slices.Clone(pairs)
	slices.Reverse(rev)
	header := "theme=dark; " + strings.Join(rev, "; ") + "; sessionx=1; session_other=2"
	got, err := m.LoadHeader(header)
	check("raw header", got, err)
	// API Gateway v2: a list of single "name=value" cookies.
	got, err = m.LoadHeader(append([]string{"theme=dark"}, pairs...)...)
	check("single cookies", got, err)
	// A request with several Cookie header lines (HTTP/2 sends them so).
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Add("Cookie", "theme=dark")
	for _, p := range pairs {
		r.Header.Add("Cookie", p)
	}
	got, err = m.Load(r)
	check("Load", got, err)
	lg.expectNone(t) // the low-level calls return their errors, they do not log

	// Unmodified: no lines, and Save adds no header at all.
	if l, err := m.SetCookies(got); err != nil || l != nil {
		t.Errorf("unmodified session: %q, %v", l, err)
	}
	rec := httptest.NewRecorder()
	if err := m.Save(rec, got); err != nil || len(rec.Header()) != 0 {
		t.Errorf("Save of an unmodified session: %v, headers %v", err, rec.Header())
	}

	// Modified: Save adds the lines, Vary and Cache-Control.
	got.Set("user", "dave")
	rec = httptest.NewRecorder()
	rec.Header().Set("Vary", "Accept-Encoding")
	if err := m.Save(rec, got); err != nil {
		t.Fatal(err)
	}
	h := rec.Header()
	if n := len(h.Values("Set-Cookie")); n != len(pairs) {
		t.Errorf("Save added %d Set-Cookie, want %d", n, len(pairs))
	}
	if v := h.Values("Vary"); !slices.Equal(v, []string{"Accept-Encoding", "Cookie"}) {
		t.Errorf("Vary %q", v)
	}
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	again, err := m.LoadHeader(e2eCookieHeader(t, h.Values("Set-Cookie")))
	if err != nil || again.GetString("user") != "dave" {
		t.Errorf("reload after Save: %v, user %q", err, again.GetString("user"))
	}

	// Destroyed: every chunk the request carried is expired, with the
	// cookie's own attributes.
	got.Destroy()
	l, err := m.SetCookies(got)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range pairs {
		want = append(want, ChunkName(DefaultName, i)+"=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax")
	}
	if !slices.Equal(l, want) {
		t.Errorf("Destroy lines %q, want %q", l, want)
	}

	// A new session with nothing in it is not written.
	empty, err := m.LoadHeader("theme=dark")
	if err != nil || !empty.IsNew() {
		t.Fatalf("no cookie: %v", err)
	}
	if l, err := m.SetCookies(empty); err != nil || len(l) != 0 {
		t.Errorf("empty new session: %q, %v", l, err)
	}
	empty.Set("x", 1)
	empty.Delete("x")
	if l, err := m.SetCookies(empty); err != nil || len(l) != 0 {
		t.Errorf("new session emptied again: %q, %v", l, err)
	}
	rec = httptest.NewRecorder()
	if err := m.Save(rec, empty); err != nil || len(rec.Header()) != 0 {
		t.Errorf("Save of an empty session: %v, %v", err, rec.Header())
	}

	// Bad cookies: ErrInvalid, an empty session, the stale cookies expired.
	for _, tc := range []struct{ header, expire string }{
		{"session=not-a-cookie", "session"},
		{"session=" + strings.TrimPrefix(pairs[0], "session=") + "; session=x", "session"},
		{"session.1=abc", "session.1"},
	} {
		bad, err := m.LoadHeader(tc.header)
		if !errors.Is(err, ErrInvalid) || !errors.Is(bad.LoadError(), ErrInvalid) || bad.Len() != 0 {
			t.Errorf("%q: err %v, LoadError %v, Len %d", tc.header, err, bad.LoadError(), bad.Len())
		}
		l, err := m.SetCookies(bad)
		if err != nil || len(l) != 1 || !strings.HasPrefix(l[0], tc.expire+"=; Max-Age=0;") {
			t.Errorf("%q: SetCookies = %q, %v; want %s expired", tc.header, l, err, tc.expire)
		}
	}

	// A session of another manager is a wiring mistake.
	other, _, _ := e2eManager(t, Config{})
	func() {
		defer func() {
			if recover() == nil {
				t.Error("SetCookies with another manager's session did not panic")
			}
		}()
		other.SetCookies(got)
	}()
}

func TestSessionLoadExpired(t *testing.T) {
	m, clock, _ := e2eManager(t, Config{Lifetime: time.Hour})
	s, _ := m.LoadHeader()
	s.Set("a", 1)
	lines, _ := m.SetCookies(s)
	clock.Advance(time.Hour)
	got, err := m.LoadHeader(e2eCookieHeader(t, lines))
	if !errors.Is(err, ErrExpired) || errors.Is(err, ErrInvalid) || got.Len() != 0 || !got.IsNew() {
		t.Errorf("expired cookie: %v, Len %d", err, got.Len())
	}
	if l, _ := m.SetCookies(got); len(l) != 1 || !e2eExpired(t, l[0]) {
		t.Errorf("expired cookie not expired on the response: %q", l)
	}
}

// TestSessionValuesFromAnotherWriter loads a cookie whose values another JOSE
// writer laid out in its own order, with white space: the session sees them
// sorted, reads and changes them, and seals them back in this package's
// layout.
func TestSessionValuesFromAnotherWriter(t *testing.T) {
	m, clock, _ := e2eManager(t, Config{})
	now := clock.Now().Unix()
	plaintext := fxClaims(now-60, now-60, now+3600, `{ "zeta" : 1 , "alpha":"a", "mid":[1,2], "Beta":true }`)
	sealed, err := fxSealPlaintext(m.codec, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.LoadHeader(DefaultName + "=" + sealed)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Keys(), []string{"Beta", "alpha", "mid", "zeta"}; !slices.Equal(got, want) {
		t.Fatalf("Keys %q, want %q", got, want)
	}
	if s.GetInt("zeta") != 1 || s.GetString("alpha") != "a" || string(s.Raw("mid")) != "[1,2]" || !s.GetBool("Beta") || s.Len() != 4 {
		t.Fatalf("values read back wrong: %s %s %s", s.Raw("zeta"), s.Raw("alpha"), s.Raw("mid"))
	}
	s.Set("beta", 2)
	s.Delete("zeta")
	lines, err := m.SetCookies(s)
	if err != nil || len(lines) != 1 {
		t.Fatalf("SetCookies: %q, %v", lines, err)
	}
	_, value, _, _ := e2eLine(t, lines[0])
	var info OpenInfo
	out, err := m.codec.open(value, &info)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"v":{"Beta":true,"alpha":"a","beta":2,"mid":[1,2]}}`; !strings.HasSuffix(string(out), want) {
		t.Fatalf("sealed %s, want it to end with %s", out, want)
	}
	// The loaded session was not changed by the edits of the new one.
	if again, _ := m.LoadHeader(DefaultName + "=" + sealed); again.GetInt("zeta") != 1 || again.Has("beta") {
		t.Fatal("the first cookie's values changed")
	}
}

// TestSessionOneCookieBoundary seals sessions of every size around the one
// cookie limit: each line stays within MaxCookieBytes, the split happens
// exactly where Codec.Encode splits, and every size loads back.
func TestSessionOneCookieBoundary(t *testing.T) {
	m, _, _ := e2eManager(t, Config{})
	counts := map[int]int{} // chunks: sizes that took that many
	for n := 2600; n <= 3200; n++ {
		s, _ := m.LoadHeader()
		s.Set("v", strings.Repeat("a", n))
		lines, err := m.SetCookies(s)
		if err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		var pairs []string
		for _, l := range lines {
			if len(l) > MaxCookieBytes {
				t.Fatalf("%d: a line of %d bytes", n, len(l))
			}
			name, value, _, _ := e2eLine(t, l)
			pairs = append(pairs, name+"="+value)
		}
		// The same payload through Encode: the same number of chunks.
		var p Payload
		p.ID, p.IssuedAt, p.LastActivity, p.Expiry = s.ID(), s.IssuedAt(), s.IssuedAt(), s.ExpiresAt()
		p.Values = map[string]json.RawMessage{"v": s.Raw("v")}
		chunks, err := m.codec.Encode(&p, m.attrLen)
		if err != nil || len(chunks) != len(pairs) {
			t.Fatalf("%d: Encode gives %d chunks (%v), SetCookies %d", n, len(chunks), err, len(pairs))
		}
		got, err := m.LoadHeader(strings.Join(pairs, "; "))
		if err != nil || len(got.GetString("v")) != n {
			t.Fatalf("%d: loads back %d bytes, %v", n, len(got.GetString("v")), err)
		}
		counts[len(pairs)]++
	}
	if counts[1] == 0 || counts[2] == 0 {
		t.Fatalf("the sizes did not straddle the limit: %v", counts)
	}
}
