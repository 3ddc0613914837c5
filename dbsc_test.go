package cookiesession

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// A software DBSC client: what Chromium does, with a crypto/ecdsa (or RSA)
// key, so that the protocol is tested without a browser.

type dbscDevice struct {
	key crypto.Signer
	alg jose.SignatureAlgorithm
}

func newDevice(t testing.TB) *dbscDevice {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &dbscDevice{k, jose.ES256}
}

// proof signs {"jti": jti} as a dbsc+jwt, with the public key as "jwk" when
// withJWK (registration).
func (d *dbscDevice) proof(t testing.TB, jti string, withJWK bool) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: withJWK}).WithType("dbsc+jwt")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: d.alg, Key: d.key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]string{"jti": jti})
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dbscClock is an injectable clock shared by a test's server.
type dbscClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *dbscClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *dbscClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func newDBSCClock() *dbscClock           { return &dbscClock{t: fxNow} }

// dbscServer is an HTTPS site with a login that binds, a page that says who
// is logged in, and a logout, served in process (handlerTransport) so that
// the tests also run on GOOS=js and wasip1, which have no sockets.
type dbscServer struct {
	URL    string
	h      http.Handler
	m      *Manager
	clock  *dbscClock
	mu     sync.Mutex
	errors []error
}

func newDBSCServer(t *testing.T, db DeviceBinding) *dbscServer {
	t.Helper()
	ds := &dbscServer{clock: newDBSCClock()}
	m, err := New(Config{
		Name:          "__Host-sess",
		Keys:          fxRing12(t),
		Now:           ds.clock.Now,
		DeviceBinding: &db,
		ErrorLog: func(_ *http.Request, err error) {
			ds.mu.Lock()
			ds.errors = append(ds.errors, err)
			ds.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ds.m = m
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		s.Renew()
		s.Set("user", r.FormValue("user"))
		s.BindDevice()
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, m.Session(r).GetString("user"))
	})
	mux.HandleFunc("GET /device", func(w http.ResponseWriter, r *http.Request) {
		dk, _ := m.Session(r).DeviceKey()
		json.NewEncoder(w).Encode(dk)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		m.Session(r).Destroy()
	})
	ds.URL, ds.h = "https://app.example.test:8443", m.Handler(mux)
	return ds
}

// handlerTransport serves a client's requests with a handler, in process, as
// if over TLS.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	sreq := req.Clone(req.Context())
	sreq.Host, sreq.RequestURI, sreq.RemoteAddr = req.URL.Host, req.URL.RequestURI(), "192.0.2.1:4711"
	sreq.TLS = &tls.ConnectionState{HandshakeComplete: true}
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, sreq)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// lastError returns the last error logged, and forgets them all.
func (ds *dbscServer) lastError() error {
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if len(ds.errors) == 0 {
		return nil
	}
	err := ds.errors[len(ds.errors)-1]
	ds.errors = nil
	return err
}

// dbscBrowser is a client with a cookie jar and, once registered, a device.
type dbscBrowser struct {
	t      *testing.T
	srv    *dbscServer
	c      *http.Client
	device *dbscDevice
	id     string // DBSC session identifier
}

func (ds *dbscServer) browser(t *testing.T) *dbscBrowser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: handlerTransport{ds.h}, Jar: jar}
	return &dbscBrowser{t: t, srv: ds, c: c, device: newDevice(t)}
}

