package cookiesession

import (
	"crypto/sha256"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Device Bound Session Credentials (DBSC, W3C webappsec-dbsc), without a
// server store. The browser keeps a private key the page cannot read; the
// server keeps nothing:
//
//   - the session cookie seals the device's public key (the "dk" claim, see
//     [Payload]) next to a random binding id, the DBSC session identifier;
//   - the bound cookie is a short-lived sealed value naming that binding id and
//     key, re-issued only to a request signed with the device's private key;
//   - each challenge the browser must sign is a sealed value too, naming the
//     session (registration) or the binding (refresh), void after
//     DeviceBinding.ChallengeLifetime.
//
// A session that carries a device key opens only with a valid bound cookie
// for that binding and key ([ErrUnbound] otherwise). A copy of the cookies
// therefore works until the bound cookie it contains expires, and never
// again: minting a new one takes the device's key.

// The protocol's header names (Chromium honours these, not the older Sec-Session-*).
const (
	headerRegistration = "Secure-Session-Registration"
	headerResponse     = "Secure-Session-Response"
	headerChallenge    = "Secure-Session-Challenge"
	headerSessionID    = "Sec-Secure-Session-Id"
)

// DeviceBinding configures device-bound sessions, see [Config.DeviceBinding].
// The zero value of each field is its default. Browsers without DBSC ignore
// the registration header and keep unbound sessions, unless Require is set.
type DeviceBinding struct {
	// RegistrationPath is the path, on this site, where the browser posts its
	// new device key. Manager.Handler serves it. The default value is
	// "/.cookiesession/dbsc/register".
	RegistrationPath string

	// RefreshPath is the path where the browser proves possession of its key
	// to get a new bound cookie. Manager.Handler serves it. The default value
	// is "/.cookiesession/dbsc/refresh".
	RefreshPath string

	// CookieName is the bound cookie's name. The default value is the session
	// cookie's name followed by "_bound" ("__Host-session_bound").
	CookieName string

	// CookieLifetime is how long a bound cookie lives: how long a copy of
	// every cookie keeps working on another machine. The browser refreshes it
	// before it expires. The default value is DefaultBoundCookieLifetime (5
	// minutes); from MinBoundCookieLifetime to MaxBoundCookieLifetime.
	CookieLifetime time.Duration

	// ChallengeLifetime is how long a challenge may be answered. A stateless
	// challenge can be answered more than once within it; see Security
	// properties in the package doc. The default value is
	// DefaultChallengeLifetime (2 minutes); from 10 seconds to
	// MaxChallengeLifetime.
	ChallengeLifetime time.Duration

	// Origin is the scope's origin ("https://example.com"). The default value
	// is "https://" and the request's Host.
	Origin string

	// IncludeSite extends the scope to the whole site (every subdomain). The
	// default value is false: the origin only.
	IncludeSite bool

	// Exclude lists path prefixes outside the scope, such as static files: the
	// browser does not hold requests to them while it refreshes. The session
	// is still refused there without a valid bound cookie. The default value
	// is none.
	Exclude []string

	// Algorithms the device may sign with: "ES256" (required, always
	// accepted) and "RS256". The default value is both.
	Algorithms []string

	// Auto starts binding for every new session on the response that first
	// saves it. The default value is false: call [Session.BindDevice], for
	// example at login next to Renew.
	Auto bool

	// Require refuses ([ErrUnbound]) a session that has no device key once
	// ChallengeLifetime has passed since it was issued: only browsers with
	// DBSC keep a session. The default value is false.
	Require bool
}

// deviceBinding is a validated DeviceBinding with what it needs at run time.
type deviceBinding struct {
	DeviceBinding
	challenges *Codec // purpose "<purpose>/dbsc-challenge"
	bound      *Codec // purpose "<purpose>/dbsc-bound", named CookieName
	algs       []string
	boundAttrs string // the bound cookie's attributes, without Max-Age: "Path=/; HttpOnly; Secure; SameSite=Lax"
	regPrefix  string // "(ES256 RS256);path=\"/…\";challenge=\""
}

// newDeviceBinding validates d for the manager m, whose other fields are
// final.
func newDeviceBinding(d DeviceBinding, m *Manager) (*deviceBinding, error) {
	cfg := m.cfg
	if cfg.Insecure {
		return nil, configErrorf("DeviceBinding needs Secure cookies: browsers run DBSC over HTTPS only")
	}
	if d.RegistrationPath == "" {
		d.RegistrationPath = "/.cookiesession/dbsc/register"
	}
	if d.RefreshPath == "" {
		d.RefreshPath = "/.cookiesession/dbsc/refresh"
	}
	for _, p := range append([]string{d.RegistrationPath, d.RefreshPath}, d.Exclude...) {
		if !strings.HasPrefix(p, "/") || !validAttr(p) || strings.ContainsAny(p, `" `) {
			return nil, configErrorf("DeviceBinding path %q must start with / and be printable ASCII without quotes or spaces", p)
		}
	}
	if d.RegistrationPath == d.RefreshPath {
		return nil, configErrorf("DeviceBinding: RegistrationPath and RefreshPath are the same")
	}
	if d.CookieName == "" {
		d.CookieName = cfg.Name + "_bound"
	}
	if d.CookieName == cfg.Name || chunkIndex(cfg.Name, d.CookieName) >= 0 {
		return nil, configErrorf("DeviceBinding.CookieName %q collides with the session cookie", d.CookieName)
	}
	switch {
	case d.CookieLifetime == 0:
		d.CookieLifetime = DefaultBoundCookieLifetime
	case d.CookieLifetime < MinBoundCookieLifetime || d.CookieLifetime > MaxBoundCookieLifetime:
		return nil, configErrorf("DeviceBinding.CookieLifetime %s is outside %s..%s", durationText(d.CookieLifetime), durationText(MinBoundCookieLifetime), durationText(MaxBoundCookieLifetime))
	}
	switch {
	case d.ChallengeLifetime == 0:
		d.ChallengeLifetime = DefaultChallengeLifetime
	case d.ChallengeLifetime < 10*time.Second || d.ChallengeLifetime > MaxChallengeLifetime:
		return nil, configErrorf("DeviceBinding.ChallengeLifetime %s is outside 10 seconds..%s", durationText(d.ChallengeLifetime), durationText(MaxChallengeLifetime))
	}
	if d.Origin != "" && (!strings.HasPrefix(d.Origin, "https://") || strings.ContainsAny(d.Origin[len("https://"):], "/?#") || !validAttr(d.Origin)) {
		return nil, configErrorf("DeviceBinding.Origin %q is not an https origin", d.Origin)
	}
	b := &deviceBinding{DeviceBinding: d, algs: []string{"ES256", "RS256"}}
	if len(d.Algorithms) > 0 {
		b.algs = nil
		for _, a := range d.Algorithms {
			if a != "ES256" && a != "RS256" {
				return nil, configErrorf("DeviceBinding algorithm %q: only ES256 and RS256", a)
			}
			if !contains(b.algs, a) {
				b.algs = append(b.algs, a)
			}
		}
		if !contains(b.algs, "ES256") {
			return nil, configErrorf("DeviceBinding.Algorithms must include ES256, the one every browser supports")
		}
	}
	var err error
	codec := func(name, purpose string, lifetime time.Duration) *Codec {
		if err != nil {
			return nil
		}
		var c *Codec
		c, err = NewCodec(CodecConfig{Name: name, Purpose: cfg.Purpose + purpose, Keys: cfg.Keys, Mode: cfg.Mode, Lifetime: lifetime,
			Limits: Limits{ClockSkew: cfg.Limits.ClockSkew}})
		return c
	}
	b.challenges = codec("dbsc", "/dbsc-challenge", d.ChallengeLifetime)
	b.bound = codec(d.CookieName, "/dbsc-bound", d.CookieLifetime)
	if err != nil {
		return nil, err
	}
	b.boundAttrs = strings.TrimPrefix(strings.Replace(m.attrs, "; Partitioned", "", 1), "; ")
	b.regPrefix = "(" + strings.Join(b.algs, " ") + `);path="` + d.RegistrationPath + `";challenge="`
	return b, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// BindDevice asks the browser, on the response that saves this session, to
// bind it to a device key (DBSC): call it at login, next to Renew. Browsers
// without DBSC ignore the request; the session then stays unbound. It does
// nothing for a session bound already, or when the Manager has no
// DeviceBinding.
func (s *Session) BindDevice() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m.dbsc != nil && s.st.device == "" && !s.st.bind {
		s.change()
		s.st.bind = true
	}
}

// A DeviceKey describes the device key a session is bound to.
type DeviceKey struct {
	BindingID  string // the DBSC session identifier, random, new at each registration
	Algorithm  string // "ES256" or "RS256"
	Thumbprint string // the key's JWK thumbprint (RFC 7638, SHA-256, base64url)
}

// DeviceKey returns the device key the session is bound to, and false when
// it is not bound.
func (s *Session) DeviceKey() (DeviceKey, bool) {
	s.mu.Lock()
	dk := s.st.device
	s.mu.Unlock()
	if dk == "" {
		return DeviceKey{}, false
	}
	parts := strings.SplitN(dk, ".", 4) // checked by validDeviceKey when opened or bound
	// The required members in lexicographic order (RFC 7638 section 3.2).
	jwk := `{"e":"` + parts[3] + `","kty":"RSA","n":"` + parts[2] + `"}`
	if parts[1] == "ES256" {
		jwk = `{"crv":"P-256","kty":"EC","x":"` + parts[2] + `","y":"` + parts[3] + `"}`
	}
	sum := sha256.Sum256([]byte(jwk))
	return DeviceKey{BindingID: parts[0], Algorithm: parts[1], Thumbprint: b64.EncodeToString(sum[:])}, true
}

// DeviceBound reports whether the session is bound to a device key: it opened
// with a valid bound cookie, or was bound on this request.
func (s *Session) DeviceBound() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.device != ""
}

