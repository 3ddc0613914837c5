// Package cookiesession keeps HTTP sessions entirely in the client's cookie:
// no database, no cache, no sticky routing. The session map is serialized as
// JSON, optionally compressed, encrypted (JWE dir + A256GCM, the default) or
// only signed (JWS HS256) with keys from a rotating key ring, and split over
// several cookies when it outgrows one. Any number of servers that share the
// key ring read and write the same sessions.
//
// Most applications configure a [Manager] once and wrap their handler in
// [Manager.Handler]; handlers then use [Manager.Session]:
//
//	func visits(w http.ResponseWriter, r *http.Request) {
//		s := sessions.Session(r)
//		s.Set("visits", s.GetInt("visits")+1)
//		fmt.Fprintln(w, "visits:", s.GetInt("visits"))
//	}
//
// Serverless handlers that assemble their own headers use [Manager.Load] or
// [Manager.LoadHeader] and [Manager.Save] or [Manager.SetCookies].
//
// This package needs Go 1.26 or later.
//
// # Security properties
//
//   - Confidentiality and integrity (Encrypted mode): AES-256-GCM with a random
//     96-bit nonce per seal, the protected header as additional data. Signed
//     mode gives integrity only: the client can read the payload.
//   - Binding: each cookie's content key is derived with HKDF-SHA256 from a
//     master key, the format version, the mode and the purpose (the cookie
//     name by default). A cookie cannot be moved to another name, another
//     application with another purpose, or from Signed to Encrypted mode.
//   - Strict parsing: a cookie is checked for size and alphabet before any
//     decoding; its header must be byte for byte one this package writes
//     (no "alg" substitution, no "crit", "jwk", "jku", "x5u", "b64"); the key
//     is looked up by its id, never taken from the header nor tried in turn.
//   - Failures are opaque: every authentication failure is one error wrapping
//     [ErrInvalid]; no error carries key material or the text of a JOSE
//     library, and nothing of it reaches the client, who gets a fresh session.
//   - Time: expiry, absolute lifetime, idle timeout and [Config.NotBefore] are
//     enforced from claims inside the sealed payload, with an injectable clock.
//   - Compression is off by default: next to attacker-chosen values it would
//     leak secrets through the cookie's length. When on, inflation is capped at
//     [MaxPlaintextBytes].
//
// What it does not do, by the nature of a cookie store:
//
//   - A stolen cookie replays until it expires: there is no server-side list
//     to revoke one session alone. Revoke all the sessions of its user with
//     a revocation list by subject ([Config.Revocations]), everybody at once
//     with NotBefore or by removing a key, and keep lifetimes short with an
//     IdleTimeout. With [Config.DeviceBinding], a browser with DBSC binds
//     its session to a device key, and a copy of its cookies works only
//     until the short-lived bound cookie it holds expires. Its challenges
//     are stateless: one can be answered more than once within
//     DeviceBinding.ChallengeLifetime, so a captured signed proof mints
//     bound cookies until then.
//   - Renew gives a new identity, but the cookie from before stays valid until
//     its own expiry.
//   - Concurrent requests of one client each write their own result: the last
//     response wins.
//   - Signed mode hides nothing from the user.
//   - SameSite=Lax, the default, is not CSRF protection: a sibling subdomain
//     or another port is the same site, a GET handler that changes state is
//     open to any link, and a login form posted from another site needs no
//     cookie. Wrap handlers in http.CrossOriginProtection and keep GET and
//     HEAD free of side effects.
//   - AES-GCM with random nonces bounds one content key to about 2^32 seals
//     across the fleet (NIST SP 800-38D): rotate keys before that, about 50
//     days at 1,000 seals a second.
//   - Under GOOS=js and GOOS=wasip1 (WebAssembly has no AES instructions),
//     and on any CPU without AES instructions, Go's AES and GCM's GHASH are
//     not constant-time (see crypto/aes): an attacker who can time them
//     closely, such as a co-tenant sharing CPU caches, could learn key bits.
//
// # Key rotation
//
// Keys form a [KeyRing], configured as a JWK Set whose first key seals and
// whose every key opens. To rotate across a fleet without logging anybody out:
// stage the new key last ({old, new}) everywhere, so every instance can open
// what it will seal; then promote it ({new, old}) everywhere; after the
// longest lifetime, drop the old key ({new}). Going straight to {new, old} in a
// rolling deploy would have the instances still on {old} refuse the cookies
// the updated ones seal. A cookie opened with a key other than the primary is
// re-sealed with the primary on that response. [OpenKeyFile] follows a
// mounted secret file, read again on a request that seals or opens a cookie
// at most once per [KeyFileOptions.Interval] (one second by default); [Keys] is replaced from code. The command line tool
// (cmd/cookiesession) does each step.
//
// # Revocation
//
// A session can carry a subject, the user it belongs to
// ([Session.SetSubject]). A revocation list maps subjects to a not-before
// instant and refuses their sessions issued earlier ([ErrRevoked]): one
// user logged out everywhere with no store. The list is given like the key
// ring: fixed, replaced from code ([Revocations]) or followed in a file that
// a whole fleet reads ([OpenRevocationFile]), written by the command line
// tool. [Config.Validate] refuses what a list cannot express.
//
// # Limits
//
// A cookie holds at most [MaxCookieBytes] including attributes; a larger
// session is split over cookies named Name, Name.1, … up to
// [Limits.MaxChunks], within [Limits.HeaderBudget] of Cookie header. A session
// that does not fit is an error ([ErrTooLarge], a [*SizeError]) and the
// client keeps its previous cookie. See limits.go for every bound and why.
//
// The first cookie declares how many chunks the session has. Cookies named
// beyond them are debris, typically of two tabs racing (one response grew the
// session to Name and Name.1, the other, landing last, wrote Name alone):
// they are ignored when opening, so the user stays logged in, and expired on
// the response of every request that loads the session, changed or not. A
// chunk missing, duplicated, reordered or from another session inside the
// declared set makes the cookie invalid.
//
// # Importing sessions
//
// [Config.Importers] read the session of another system, or of an earlier
// configuration (a [*Codec] is an [Importer]), from a request that carries no
// session of the current configuration; the response seals it in the current
// format and expires the source's cookies. A rename of the cookie, a switch
// from Signed to Encrypted, or a move from gorilla/sessions or Django
// (package importers/django) then logs nobody out. An import never extends
// a session: it ends when its source's would have.
package cookiesession