func (b *dbscBrowser) do(method, path string, hdr map[string]string) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.srv.URL+path, nil)
	if method == "POST" && strings.HasPrefix(path, "/login") {
		req, _ = http.NewRequest(method, b.srv.URL+path, strings.NewReader("user=alice"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp
}

func body(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	regHeader       = regexp.MustCompile(`^\(([A-Z0-9 ]+)\);path="([^"]+)";challenge="([^"]+)"$`)
	challengeHeader = regexp.MustCompile(`^"([^"]+)";id="([^"]+)"$`)
)

// login logs in and returns the registration header's path and challenge.
func (b *dbscBrowser) login() (path, challenge string) {
	b.t.Helper()
	resp := b.do("POST", "/login", nil)
	body(b.t, resp)
	m := regHeader.FindStringSubmatch(resp.Header.Get("Secure-Session-Registration"))
	if m == nil {
		b.t.Fatalf("login: registration header %q", resp.Header.Get("Secure-Session-Registration"))
	}
	if want := strings.Join(b.srv.m.dbsc.algs, " "); m[1] != want {
		b.t.Errorf("algorithms %q, want %q", m[1], want)
	}
	return m[2], m[3]
}

// register answers the registration with a proof and returns the response.
func (b *dbscBrowser) register(path, proof string) *http.Response {
	return b.do("POST", path, map[string]string{"Secure-Session-Response": proof})
}

type instructions struct {
	ID         string `json:"session_identifier"`
	RefreshURL string `json:"refresh_url"`
	Continue   *bool  `json:"continue"`
	Scope      struct {
		Origin      string `json:"origin"`
		IncludeSite bool   `json:"include_site"`
		Spec        []struct {
			Type, Domain, Path string
		} `json:"scope_specification"`
	} `json:"scope"`
	Credentials []struct {
		Type, Name, Attributes string
	} `json:"credentials"`
}

func decodeInstructions(t testing.TB, resp *http.Response) instructions {
	t.Helper()
	var in instructions
	if err := json.Unmarshal([]byte(body(t, resp)), &in); err != nil {
		t.Fatalf("instructions: %v", err)
	}
	return in
}

// bind logs in and registers the browser's device.
func (b *dbscBrowser) bind() instructions {
	b.t.Helper()
	path, c := b.login()
	resp := b.register(path, b.device.proof(b.t, c, true))
	if resp.StatusCode != 200 {
		b.t.Fatalf("registration: %d %s (%v)", resp.StatusCode, body(b.t, resp), b.srv.lastError())
	}
	in := decodeInstructions(b.t, resp)
	b.id = in.ID
	return in
}

// refresh runs the refresh as Chromium does: without a proof, a 403 with a
// challenge, then with a proof of that challenge.
func (b *dbscBrowser) refresh() *http.Response {
	b.t.Helper()
	resp := b.do("POST", b.srv.m.dbsc.RefreshPath, map[string]string{"Sec-Secure-Session-Id": b.id})
	body(b.t, resp)
	if resp.StatusCode != 403 {
		b.t.Fatalf("refresh without proof: %d, want 403", resp.StatusCode)
	}
	m := challengeHeader.FindStringSubmatch(resp.Header.Get("Secure-Session-Challenge"))
	if m == nil || m[2] != b.id {
		b.t.Fatalf("refresh challenge header %q", resp.Header.Get("Secure-Session-Challenge"))
	}
	return b.do("POST", b.srv.m.dbsc.RefreshPath, map[string]string{
		"Sec-Secure-Session-Id":   b.id,
		"Secure-Session-Response": b.device.proof(b.t, m[1], false),
	})
}

func (b *dbscBrowser) whoami() string {
	b.t.Helper()
	return body(b.t, b.do("GET", "/whoami", nil))
}

// copyCookies gives other a copy of every cookie of b, as an infostealer
// would.
func (b *dbscBrowser) copyCookies(other *dbscBrowser) {
	u, _ := url.Parse(b.srv.URL)
	other.c.Jar.SetCookies(u, b.c.Jar.Cookies(u))
}

func TestDBSCRegisterRefreshAndStolenCopy(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{Exclude: []string{"/static"}})
	b := ds.browser(t)
	in := b.bind()
	host := strings.TrimPrefix(ds.URL, "https://")
	hostname, _, _ := strings.Cut(host, ":")
	if in.ID == "" || in.RefreshURL != "/.cookiesession/dbsc/refresh" || in.Scope.Origin != "https://"+host ||
		in.Scope.IncludeSite || len(in.Scope.Spec) != 1 || in.Scope.Spec[0].Path != "/static" || in.Scope.Spec[0].Domain != hostname {
		t.Errorf("instructions %+v", in)
	}
	if len(in.Credentials) != 1 || in.Credentials[0].Name != "__Host-sess_bound" ||
		in.Credentials[0].Attributes != "Path=/; HttpOnly; Secure; SameSite=Lax" {
		t.Errorf("credentials %+v", in.Credentials)
	}
	if got := b.whoami(); got != "alice" {
		t.Fatalf("bound session: whoami %q", got)
	}
	var dk DeviceKey
	json.Unmarshal([]byte(body(t, b.do("GET", "/device", nil))), &dk)
	thumb, _ := (&jose.JSONWebKey{Key: b.device.key.Public()}).Thumbprint(crypto.SHA256)
	if dk.BindingID != in.ID || dk.Algorithm != "ES256" || dk.Thumbprint != b64.EncodeToString(thumb) {
		t.Errorf("DeviceKey %+v, want binding %s and go-jose's thumbprint %s", dk, in.ID, b64.EncodeToString(thumb))
	}

	thief := ds.browser(t)
	b.copyCookies(thief)
	if got := thief.whoami(); got != "alice" {
		t.Fatalf("copy within the bound cookie's lifetime: whoami %q, want alice", got)
	}

	ds.clock.Add(DefaultBoundCookieLifetime)
	if got := thief.whoami(); got != "" {
		t.Fatalf("copy after the bound cookie's lifetime: whoami %q, want nobody", got)
	}
	if err := ds.lastError(); !errors.Is(err, ErrUnbound) {
		t.Fatalf("copy refused with %v, want ErrUnbound", err)
	}
	if got := b.whoami(); got != "" {
		t.Fatalf("real browser before its refresh: whoami %q", got)
	}
	resp := b.refresh()
	if resp.StatusCode != 200 {
		t.Fatalf("refresh: %d %s (%v)", resp.StatusCode, body(t, resp), ds.lastError())
	}
	if in2 := decodeInstructions(t, resp); in2.ID != b.id {
		t.Errorf("refresh instructions for %q, want %q", in2.ID, b.id)
	}
	if got := b.whoami(); got != "alice" {
		t.Fatalf("real browser after its refresh: whoami %q, want alice", got)
	}
	// The thief can neither refresh (no key) nor register its own key.
	thief.id = b.id
	resp = thief.do("POST", ds.m.dbsc.RefreshPath, map[string]string{"Sec-Secure-Session-Id": b.id})
	c := challengeHeader.FindStringSubmatch(resp.Header.Get("Secure-Session-Challenge"))
	body(t, resp)
	if c == nil {
		t.Fatalf("thief refresh: no challenge")
	}
	resp = thief.do("POST", ds.m.dbsc.RefreshPath, map[string]string{
		"Sec-Secure-Session-Id": b.id, "Secure-Session-Response": thief.device.proof(t, c[1], true)})
	body(t, resp)
	if resp.StatusCode != 403 || !errors.Is(ds.lastError(), ErrDeviceProof) {
		t.Fatalf("thief refresh with its own key: %d, want 403 and ErrDeviceProof", resp.StatusCode)
	}
	resp = thief.register("/.cookiesession/dbsc/register", thief.device.proof(t, c[1], true))
	body(t, resp)
	if resp.StatusCode != 403 {
		t.Fatalf("thief registration over a bound session: %d, want 403", resp.StatusCode)
	}
	if got := thief.whoami(); got != "" {
		t.Fatalf("thief after its attempts: whoami %q", got)
	}
}

func TestDBSCUnboundBrowserKeepsWorking(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{})
	b := ds.browser(t)
	b.login() // ignores the registration header, as a browser without DBSC does
	ds.clock.Add(time.Hour)
	if got := b.whoami(); got != "alice" {
		t.Fatalf("unbound session: whoami %q, want alice", got)
	}
	if err := ds.lastError(); err != nil {
		t.Fatalf("unbound session logged %v", err)
	}
}