// addRegistration adds to h the Secure-Session-Registration header that the
// response saving s must carry, if any.
func (s *Session) addRegistration(h http.Header) {
	if s.m.dbsc == nil {
		return
	}
	s.mu.Lock()
	v := s.m.dbsc.registrationHeader(s, s.m.now())
	s.mu.Unlock()
	if v != "" {
		h.Set(headerRegistration, v)
	}
}

// registrationHeader returns the Secure-Session-Registration value that the
// response saving s must carry, or "". s's lock is held and s is saved.
func (b *deviceBinding) registrationHeader(s *Session, now time.Time) string {
	if !s.st.bind || s.st.device != "" || s.st.issuedAt.IsZero() {
		return ""
	}
	c, err := b.challenge(s.st.id, useRegister, now)
	if err != nil {
		s.m.cfg.ErrorLog(nil, err)
		return ""
	}
	return b.regPrefix + c + `"`
}

// The two uses of a challenge, sealed in it so that one never stands for the
// other.
const (
	useRegister = `"register"`
	useRefresh  = `"refresh"`
)

// challenge seals a challenge for id (a session id for registration, a
// binding id for refresh).
func (b *deviceBinding) challenge(id, use string, now time.Time) (string, error) {
	iat := now.Truncate(time.Second)
	return b.challenges.Seal(&Payload{ID: id, IssuedAt: iat, LastActivity: iat,
		Expiry: iat.Add(b.ChallengeLifetime), Values: map[string]json.RawMessage{"use": json.RawMessage(use)}})
}