import (
	"errors"
	"fmt"
	"math/bits"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// DefaultName is the default cookie name.
const DefaultName = "session"

// Config configures a [Manager]. Keys is required; the zero value of every
// other field is its default, and the defaults are the safe choice.
type Config struct {
	// Name is the cookie name (chunks are Name.1, Name.2, …). A name starting
	// with "__Host-" requires Secure, Path "/" and no Domain; one starting with
	// "__Secure-" requires Secure (RFC 6265bis section 4.1.3). The default
	// value is "session".
	Name string

	// Purpose is bound into the content keys, see [CodecConfig]. The default
	// value is Name.
	Purpose string

	// Keys gives the key ring: a [*KeyRing], a [*Keys] replaced at run time,
	// or a [*KeyFile] following a mounted secret. Required.
	Keys KeySource

	// Mode is Encrypted (the default value) or Signed.
	Mode Mode

	// Compress enables DEFLATE when it makes the cookie shorter; see
	// [CodecConfig.Compress] for why it is off by default.
	Compress bool

	// Lifetime is the absolute lifetime of a session, from its issue
	// (Django's SESSION_COOKIE_AGE). The default value is 24 hours.
	Lifetime time.Duration

	// RememberLifetime is the absolute lifetime of a session that chose
	// [Session.RememberMe](true): "keep me signed in for 30 days" next to a
	// short Lifetime (Django's set_expiry). The choice is sealed in the
	// cookie and the lifetime enforced from it when the cookie is opened, as
	// Lifetime is; IdleTimeout still applies. The default value is Lifetime;
	// at most MaxLifetime (400 days).
	RememberLifetime time.Duration

	// IdleTimeout, when positive, ends a session with no activity for that
	// long. The default value is 0: no idle timeout.
	IdleTimeout time.Duration

	// TouchInterval is how much of the idle window must pass before an
	// unmodified session is re-issued to move its last activity forward; a
	// session re-issued on every response would cost a Set-Cookie each time.
	// A session can therefore end up to TouchInterval before IdleTimeout. The
	// default value is IdleTimeout/10.
	TouchInterval time.Duration

	// SaveEveryRequest re-issues the session on every response that loaded
	// it, moving last activity and expiry (Django's SESSION_SAVE_EVERY_REQUEST).
	// The default value is false.
	SaveEveryRequest bool

	// BrowserSession writes cookies without Max-Age, which browsers drop when
	// they close (Django's SESSION_EXPIRE_AT_BROWSER_CLOSE). The sealed expiry
	// still bounds them. [Session.RememberMe] overrides it per session. The
	// default value is false: persistent cookies whose Max-Age follows the
	// sealed expiry.
	BrowserSession bool

	// Path is the cookie's Path. The default value is "/".
	Path string

	// Domain is the cookie's Domain. The default value is "": the cookie goes
	// only to the host that set it.
	Domain string

	// Insecure omits the Secure attribute, so browsers send the cookie over
	// plain HTTP. Browsers already accept Secure cookies from http://localhost;
	// from any other http:// origin they drop them, and Handler reports that
	// once, at Warn with slog.Default. The default value is false:
	// cookies are Secure.
	Insecure bool

	// ScriptAccess omits the HttpOnly attribute, letting page scripts read the
	// cookie. The default value is false: cookies are HttpOnly.
	ScriptAccess bool

	// SameSite is the cookie's SameSite attribute. SameSiteNoneMode requires
	// Secure. The default value is http.SameSiteLaxMode.
	SameSite http.SameSite

	// Partitioned sets the Partitioned attribute (CHIPS), for a session inside
	// a third-party iframe. It requires Secure, and Limits.HeaderBudget at most
	// MaxPartitionedBudget (10 KiB, the most Chromium keeps of one site's
	// partitioned cookies in a partition). The application's other
	// partitioned cookies on the same site count towards that limit too:
	// lower HeaderBudget by their size. The default value is false.
	Partitioned bool

	// HighPriority sets the Priority=High attribute. Chromium, which keeps
	// at most 180 cookies per domain, evicts Low and Medium priority cookies
	// before High ones when a site sets more, so a session's chunks outlive
	// the site's other cookies; other browsers ignore the attribute. The
	// default value is false: no Priority attribute (Chromium's Medium).
	HighPriority bool

	// DeviceBinding, when not nil, turns on device-bound sessions (DBSC):
	// Handler serves the registration and refresh endpoints, and a session
	// bound to a device opens only with its short-lived bound cookie. It needs
	// Secure cookies. The default value is nil: no binding.
	DeviceBinding *DeviceBinding

	// Limits bound sizes and clock skew; see [Limits].
	Limits Limits

	// NotBefore, when not zero, invalidates every session issued before it,
	// compared in whole seconds rounded up (a session issued in the same
	// second is invalid too). The default value is the zero time.
	NotBefore time.Time

	// Revocations, when set, gives the revocation list in force: a session
	// whose subject ([Session.SetSubject]) it lists and that was issued before
	// that subject's not-before instant is refused as revoked ([ErrRevoked],
	// a [*RevokedError]): ErrorLog hears of it, the handler gets a fresh
	// session, and the response expires the client's cookies. It is a
	// [*RevocationList], a [*Revocations] replaced from code, or a
	// [*RevocationFile] that every process of a fleet follows. Entries older
	// than Lifetime are ignored from the moment a list is put in force.
	//
	// "Log out everywhere else": revoke the subject at now, then Renew the
	// current session. Instants are whole seconds rounded up, so the current
	// session, issued again in that same second, would fall under its own
	// revocation; a session first sealed in the second of its subject's
	// revocation is therefore issued at the next second, the not-before (less
	// than a second ahead, within any ClockSkew of a second or more). The
	// list must be in force in this process before the response is sealed:
	// [Revocations.Revoke] is at once; after writing a followed file, call
	// [RevocationFile.Reload]. The default value is nil: no revocation.
	Revocations RevocationSource

	// Validate, when set, is called for every request whose cookie opened
	// (and was not revoked) or whose session was imported, before the
	// handler sees the session, for what a revocation list cannot express: a "sessions valid
	// after" column the application caches per user, an account disabled.
	// A non-nil error refuses the session as a revocation does: ErrorLog
	// receives a [*RevokedError] matching ErrRevoked and the error returned,
	// the handler gets a fresh session, and the client's cookies are expired.
	// r is nil for LoadHeader; under Handler it is the request as it reached
	// the middleware, through which Manager.Session cannot be called: use s.
	// The default value is nil.
	Validate func(r *http.Request, s *Session) error

	// Now is the clock. The default value is time.Now.
	Now func() time.Time

	// ErrorLog receives, for the application's logs, why a request's cookie
	// was refused (matching ErrInvalid, ErrExpired or ErrRevoked), why a
	// session could not be saved, each import (an [*ImportError], matching
	// ErrImported when the session was imported), and why a session was
	// saved without compression although Compress asked for it (an internal
	// error of the compressor, a bug: the session is saved all the same).
	// The request may be nil for the low-level calls. It is called for every
	// refused cookie: a client decides how often. The default value logs
	// with slog.Default: imports and revoked sessions at Info, expired
	// sessions at Debug; the first refused cookie (ErrInvalid) of each
	// reason at Warn, then, for one minute, only a count per reason, logged
	// at Warn when the minute ends ("412 more refused cookies (authentication
	// failed) in the minute after the first"), even if no further cookie is
	// refused, by a timer (time.AfterFunc, armed only while a count is
	// pending: no goroutine is left running); every other error at Warn.
	ErrorLog func(r *http.Request, err error)

	// Importers read, in order, sessions of other systems from a request
	// that carries no session of this configuration: an earlier
	// configuration (a [*Codec]), gorilla/sessions, Django (see [Importer]).
	// The first session one of them returns becomes the request's session,
	// sealed in this configuration on the response. The default value is
	// none.
	Importers []Importer

	// KeepImported leaves the cookies an import read in place instead of
	// expiring them, for a period when the source system still serves the
	// site with them. The source's cookie names must then differ from Name.
	// Once a session is sealed here it wins over the source's: ending the
	// session takes both sides (Destroy here, the source's logout there, or
	// the source's logout deleting this cookie too). The default value is
	// false: the response that seals an imported session expires the source's
	// cookies.
	KeepImported bool

	// Observer, when set, receives one [Event] per load of a request's
	// session and one per save: outcome, reason, key id, bytes and chunks,
	// for metrics ([Counters] publishes them with expvar; the
	// cookiesessionotel module with OpenTelemetry). It is called on the
	// request's goroutine, without any lock held: keep it quick. The default
	// value is nil: no events, and nothing is spent building them.
	Observer func(Event)

	// ErrorHandler answers a request whose session could not be saved by
	// Handler (it is too large, see ErrTooLarge), after ErrorLog. Handlers
	// that call Session.Save first never reach it. The default value answers
	// 500 Internal Server Error.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// A Manager loads and saves sessions with one configuration. It is safe for
// concurrent use; create it once with [New].
type Manager struct {
	cfg   Config
	codec *Codec

	revocations atomic.Pointer[revocationIndex] // the list in force, as used

	refusals *refusalLog // the default ErrorLog's state; nil with the application's

	plainHTTPReported atomic.Bool // a Secure cookie over plain HTTP was logged

	attrs   string // "; Path=/; HttpOnly; Secure; SameSite=Lax"
	attrLen int    // attrs plus the widest Max-Age, for the chunk budget
	expired []string
	dbsc    *deviceBinding // nil without Config.DeviceBinding
}

// New validates cfg and returns a Manager. Every mistake is reported here,
// wrapping [ErrConfig]: a missing or short key, a limit out of range, or
// cookie attributes that browsers would refuse (a "__Host-" name with a
// Domain or Insecure, SameSite=None or Partitioned without Secure).
func New(cfg Config) (*Manager, error) {
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	if cfg.SameSite == 0 || cfg.SameSite == http.SameSiteDefaultMode {
		cfg.SameSite = http.SameSiteLaxMode
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	var refusals *refusalLog
	if cfg.ErrorLog == nil {
		refusals = newRefusalLog(cfg.Now)
		cfg.ErrorLog = refusals.log
	}
	if cfg.ErrorHandler == nil {
		cfg.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		}
	}
	secure := !cfg.Insecure
	switch {
	case strings.HasPrefix(cfg.Name, "__Host-") && (!secure || cfg.Domain != "" || cfg.Path != "/"):
		return nil, configErrorf(`cookie name %q: the __Host- prefix needs Secure, Path "/" and no Domain`, cfg.Name)
	case strings.HasPrefix(cfg.Name, "__Secure-") && !secure:
		return nil, configErrorf("cookie name %q: the __Secure- prefix needs Secure", cfg.Name)
	case cfg.SameSite == http.SameSiteNoneMode && !secure:
		return nil, configErrorf("SameSite=None needs Secure: browsers refuse it otherwise")
	case cfg.Partitioned && !secure:
		return nil, configErrorf("Partitioned needs Secure")
	case cfg.SameSite < http.SameSiteDefaultMode || cfg.SameSite > http.SameSiteNoneMode:
		return nil, configErrorf("unknown SameSite %d", cfg.SameSite)
	case !validAttr(cfg.Path) || !validAttr(cfg.Domain):
		return nil, configErrorf("Path or Domain holds a character not allowed in a cookie attribute")
	case cfg.TouchInterval < 0 || cfg.IdleTimeout > 0 && cfg.TouchInterval > cfg.IdleTimeout:
		return nil, configErrorf("TouchInterval %s is outside 0..IdleTimeout (%s)", durationText(cfg.TouchInterval), durationText(cfg.IdleTimeout))
	}
	if cfg.TouchInterval == 0 {
		cfg.TouchInterval = cfg.IdleTimeout / 10
	}
	codec, err := NewCodec(CodecConfig{
		Name:             cfg.Name,
		Purpose:          cfg.Purpose,
		Keys:             cfg.Keys,
		Mode:             cfg.Mode,
		Compress:         cfg.Compress,
		Limits:           cfg.Limits,
		Lifetime:         cfg.Lifetime,
		RememberLifetime: cfg.RememberLifetime,
		IdleTimeout:      cfg.IdleTimeout,
		NotBefore:        cfg.NotBefore,
	})
	if err != nil {
		return nil, err
	}
	cc := codec.Config()
	if cfg.Partitioned && cc.Limits.HeaderBudget > MaxPartitionedBudget {
		return nil, configErrorf("HeaderBudget %d is over %d with Partitioned: Chromium keeps at most 10 KiB of one site's partitioned cookies (CHIPS)", cc.Limits.HeaderBudget, MaxPartitionedBudget)
	}
	cfg.Purpose, cfg.Limits, cfg.Lifetime, cfg.RememberLifetime = cc.Purpose, cc.Limits, cc.Lifetime, cc.RememberLifetime

	codec.errorLog = cfg.ErrorLog
	m := &Manager{cfg: cfg, codec: codec, refusals: refusals}
	var b strings.Builder
	b.WriteString("; Path=" + cfg.Path)
	if cfg.Domain != "" {
		b.WriteString("; Domain=" + cfg.Domain)
	}
	if !cfg.ScriptAccess {
		b.WriteString("; HttpOnly")
	}
	if secure {
		b.WriteString("; Secure")
	}
	b.WriteString(map[http.SameSite]string{
		http.SameSiteLaxMode:    "; SameSite=Lax",
		http.SameSiteStrictMode: "; SameSite=Strict",
		http.SameSiteNoneMode:   "; SameSite=None",
	}[cfg.SameSite])
	if cfg.Partitioned {
		b.WriteString("; Partitioned")
	}
	if cfg.HighPriority {
		b.WriteString("; Priority=High")
	}
	m.attrs = b.String()
	m.attrLen = len(m.attrs) + len("; Max-Age=") + len(strconv.Itoa(int(MaxLifetime/time.Second)))
	for _, name := range codec.names {
		m.expired = append(m.expired, name+"=; Max-Age=0"+m.attrs)
	}
	if cfg.DeviceBinding != nil {
		if m.dbsc, err = newDeviceBinding(*cfg.DeviceBinding, m); err != nil {
			return nil, err
		}
		d := m.dbsc.DeviceBinding
		m.cfg.DeviceBinding = &d
	}
	return m, nil
}

func validAttr(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == ';' {
			return false
		}
	}
	return true
}

// Config returns the configuration with every default filled in.
func (m *Manager) Config() Config { return m.cfg }

// Codec returns the codec that seals and opens this manager's cookies.
func (m *Manager) Codec() *Codec { return m.codec }

func (m *Manager) now() time.Time { return m.cfg.Now() }

// Load reads the session of a request's cookies, for handlers that do not
// use [Manager.Handler]. It always returns a usable session: the request's
// (imported by Config.Importers if need be), or an empty one when the
// request carries no cookie or a cookie that does not open. The error says
// why, for the logs: nil when there was no cookie, else it matches
// ErrInvalid, ErrExpired or ErrRevoked. An import is reported to
// Config.ErrorLog, not returned. Most applications will use the Handler
// middleware instead.
func (m *Manager) Load(r *http.Request) (*Session, error) {
	s, err := m.loadFrom(r, r.Header["Cookie"], true)
	m.reportImport(r, s)
	return s, err
}

// LoadHeader is Load from raw Cookie header values ("a=1; session=…"), or
// from single "name=value" cookies such as API Gateway v2 passes in its
// cookies list. Config.Validate receives a nil request.
func (m *Manager) LoadHeader(cookieHeaders ...string) (*Session, error) {
	s, err := m.loadFrom(nil, cookieHeaders, true)
	m.reportImport(nil, s)
	return s, err
}

// loadFrom loads the session of the Cookie header values, for r (or nil):
// the current configuration's, else an import, then Config.Validate.
// enforce applies device binding; the refresh of a bound cookie comes
// without one.
func (m *Manager) loadFrom(r *http.Request, cookieHeaders []string, enforce bool) (*Session, error) {
	s := &Session{m: m}
	s.cookies.name = m.cfg.Name
	s.cookies.add(cookieHeaders)
	info, err := m.load(s, s.cookies.lookup)
	if err == nil && enforce && m.dbsc != nil && s.present != 0 {
		err = m.dbsc.check(s, cookieHeaders, m.now())
	}
	// A revoked or unbound session is refused on purpose: no importer brings
	// it back.
	if len(m.cfg.Importers) > 0 && !errors.Is(err, ErrRevoked) && !errors.Is(err, ErrUnbound) && (err != nil || s.present == 0) {
		err = m.importSession(s, cookieHeaders, err)
	}
	if err == nil && m.cfg.Validate != nil && !s.st.issuedAt.IsZero() {
		err = m.validate(r, s)
	}
	if m.cfg.Observer != nil {
		m.cfg.Observer(loadEvent(s, info, err))
	}
	return s, err
}

// reportImport tells ErrorLog when s was imported.
func (m *Manager) reportImport(r *http.Request, s *Session) {
	if s.imported != "" {
		m.cfg.ErrorLog(r, &ImportError{Source: s.imported, Err: ErrImported})
	}
}

// load fills the new session s from the cookies that lookup returns, and
// says how the cookie was opened, as far as it got.
func (m *Manager) load(s *Session, lookup func(string) []string) (OpenInfo, error) {
	for i, name := range m.codec.names {
		if len(lookup(name)) != 0 {
			s.present |= 1 << i
		}
	}
	if s.present == 0 {
		return OpenInfo{}, nil
	}
	now := m.now()
	var p Payload
	ms, info, err := m.codec.decode(lookup, now, &p)
	if err == ErrNoCookie { // chunks without a first cookie: debris
		err = kindInvalidf(ReasonCookies, "chunks without the first cookie")
	}
	if err != nil {
		s.loadErr = err
		return info, err
	}
	if err := m.checkRevoked(&p); err != nil {
		s.loadErr = err
		return info, err
	}
	// The values were parsed into a slice with room for their copy on the
	// first change (see scanner.values): it is handed to the session apart.
	n := len(ms)
	ms, s.spare = ms[:n:n], ms[n:n]
	s.st = state{id: p.ID, issuedAt: p.IssuedAt, expiry: p.Expiry, remember: p.RememberMe, subject: p.Subject, device: p.DeviceKey, values: ms}
	s.saved = s.st
	s.lastActivity, s.info = p.LastActivity, info
	s.reseal = !info.Primary || m.cfg.SaveEveryRequest ||
		m.cfg.IdleTimeout > 0 && now.Sub(p.LastActivity) >= m.cfg.TouchInterval
	return info, nil
}

// Save adds to w's header the Set-Cookie lines that s needs (none when it
// needs none), for handlers that do not use Handler. Call it before writing
// the response. On error nothing is added, so the client keeps its previous
// cookie; a [*SizeError] (ErrTooLarge) says the session does not fit.
func (m *Manager) Save(w http.ResponseWriter, s *Session) error {
	lines, err := m.SetCookies(s)
	if err != nil {
		return err
	}
	addSessionHeaders(w.Header(), lines, false)
	s.addRegistration(w.Header())
	return nil
}

// SetCookies returns the Set-Cookie header values that s needs, in order:
// the chunks of the sealed session (none when it is unchanged), and expired
// cookies for chunks the request carried that are no longer used, among them
// debris beyond the set the first cookie declared (left by two tabs racing,
// see [Limits]), which are expired even when the session is unchanged. Responses
// that carry them must not be cached by shared caches ([Manager.Save] and
// Handler add Cache-Control: no-store and Vary: Cookie).
//
// Like [Session.Save], on error it returns the session to its last saved
// state.
func (m *Manager) SetCookies(s *Session) ([]string, error) {
	if s.m != m {
		panic("cookiesession: SetCookies with a session of another Manager")
	}
	return s.commitLines()
}

// setCookieLines returns the Set-Cookie values for s, whose lock is held,
// and records in ev the save's outcome, reason and, when it sealed, the
// sealed value's bytes and cookies. On success it records the sealed state
// in s; on error it changes nothing.
func (m *Manager) setCookieLines(s *Session, ev *Event) ([]string, error) {
	switch {
	case !s.dirty && !s.reseal && s.st.sealed != nil:
		ev.Outcome = OutcomeUnchanged
		return s.st.sealed, nil
	case s.st.destroyed:
		ev.Outcome, ev.Reason = OutcomeCleared, ReasonDestroyed
		return append(m.expire(s.present|1, 0), s.importExpire...), nil
	case len(s.st.values) == 0 && s.st.subject == "" && (s.dirty || s.reseal):
		// An empty session is not worth a cookie: expire what the client
		// holds, which is nothing for a new session. (A subject alone is a
		// login: it is worth one.)
		ev.Outcome, ev.Reason = OutcomeCleared, ReasonEmptied
		return append(m.expire(s.present, 0), s.importExpire...), nil
	case s.dirty || s.reseal:
		ev.Outcome, ev.Reason = OutcomeSealed, ReasonChanged
		switch {
		case s.dirty:
		case s.imported != "":
			ev.Reason = ReasonImported
		case s.info.KeyID != "" && !s.info.Primary:
			ev.Reason = ReasonOldKey
		default:
			ev.Reason = ReasonTouch
		}
		lines, err := m.seal(s, ev)
		if err != nil && !s.dirty {
			// Only a re-seal (an old key, a touch, an import) failed,
			// typically a cookie now larger under another key id or without
			// compression. The client keeps the cookie it has (an imported
			// session's source cookie too); nothing the application did is
			// lost, so it must not cost the request a 500.
			err = fmt.Errorf("cookiesession: re-seal skipped, the client keeps its cookie: %w", err)
			ev.Outcome, ev.Reason, ev.Err = OutcomeSkipped, reasonOf(err), err
			m.cfg.ErrorLog(nil, err)
			return m.debris(s), nil
		}
		if err != nil {
			return nil, err
		}
		return append(lines, s.importExpire...), nil
	case s.loadErr != nil:
		// The stale cookies, and those of an import Validate refused.
		ev.Outcome, ev.Reason = OutcomeCleared, ReasonRefused
		return append(m.expire(s.present, 0), s.importExpire...), nil
	}
	ev.Outcome = OutcomeUnchanged
	return m.debris(s), nil
}

// debris returns expired-cookie lines for the chunks that the request carried
// beyond the set its first cookie declared (see join), so that a session left
// unchanged still clears them from the browser. It returns none when the
// request's cookie did not open.
func (m *Manager) debris(s *Session) []string {
	if s.loadErr != nil || s.info.Chunks == 0 {
		return nil
	}
	return m.expire(s.present, s.info.Chunks)
}

// seal seals s now and returns its cookies plus expired ones for the chunks
// the request carried beyond them. It records in ev the key, bytes and
// cookies of what it sealed.
func (m *Manager) seal(s *Session, ev *Event) ([]string, error) {
	now := m.now()
	iat := s.st.issuedAt
	if iat.IsZero() {
		iat = m.issuedAt(now, s.st.subject)
		if m.dbsc != nil && m.dbsc.Auto && s.st.device == "" {
			s.st.bind = true // a new session: ask the browser to bind it
		}
	}
	// A session issued by a server whose clock is ahead (within the skew)
	// keeps its issued-at; last activity never goes before it, or the cookie
	// would break iat <= lat and open nowhere.
	lat := now
	if lat.Before(iat) {
		lat = iat
	}
	exp := m.codec.ExpiryOf(iat, lat, s.st.remember)
	if exp.Unix() <= lat.Unix() {
		// The lifetime ran out between load and save: nothing could open
		// a new cookie, so the client's is expired instead.
		ev.Outcome, ev.Reason = OutcomeCleared, ReasonLifetime
		return m.expire(s.present|1, 0), nil
	}
	if s.st.id == "" {
		s.st.id = newSessionID()
	}
	p := Payload{
		ID:           s.st.id,
		IssuedAt:     iat,
		LastActivity: lat,
		Expiry:       exp,
		RememberMe:   s.st.remember,
		Subject:      s.st.subject,
		DeviceKey:    s.st.device,
	}
	persistent := s.st.remember == RememberYes || s.st.remember == RememberDefault && !m.cfg.BrowserSession
	var maxAge []byte // on the stack: each line below is one allocation
	if persistent {
		var buf [32]byte
		maxAge = strconv.AppendInt(append(buf[:0], "; Max-Age="...), int64(p.Expiry.Sub(now)/time.Second), 10)
	}
	// The value is sealed straight after "name=", so that a session in one
	// cookie, the common case, costs one string for its line.
	name := m.codec.cfg.Name
	buf := getBuffer()
	defer putBuffer(buf)
	b, err := m.codec.appendSeal(append(append(buf.b[:0], name...), '='), &p, s.st.values)
	buf.b = b
	if err != nil {
		return nil, err
	}
	sealed := b[len(name)+1:]
	n, room, err := chunking(name, len(sealed), m.attrLen, m.codec.cfg.Limits.MaxChunks, m.codec.cfg.Limits.HeaderBudget)
	if err != nil {
		return nil, err
	}
	var lines []string
	if n == 1 {
		b = append(append(b, maxAge...), m.attrs...)
		buf.b = b
		lines = append(make([]string, 0, 1+bits.OnesCount16(s.present>>1)), string(b))
	} else {
		lines = m.chunkLines(sealed, n, room, maxAge)
	}
	// Later saves in this response must expire these chunks too when the
	// session shrinks, not only those the request carried.
	ev.Bytes, ev.Chunks = len(sealed), n
	if m.cfg.Observer != nil {
		ev.KeyID = m.codec.kidOf(sealed)
	}
	s.present |= 1<<n - 1
	lines = append(lines, m.expire(s.present, n)...)
	s.st.issuedAt, s.st.expiry = iat, p.Expiry
	return lines, nil
}

// chunkLines returns the Set-Cookie lines of sealed cut into n cookies of
// room bytes (see chunking), with room for one more line: one allocation for
// the lines' bytes, one for the slice, the sealed value copied once.
func (m *Manager) chunkLines(sealed []byte, n, room int, maxAge []byte) []string {
	size := 2 + len(sealed) + n*(1+len(maxAge)+len(m.attrs))
	for i := range n {
		size += len(m.codec.names[i])
	}
	all := make([]byte, 0, size)
	lines := make([]string, 0, n+1)
	for i := range n {
		start := len(all)
		all = append(append(all, m.codec.names[i]...), '=')
		if i == 0 {
			all = append(all, byte('0'+n), chunkMarker)
		}
		all = append(all, sealed[i*room:min((i+1)*room, len(sealed))]...)
		all = append(append(all, maxAge...), m.attrs...)
		lines = append(lines, unsafe.String(&all[start], len(all)-start))
	}
	return lines
}

// expire returns expired-cookie lines for the chunk indexes set in present,
// from index from on.
func (m *Manager) expire(present uint16, from int) []string {
	var lines []string
	for i := from; i < len(m.expired); i++ {
		if present&(1<<i) != 0 {
			lines = append(lines, m.expired[i])
		}
	}
	return lines
}

// addSessionHeaders adds the Set-Cookie lines to h and the headers that keep
// the response out of shared caches: Cache-Control: no-store (replacing any
// other Cache-Control) when there are lines, and Cookie in Vary (unless Vary
// has it or "*") when there are lines or when vary is set: a response made
// with the session must be keyed on the cookie even when it sets none. When
// h has none of the three yet, as is usual, their values take one allocation.
func addSessionHeaders(h http.Header, lines []string, vary bool) {
	n := len(lines)
	noStore := n > 0 && !hasNoStore(h["Cache-Control"])
	vary = (vary || n > 0) && !variesOnCookie(h["Vary"])
	if n == 0 && !vary {
		return
	}
	// The values side by side, each header's capped so that appending to
	// one never writes over the next.
	vals := append(make([]string, 0, n+2), lines...)
	if n > 0 {
		if old := h["Set-Cookie"]; len(old) > 0 {
			h["Set-Cookie"] = append(old, lines...)
		} else {
			h["Set-Cookie"] = vals[:n:n]
		}
	}
	if noStore {
		vals = append(vals, "no-store")
		h["Cache-Control"] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
	if vary {
		if old := h["Vary"]; len(old) > 0 {
			h["Vary"] = append(old, "Cookie")
		} else {
			vals = append(vals, "Cookie")
			h["Vary"] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
}

// hasNoStore reports whether the Cache-Control values have no-store, in any
// case.
func hasNoStore(values []string) bool {
	const d = "no-store"
	for _, v := range values {
		for i := 0; i+len(d) <= len(v); i++ {
			if strings.EqualFold(v[i:i+len(d)], d) {
				return true
			}
		}
	}
	return false
}

// variesOnCookie reports whether the Vary values name Cookie, in any case,
// or "*".
func variesOnCookie(values []string) bool {
	for _, v := range values {
		for v != "" {
			var f string
			f, v, _ = strings.Cut(v, ",")
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, "Cookie") {
				return true
			}
		}
	}
	return false
}