func TestDBSCRequireRefusesUnbound(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{Require: true})
	b := ds.browser(t)
	b.login()
	if got := b.whoami(); got != "alice" {
		t.Fatalf("within the registration window: whoami %q", got)
	}
	ds.clock.Add(DefaultChallengeLifetime)
	if got := b.whoami(); got != "" {
		t.Fatalf("unbound past the window with Require: whoami %q", got)
	}
	if err := ds.lastError(); !errors.Is(err, ErrUnbound) {
		t.Fatalf("got %v, want ErrUnbound", err)
	}
}

func TestDBSCAutoBindsNewSessions(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{Auto: true})
	b := ds.browser(t)
	resp := b.do("POST", "/login", nil) // login calls BindDevice too; check a plain first save
	body(t, resp)
	if !regHeader.MatchString(resp.Header.Get("Secure-Session-Registration")) {
		t.Fatalf("Auto: no registration header on a new session")
	}
	resp = b.do("GET", "/whoami", nil)
	body(t, resp)
	if resp.Header.Get("Secure-Session-Registration") != "" {
		t.Fatalf("Auto: registration header on a request that saved nothing")
	}
}

// TestDBSCRaceHealsLostKey replays the race of the registration with a
// navigation: the navigation's response, sealed without the key, lands last.
// The bound cookie brings the key back on the next request.
func TestDBSCRaceHealsLostKey(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{})
	b := ds.browser(t)
	u, _ := url.Parse(ds.URL)
	before := b.c.Jar.Cookies(u) // nothing yet
	_ = before
	path, c := b.login()
	unbound := b.c.Jar.Cookies(u)
	resp := b.register(path, b.device.proof(t, c, true))
	body(t, resp)
	if resp.StatusCode != 200 {
		t.Fatal("registration failed")
	}
	// The racing navigation's response: the session cookie as it was
	// before registration.
	for _, ck := range unbound {
		if ck.Name == "__Host-sess" {
			b.c.Jar.SetCookies(u, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/", Secure: true}})
		}
	}
	resp = b.do("GET", "/whoami", nil)
	if got := body(t, resp); got != "alice" {
		t.Fatalf("after the race: whoami %q", got)
	}
	if !strings.Contains(strings.Join(resp.Header.Values("Set-Cookie"), "\n"), "__Host-sess=") {
		t.Fatalf("the healed session was not sealed again")
	}
	// The key is back in the session: a copy is refused after the bound
	// cookie's lifetime.
	thief := ds.browser(t)
	b.copyCookies(thief)
	ds.clock.Add(DefaultBoundCookieLifetime)
	if got := thief.whoami(); got != "" {
		t.Fatalf("copy of the healed session after the lifetime: whoami %q", got)
	}
}