// checkChallenge opens a challenge and checks that it was made for id and use.
func (b *deviceBinding) checkChallenge(c, id, use string, now time.Time) error {
	p, _, err := b.challenges.Open(c, now)
	switch {
	case err != nil:
		return proofErrorf("challenge: %v", err)
	case p.ID != id || string(p.Values["use"]) != use:
		return proofErrorf("challenge made for another session or use")
	}
	return nil
}

// boundLine returns the Set-Cookie line of a new bound cookie for the
// session sid bound with the device key dk.
func (b *deviceBinding) boundLine(sid, dk string, now time.Time) (string, error) {
	bid, _, _ := strings.Cut(dk, ".")
	iat := now.Truncate(time.Second)
	exp := iat.Add(b.CookieLifetime)
	sealed, err := b.bound.Seal(&Payload{ID: bid, IssuedAt: iat, LastActivity: iat, Expiry: exp,
		Values: map[string]json.RawMessage{"dk": jsonString(dk), "sid": jsonString(sid)}})
	if err != nil {
		return "", err
	}
	// Max-Age rounds down, so that the browser drops the cookie no later
	// than the sealed expiry: a cookie the browser still sends but the server
	// refuses would not make it refresh first.
	maxAge := int(exp.Sub(now) / time.Second)
	return b.CookieName + "=" + sealed + "; Max-Age=" + strconv.Itoa(maxAge) + "; " + b.boundAttrs, nil
}

