package cookiesession

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// An Importer reads a session that another system left in a request's
// cookies: an earlier configuration of this package (a [*Codec] is an
// Importer), gorilla/sessions, Django's signed cookies. With importers in
// [Config.Importers], a request that carries no session of the current
// configuration (none, or one that does not open) but one an importer
// recognises gets that session's values; the response seals them in the
// current format and expires the cookies the import read, unless
// [Config.KeepImported] is set. Switching to this package, renaming the
// cookie or changing its mode then logs nobody out.
//
// An import never extends a session: the new session keeps the source's issue
// time (see [Imported.IssuedAt] for when it is moved earlier), its expiry never
// exceeds the source's, and what the source itself would refuse (a bad
// signature, an expired session) is refused.
type Importer interface {
	// Source names the system, as reports and the command line say it:
	// "cookiesession", "gorilla", "django".
	Source() string

	// Import returns the session that lookup's cookies carry (lookup returns
	// the values of every cookie of that name the request carries, as
	// [CookieLookup] does with an empty name), checked against now. It
	// returns nil and no error when it recognises nothing; an error matching
	// [ErrInvalid] (tampered, malformed, a value that does not convert to
	// JSON) or [ErrExpired] when it recognises a session but its source would
	// refuse it. It must be safe for concurrent use and must not panic on any
	// input.
	Import(lookup func(name string) []string, now time.Time) (*Imported, error)
}

// Imported is a session an [Importer] read.
type Imported struct {
	// Values are the session's values as JSON. Each must be valid JSON,
	// nested at most 64 deep, under a name that is valid UTF-8: anything
	// else refuses the import ([ErrInvalid]). [MarshalValues] converts Go
	// values.
	Values map[string]json.RawMessage

	// IssuedAt is when the source issued (or last re-issued) the session;
	// the zero time when the source does not say, which counts as now. The
	// new session's absolute lifetime counts from it, so that an import never
	// extends a session. When the source's Expiry comes before IssuedAt plus
	// the Manager's Lifetime (RememberLifetime for a remember-me session), the
	// new session's issued-at is moved earlier, to Expiry minus that lifetime:
	// the session then ends when the source's would have, and every later
	// re-seal keeps that bound.
	IssuedAt time.Time

	// Expiry is when the source's session ends; the zero time when it does
	// not. The new session never outlives it.
	Expiry time.Time

	// Subject is the session's subject (see [Session.SetSubject]), "" for
	// none. An imported session of a subject that Config.Revocations revokes
	// is refused ([ErrRevoked]).
	Subject string

	// RememberMe is the source session's choice between a persistent and a
	// browser-session cookie (see [Session.RememberMe]); the zero value,
	// RememberDefault, follows the Manager's configuration.
	RememberMe RememberMe

	// Cookies are the names of the cookies that carried the session, expired
	// on the response that seals it (unless Config.KeepImported), with the
	// Manager's Path and Domain. Names of the current configuration's own
	// cookies are left out: the new session's cookies replace them.
	Cookies []string
}

// An ImportError reports an import to [Config.ErrorLog]: Err is [ErrImported]
// when the request's session was imported from Source, or why Source's
// cookie was refused (matching [ErrInvalid] or [ErrExpired]).
type ImportError struct {
	Source string
	Err    error
}

func (e *ImportError) Error() string {
	if e.Err == ErrImported {
		return "cookiesession: session imported from " + e.Source
	}
	return "cookiesession: import from " + e.Source + ": " + e.Err.Error()
}

func (e *ImportError) Unwrap() error { return e.Err }

// MarshalValues returns the JSON of each value, for an [Importer] whose
// source holds Go values. A value that does not marshal (a channel, a func, a
// cycle, a MarshalJSON that fails or panics) is an error matching
// [ErrInvalid] that names its key and type: the import is refused, the
// request gets an empty session, never a 500.
func MarshalValues(values map[string]any) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(values))
	for k, v := range values {
		raw, err := marshalImported(v)
		if err != nil {
			return nil, invalidf("value %.64q of type %T does not marshal to JSON", k, v)
		}
		out[k] = raw
	}
	return out, nil
}

func marshalImported(v any) (raw []byte, err error) {
	defer func() {
		if recover() != nil {
			raw, err = nil, errors.New("panic")
		}
	}()
	return json.Marshal(v)
}

// Source returns "cookiesession": a Codec of an earlier configuration (another
// cookie name, purpose, mode or key ring) is an [Importer].
func (c *Codec) Source() string { return "cookiesession" }