func TestDBSCLogoutEndsBinding(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{})
	b := ds.browser(t)
	b.bind()
	body(t, b.do("POST", "/logout", nil))
	resp := b.do("POST", ds.m.dbsc.RefreshPath, map[string]string{"Sec-Secure-Session-Id": b.id})
	in := decodeInstructions(t, resp)
	if resp.StatusCode != 200 || in.Continue == nil || *in.Continue || in.ID != b.id {
		t.Fatalf("refresh after logout: %d %+v, want continue:false", resp.StatusCode, in)
	}
}

func TestDBSCRSADevice(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{})
	b := ds.browser(t)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b.device = &dbscDevice{k, jose.RS256}
	b.bind()
	ds.clock.Add(DefaultBoundCookieLifetime)
	if resp := b.refresh(); resp.StatusCode != 200 {
		t.Fatalf("RS256 refresh: %d (%v)", resp.StatusCode, ds.lastError())
	}
	if got := b.whoami(); got != "alice" {
		t.Fatalf("RS256 device: whoami %q", got)
	}
}

// TestDBSCHostileProofs feeds the registration and refresh endpoints proofs
// that must be refused, each with ErrDeviceProof and a 403.
func TestDBSCHostileProofs(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{Algorithms: []string{"ES256"}})
	b := ds.browser(t)
	path, c := b.login()
	other := ds.browser(t)
	_, otherC := other.login()

	p256 := b.device.key.(*ecdsa.PrivateKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	sign := func(alg jose.SignatureAlgorithm, key any, opts *jose.SignerOptions, claims string) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
		if err != nil {
			t.Fatalf("signer %s: %v", alg, err)
		}
		jws, err := s.Sign([]byte(claims))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := jws.CompactSerialize()
		return out
	}
	typed := func(embed bool) *jose.SignerOptions {
		return (&jose.SignerOptions{EmbedJWK: embed}).WithType("dbsc+jwt")
	}
	jti := `{"jti":"` + c + `"}`
	good := sign(jose.ES256, p256, typed(true), jti)
	parts := strings.Split(good, ".")
	header := func(h string) string { return b64.EncodeToString([]byte(h)) }
	jwk, _ := json.Marshal(jose.JSONWebKey{Key: p256.Public()})
	privJWK, _ := json.Marshal(jose.JSONWebKey{Key: p256})
	sig, _ := b64.DecodeString(parts[2])
	lastChar := parts[2][len(parts[2])-1]
	nonCanonical := parts[2][:len(parts[2])-1] + string(rune(lastChar+1)) // same bytes, other trailing bits
	if lastChar == 'z' || lastChar == '9' || lastChar == '_' {
		nonCanonical = parts[2][:len(parts[2])-1] + "B"
	}

	cases := []struct{ name, proof string }{
		{"absent", ""},
		{"garbage", "not a jwt"},
		{"huge", strings.Repeat("a", MaxDeviceProofBytes) + ".a.a"},
		{"alg none", header(`{"alg":"none","typ":"dbsc+jwt","jwk":`+string(jwk)+`}`) + "." + parts[1] + "."},
		{"HS256 keyed with the public key", sign(jose.HS256, jwk, (&jose.SignerOptions{}).WithType("dbsc+jwt").WithHeader("jwk", json.RawMessage(jwk)), jti)},
		{"RS256 not allowed here", sign(jose.RS256, rsa2048, typed(true), jti)},
		{"wrong typ", sign(jose.ES256, p256, (&jose.SignerOptions{EmbedJWK: true}).WithType("JWT"), jti)},
		{"no typ", sign(jose.ES256, p256, &jose.SignerOptions{EmbedJWK: true}, jti)},
		{"no jwk", sign(jose.ES256, p256, typed(false), jti)},
		{"private jwk", header(`{"alg":"ES256","typ":"dbsc+jwt","jwk":`+string(privJWK)+`}`) + "." + parts[1] + "." + parts[2]},
		{"P-384 key", sign(jose.ES384, p384, typed(true), jti)},
		{"jwk of another key", header(`{"alg":"ES256","typ":"dbsc+jwt","jwk":`+mustJWK(t, other.device.key.Public())+`}`) + "." + parts[1] + "." + parts[2]},
		{"malformed jwk", header(`{"alg":"ES256","typ":"dbsc+jwt","jwk":{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}}`) + "." + parts[1] + "." + parts[2]},
		{"huge jwk", header(`{"alg":"ES256","typ":"dbsc+jwt","jwk":{"kty":"EC","crv":"P-256","x":"`+strings.Repeat("A", 6000)+`","y":"AA"}}`) + "." + parts[1] + "." + parts[2]},
		{"DER signature", parts[0] + "." + parts[1] + "." + b64.EncodeToString(derSignature(sig))},
		{"non-canonical signature encoding", parts[0] + "." + parts[1] + "." + nonCanonical},
		{"bit flipped in the signature", parts[0] + "." + parts[1] + "." + flipB64(parts[2])},
		{"no jti", sign(jose.ES256, p256, typed(true), `{}`)},
		{"jti of another session", sign(jose.ES256, p256, typed(true), `{"jti":"`+otherC+`"}`)},
		{"jti not a challenge", sign(jose.ES256, p256, typed(true), `{"jti":"hello"}`)},
		{"RSA 1024", sign(jose.RS256, rsa1024, typed(true), jti)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := b.register(path, tc.proof)
			body(t, resp)
			if resp.StatusCode != 403 {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
			err := ds.lastError()
			if !errors.Is(err, ErrDeviceProof) {
				t.Fatalf("logged %v, want ErrDeviceProof", err)
			}
			if strings.Contains(err.Error(), "go-jose") || strings.Contains(err.Error(), "square/go-jose") {
				t.Fatalf("error carries go-jose text: %v", err)
			}
		})
	}
	// An expired challenge; then the good proof still registers within time.
	ds.clock.Add(DefaultChallengeLifetime)
	resp := b.register(path, good)
	body(t, resp)
	if resp.StatusCode != 403 || !errors.Is(ds.lastError(), ErrDeviceProof) {
		t.Fatalf("expired challenge: %d", resp.StatusCode)
	}
}