func jsonString(s string) json.RawMessage { return appendJSONString(nil, s) }

// openBound opens the request's bound cookie and returns the device key and
// session id it names. ok is false when there is none that opens.
func (b *deviceBinding) openBound(headers []string, now time.Time) (dk, sid string, ok bool) {
	values := CookieLookup(b.CookieName, headers...)(b.CookieName)
	if len(values) != 1 {
		return "", "", false
	}
	p, _, err := b.bound.Open(values[0], now)
	if err != nil {
		return "", "", false
	}
	if json.Unmarshal(p.Values["dk"], &dk) != nil || json.Unmarshal(p.Values["sid"], &sid) != nil {
		return "", "", false
	}
	if bid, _, _ := strings.Cut(dk, "."); bid != p.ID {
		return "", "", false
	}
	return dk, sid, true
}

// check applies device binding to the session s just loaded from headers,
// whose lock is not held yet (s is not shared). It returns ErrUnbound for a
// bound session without its bound cookie, and then empties s but leaves the
// client's cookies alone: the real browser may simply be refreshing.
func (b *deviceBinding) check(s *Session, headers []string, now time.Time) error {
	dk, sid, ok := b.openBound(headers, now)
	switch {
	case s.st.device != "" && ok && dk == s.st.device:
		return nil
	case s.st.device != "":
		err := &reasonError{ErrUnbound, "no valid bound cookie for the session's device key", ReasonBoundCookie}
		*s = Session{m: s.m, loadErr: err}
		return err
	case ok && sid == s.st.id:
		// The session lost its key to a response that raced the
		// registration (last write wins) while its bound cookie lives: the
		// key comes back from the bound cookie, and is sealed again.
		s.st.device, s.saved.device, s.reseal = dk, dk, true
		return nil
	case b.Require && !now.Before(s.st.issuedAt.Add(b.ChallengeLifetime)):
		err := &reasonError{ErrUnbound, "session not bound to a device (DeviceBinding.Require)", ReasonNotBound}
		*s = Session{m: s.m, loadErr: err}
		return err
	}
	return nil
}

// serve answers the registration and refresh requests, and reports whether
// r was one of them.
func (b *deviceBinding) serve(m *Manager, w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != b.RegistrationPath && r.URL.Path != b.RefreshPath {
		return false
	}
	switch {
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	case r.URL.Path == b.RegistrationPath:
		b.register(m, w, r)
	default:
		b.refresh(m, w, r)
	}
	return true
}

// register binds the request's session to the device key of its proof.
func (b *deviceBinding) register(m *Manager, w http.ResponseWriter, r *http.Request) {
	now := m.now()
	refuse := func(err error) {
		m.cfg.ErrorLog(r, err)
		noStore(w.Header())
		http.Error(w, "device registration refused", http.StatusForbidden)
	}
	s, err := m.loadFrom(r, r.Header["Cookie"], false)
	if err != nil || s.st.id == "" {
		refuse(proofErrorf("registration without a valid session"))
		return
	}
	if s.st.device != "" {
		refuse(proofErrorf("session bound already"))
		return
	}
	proof, err := verifyProof(r.Header.Get(headerResponse), b.algs, "")
	if err != nil {
		refuse(err)
		return
	}
	if err := b.checkChallenge(proof.jti, s.st.id, useRegister, now); err != nil {
		refuse(err)
		return
	}
	dk := newSessionID() + "." + proof.key
	s.mu.Lock()
	s.change()
	s.st.device, s.st.bind = dk, false
	s.mu.Unlock()
	lines, err := s.commitLines()
	if err != nil {
		refuse(err) // too large to carry the key: stays unbound
		return
	}
	b.answer(m, w, r, s.st.id, dk, lines, now)
}