// Import opens the codec's cookies as [Codec.Decode] does, for
// [Config.Importers]: with a Codec of the configuration before a change of
// cookie name, purpose, mode or keys, the change logs nobody out. The
// session keeps its issued-at and expiry claims, its subject and its
// remember-me choice.
func (c *Codec) Import(lookup func(name string) []string, now time.Time) (*Imported, error) {
	var p Payload
	ms, _, err := c.decode(lookup, now, &p)
	if err == ErrNoCookie {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cookies []string
	for _, name := range c.ChunkNames() {
		if len(lookup(name)) > 0 {
			cookies = append(cookies, name)
		}
	}
	return &Imported{Values: ms.toMap(), IssuedAt: p.IssuedAt, Expiry: p.Expiry, Subject: p.Subject,
		RememberMe: p.RememberMe, Cookies: cookies}, nil
}

// importSession runs the importers over the request's cookies for s, which
// holds no session; prev is why the current configuration's cookie was
// refused, if the request carried one. It returns the error for the logs: nil
// when a session was imported or when no importer recognised anything and
// prev is nil.
func (m *Manager) importSession(s *Session, headers []string, prev error) error {
	lookup := CookieLookup("", headers...)
	now := m.now()
	var refused error
	for _, imp := range m.cfg.Importers {
		got, err := imp.Import(lookup, now)
		if err == nil && got != nil {
			err = m.adopt(s, got, now)
		}
		if err != nil {
			if refused == nil {
				refused = &ImportError{Source: imp.Source(), Err: asRefusal(err)}
			}
			continue
		}
		if got != nil {
			s.imported, s.loadErr = imp.Source(), nil
			return nil
		}
	}
	if refused == nil {
		return prev
	}
	s.loadErr = errors.Join(prev, refused)
	return s.loadErr
}

// asRefusal returns err if it matches ErrInvalid, ErrExpired or (from the
// Manager's own check) ErrRevoked, else err wrapped to match ErrInvalid: an
// Importer's contract, enforced.
func asRefusal(err error) error {
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) || errors.Is(err, ErrRevoked) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrInvalid, err)
}

// adopt makes got the session s, due for sealing, or says why it cannot be.
func (m *Manager) adopt(s *Session, got *Imported, now time.Time) error {
	ms := make(members, 0, len(got.Values))
	for name, raw := range got.Values {
		if !utf8.ValidString(name) {
			return invalidf("value name %.64q is not valid UTF-8", name)
		}
		var b bytes.Buffer
		if json.Compact(&b, raw) != nil {
			return invalidf("value %.64q is not JSON", name)
		}
		if end, ok := skipValue(b.Bytes(), 0, 0); !ok || end != b.Len() {
			return invalidf("value %.64q nested deeper than %d", name, MaxNesting)
		}
		ms = append(ms, member{name, b.Bytes()})
	}
	ms.sort()
	if got.RememberMe > RememberNo {
		return invalidf("unknown RememberMe %d", got.RememberMe)
	}

	// Times in whole seconds, as claims are. The lifetime is the one the
	// session will have here: RememberLifetime for a remember-me session.
	iat := got.IssuedAt
	if iat.IsZero() {
		iat = now
	}
	iat = time.Unix(iat.Unix(), 0)
	lifetime := m.codec.lifetime(got.RememberMe)
	if exp := got.Expiry; !exp.IsZero() {
		if now.Unix() >= exp.Unix() {
			return expiredf(ReasonLifetime, "the source's session expired %ds ago", now.Unix()-exp.Unix())
		}
		if latest := time.Unix(exp.Unix(), 0).Add(-lifetime); iat.After(latest) {
			iat = latest
		}
	}
	switch skew := m.codec.cfg.Limits.ClockSkew; {
	case iat.After(now.Add(skew)):
		return kindInvalidf(ReasonFuture, "issued %ds in the future, beyond the clock skew", iat.Unix()-now.Unix())
	case !m.cfg.NotBefore.IsZero() && iat.Unix() < ceilUnix(m.cfg.NotBefore):
		return expiredf(ReasonNotBefore, "issued (or, to end with the source's session, counted from) before the not-before instant")
	}
	lat := now
	if lat.Before(iat) {
		lat = iat
	}
	exp := m.codec.ExpiryOf(iat, lat, got.RememberMe)
	if exp.Unix() <= lat.Unix() {
		return expiredf(ReasonLifetime, "past the absolute lifetime since the source issued it")
	}
	if got.Subject != "" {
		if !validSubject(got.Subject) {
			return invalidf("subject is not 1 to %d bytes of UTF-8", MaxSubjectBytes)
		}
		if err := m.checkRevoked(&Payload{Subject: got.Subject, IssuedAt: iat}); err != nil {
			return err
		}
	}

	var expire []string
	if !m.cfg.KeepImported {
		for _, name := range got.Cookies {
			line := name + "=; Max-Age=0" + m.attrs
			if name != "" && nonToken(name) < 0 && chunkIndex(m.cfg.Name, name) < 0 && !slices.Contains(expire, line) {
				expire = append(expire, line)
			}
		}
	}
	s.st = state{issuedAt: iat, expiry: exp, subject: got.Subject, remember: got.RememberMe, values: ms}
	s.saved, s.dirty, s.reseal = s.st, false, true
	s.importExpire = expire
	return nil
}