// TestDBSCChallengeUseAndBinding checks that a registration challenge is no
// refresh challenge, and a refresh challenge of one binding none of another.
func TestDBSCChallengeUseAndBinding(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{})
	b := ds.browser(t)
	path, regChallenge := b.login()
	resp := b.register(path, b.device.proof(t, regChallenge, true))
	b.id = decodeInstructions(t, resp).ID
	other := ds.browser(t)
	other.bind()

	refresh := func(jti string) int {
		resp := b.do("POST", ds.m.dbsc.RefreshPath, map[string]string{
			"Sec-Secure-Session-Id": b.id, "Secure-Session-Response": b.device.proof(t, jti, false)})
		body(t, resp)
		return resp.StatusCode
	}
	if got := refresh(regChallenge); got != 403 {
		t.Errorf("registration challenge used to refresh: %d, want 403", got)
	}
	resp = other.do("POST", ds.m.dbsc.RefreshPath, map[string]string{"Sec-Secure-Session-Id": other.id})
	otherChallenge := challengeHeader.FindStringSubmatch(resp.Header.Get("Secure-Session-Challenge"))[1]
	body(t, resp)
	if got := refresh(otherChallenge); got != 403 {
		t.Errorf("another binding's challenge: %d, want 403", got)
	}
	// The id header naming another binding ends nothing of this session.
	resp = b.do("POST", ds.m.dbsc.RefreshPath, map[string]string{"Sec-Secure-Session-Id": other.id})
	if in := decodeInstructions(t, resp); in.Continue == nil || *in.Continue {
		t.Errorf("refresh naming another binding: %+v, want continue:false", in)
	}
	if got := b.whoami(); got != "alice" {
		t.Errorf("whoami %q after the refused refreshes", got)
	}
}