// refresh issues a new bound cookie to a request signed with the session's
// device key, answering 403 with a challenge first.
func (b *deviceBinding) refresh(m *Manager, w http.ResponseWriter, r *http.Request) {
	now := m.now()
	id := r.Header.Get(headerSessionID)
	s, err := m.loadFrom(r, r.Header["Cookie"], false)
	bid, _, _ := strings.Cut(s.st.device, ".")
	if err != nil || bid == "" || id != bid {
		// No session, or not this binding: the browser ends its DBSC
		// session rather than retrying.
		if err == nil {
			err = proofErrorf("refresh for binding %.22q, the session has none or another", id)
		}
		m.cfg.ErrorLog(r, err)
		h := w.Header()
		noStore(h)
		h.Set("Content-Type", "application/json")
		body, _ := json.Marshal(map[string]any{"session_identifier": id, "continue": false})
		w.Write(body)
		return
	}
	challenge := func(err error) {
		if err != nil {
			m.cfg.ErrorLog(r, err)
		}
		c, err := b.challenge(bid, useRefresh, now)
		if err != nil {
			m.cfg.ErrorLog(r, err)
			http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			return
		}
		h := w.Header()
		noStore(h)
		h.Set(headerChallenge, `"`+c+`";id="`+bid+`"`)
		w.WriteHeader(http.StatusForbidden)
	}
	token := r.Header.Get(headerResponse)
	if token == "" {
		challenge(nil)
		return
	}
	proof, err := verifyProof(token, b.algs, s.st.device)
	if err == nil {
		err = b.checkChallenge(proof.jti, bid, useRefresh, now)
	}
	if err != nil {
		challenge(err)
		return
	}
	lines, err := s.commitLines() // a re-seal due (old key, touch) goes out too
	if err != nil {
		lines = nil
	}
	b.answer(m, w, r, s.st.id, s.st.device, lines, now)
}

// answer writes a successful registration or refresh: the session's lines, a
// new bound cookie and the session instructions.
func (b *deviceBinding) answer(m *Manager, w http.ResponseWriter, r *http.Request, sid, dk string, lines []string, now time.Time) {
	bound, err := b.boundLine(sid, dk, now)
	if err != nil {
		m.cfg.ErrorLog(r, err)
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	h := w.Header()
	addSessionHeaders(h, append(lines, bound), true)
	h.Set("Content-Type", "application/json")
	w.Write(b.instructions(r, dk))
}

// instructions returns the session instructions JSON for the binding of dk.
func (b *deviceBinding) instructions(r *http.Request, dk string) []byte {
	bid, _, _ := strings.Cut(dk, ".")
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	origin := b.Origin
	if origin == "" {
		origin = "https://" + r.Host
	}
	type item struct {
		Type   string `json:"type"`
		Domain string `json:"domain"`
		Path   string `json:"path"`
	}
	type credential struct {
		Type       string `json:"type"`
		Name       string `json:"name"`
		Attributes string `json:"attributes"`
	}
	spec := []item{}
	for _, p := range b.Exclude {
		spec = append(spec, item{"exclude", host, p})
	}
	out, _ := json.Marshal(struct {
		ID          string `json:"session_identifier"`
		RefreshURL  string `json:"refresh_url"`
		Scope       any    `json:"scope"`
		Credentials any    `json:"credentials"`
	}{
		ID:         bid,
		RefreshURL: b.RefreshPath,
		Scope: struct {
			Origin      string `json:"origin"`
			IncludeSite bool   `json:"include_site"`
			Spec        []item `json:"scope_specification"`
		}{origin, b.IncludeSite, spec},
		Credentials: []credential{{"cookie", b.CookieName, b.boundAttrs}},
	})
	return out
}

func noStore(h http.Header) { h.Set("Cache-Control", "no-store") }