// TestDBSCBoundCookieOfAnotherSession swaps bound cookies between two bound
// sessions: each is refused.
func TestDBSCBoundCookieOfAnotherSession(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{})
	a, b := ds.browser(t), ds.browser(t)
	a.bind()
	b.bind()
	u, _ := url.Parse(ds.URL)
	var aBound, bBound *http.Cookie
	for _, c := range a.c.Jar.Cookies(u) {
		if c.Name == "__Host-sess_bound" {
			aBound = c
		}
	}
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "__Host-sess_bound" {
			bBound = c
		}
	}
	a.c.Jar.SetCookies(u, []*http.Cookie{{Name: bBound.Name, Value: bBound.Value, Path: "/", Secure: true}})
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: aBound.Name, Value: aBound.Value, Path: "/", Secure: true}})
	if got := a.whoami(); got != "" || !errors.Is(ds.lastError(), ErrUnbound) {
		t.Fatalf("a with b's bound cookie: whoami %q", got)
	}
	if got := b.whoami(); got != "" {
		t.Fatalf("b with a's bound cookie: whoami %q", got)
	}
}

func TestDBSCConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg Config
		db  DeviceBinding
	}{
		"insecure":         {Config{Insecure: true}, DeviceBinding{}},
		"same paths":       {Config{}, DeviceBinding{RegistrationPath: "/x", RefreshPath: "/x"}},
		"relative path":    {Config{}, DeviceBinding{RefreshPath: "refresh"}},
		"quote in path":    {Config{}, DeviceBinding{Exclude: []string{`/a"b`}}},
		"cookie collision": {Config{Name: "s"}, DeviceBinding{CookieName: "s.1"}},
		"short lifetime":   {Config{}, DeviceBinding{CookieLifetime: time.Second}},
		"long challenge":   {Config{}, DeviceBinding{ChallengeLifetime: time.Hour}},
		"no ES256":         {Config{}, DeviceBinding{Algorithms: []string{"RS256"}}},
		"unknown alg":      {Config{}, DeviceBinding{Algorithms: []string{"ES256", "HS256"}}},
		"http origin":      {Config{}, DeviceBinding{Origin: "http://example.com"}},
	} {
		cfg := tc.cfg
		cfg.Keys = fxRing12(t)
		cfg.DeviceBinding = &tc.db
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: got %v, want ErrConfig", name, err)
		}
	}
}

func mustJWK(t testing.TB, pub crypto.PublicKey) string {
	b, err := json.Marshal(jose.JSONWebKey{Key: pub})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// derSignature re-encodes a raw r||s ECDSA signature as ASN.1 DER, as a
// client using the wrong encoding would send it.
func derSignature(raw []byte) []byte {
	enc := func(n []byte) []byte {
		for len(n) > 1 && n[0] == 0 {
			n = n[1:]
		}
		if n[0]&0x80 != 0 {
			n = append([]byte{0}, n...)
		}
		return append([]byte{2, byte(len(n))}, n...)
	}
	seq := append(enc(raw[:32]), enc(raw[32:])...)
	return append([]byte{0x30, byte(len(seq))}, seq...)
}

func flipB64(s string) string {
	b, _ := b64.DecodeString(s)
	b[len(b)/2] ^= 1
	return b64.EncodeToString(b)
}

// FuzzDeviceProof feeds verifyProof hostile tokens, at registration (key
// from the jwk header) and at refresh (the sealed key). It must never panic,
// refuse with ErrDeviceProof only, and accept only what go-jose verifies with
// the key it reports.
func FuzzDeviceProof(f *testing.F) {
	dev := newDevice(f)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	rdev := &dbscDevice{rsaKey, jose.RS256}
	for _, d := range []*dbscDevice{dev, rdev} {
		f.Add(d.proof(f, "challenge", true), false)
		f.Add(d.proof(f, "challenge", false), true)
		f.Add(d.proof(f, strings.Repeat("c", 300), true), true)
	}
	f.Add("eyJhbGciOiJub25lIn0.eyJqdGkiOiJ4In0.", false)
	f.Add("..", true)
	f.Add("", false)
	sealed, err := encodeDeviceKey("ES256", dev.key.Public())
	if err != nil {
		f.Fatal(err)
	}
	dk := "YmluZA." + sealed
	algs := []string{"ES256", "RS256"}
	f.Fuzz(func(t *testing.T, token string, refresh bool) {
		var key string
		if refresh {
			key = dk
		}
		p, err := verifyProof(token, algs, key)
		if err != nil {
			if !errors.Is(err, ErrDeviceProof) || p != nil {
				t.Fatalf("verifyProof: %v, %v: want nil and ErrDeviceProof", p, err)
			}
			return
		}
		if p.jti == "" {
			t.Fatal("accepted a proof without jti")
		}
		if refresh && p.key != sealed {
			t.Fatalf("refresh accepted key %q, sealed %q", p.key, sealed)
		}
		alg, pub, err := parseDeviceKey(p.key)
		if err != nil {
			t.Fatalf("accepted key %q does not parse: %v", p.key, err)
		}
		jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			t.Fatalf("go-jose does not parse an accepted proof: %v", err)
		}
		if _, err := jws.Verify(pub); err != nil {
			t.Fatalf("go-jose does not verify an accepted proof: %v", err)
		}
	})
}

// TestDBSCBoundMaxAgeWithinSealedExpiry: the browser must drop the bound
// cookie no later than the server stops accepting it, or it sends a cookie
// that is refused instead of refreshing first (seen in Chromium with
// issued-at truncated to the second and a full Max-Age).
func TestDBSCBoundMaxAgeWithinSealedExpiry(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{})
	ds.clock.Add(999 * time.Millisecond)
	b := ds.browser(t)
	path, c := b.login()
	resp := b.register(path, b.device.proof(t, c, true))
	body(t, resp)
	for _, ck := range resp.Cookies() {
		if ck.Name != "__Host-sess_bound" {
			continue
		}
		p, _, err := ds.m.dbsc.bound.Open(ck.Value, ds.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if dropped := ds.clock.Now().Add(time.Duration(ck.MaxAge) * time.Second); dropped.After(p.Expiry) {
			t.Fatalf("Max-Age %d: the browser keeps the cookie until %v, sealed expiry %v", ck.MaxAge, dropped, p.Expiry)
		}
		return
	}
	t.Fatal("no bound cookie set")
}

// TestDeviceKeyClaimRoundTrip: a payload with every optional claim seals and
// opens with the device key intact, through the fast parser and the general
// one, which agree.
func TestDeviceKeyClaimRoundTrip(t *testing.T) {
	dk := "YmluZA." + mustDeviceKey(t, newDevice(t))
	p := fxPayload(t, fxSmallValues())
	p.RememberMe, p.Subject, p.DeviceKey = RememberYes, "user-42", dk
	c := fxCodec(t, CodecConfig{})
	sealed, err := c.Seal(p)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := c.Open(sealed, fxNow)
	if err != nil || got.DeviceKey != dk || got.Subject != "user-42" {
		t.Fatalf("opened %+v, %v", got, err)
	}
	data := appendPayload(nil, p)
	var w, a Payload
	if _, ok := parseWritten(data, &w); !ok {
		t.Fatalf("parseWritten refused %s", data)
	}
	spaced := strings.ReplaceAll(string(data), `,"dk":`, `, "dk" : `)
	if _, err := parseAny([]byte(spaced), &a); err != nil || a.DeviceKey != dk || w.DeviceKey != dk {
		t.Fatalf("parseAny: %v; device keys %q, %q", err, a.DeviceKey, w.DeviceKey)
	}
	for _, bad := range []string{"", "YmluZA.ES256.AA", "YmluZA.HS256.AA.AA", "a b.ES256.AA.AA", "YmluZA.ES256.A=.AA"} {
		p.DeviceKey = bad
		if bad != "" {
			if _, err := c.Seal(p); err == nil {
				t.Errorf("Seal accepted device key %q", bad)
			}
		}
	}
}

func mustDeviceKey(t *testing.T, d *dbscDevice) string {
	k, err := encodeDeviceKey("ES256", d.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDBSCEndpointsArePostOnly(t *testing.T) {
	ds := newDBSCServer(t, DeviceBinding{})
	b := ds.browser(t)
	for _, p := range []string{ds.m.dbsc.RegistrationPath, ds.m.dbsc.RefreshPath} {
		resp := b.do("GET", p, nil)
		body(t, resp)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Errorf("GET %s: %d, Allow %q", p, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}
