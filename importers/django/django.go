// Package django imports the sessions of Django's signed_cookies backend
// (django.contrib.sessions.backends.signed_cookies) into cookiesession, so a
// Go service beside a Django application reads its users' sessions, or takes
// over from it without logging anybody out. It uses the standard library
// only.
//
// An [Importer] opens the session cookie exactly as django.core.signing.loads
// does with the backend's salt, and refuses what Django refuses:
//
//	cookie   = payload ":" timestamp ":" signature
//	payload  = BASE64URL(JSON)  or  "." BASE64URL(zlib(JSON))   (no padding)
//	timestamp = base62 Unix seconds ("0-9A-Za-z") when the session was saved
//	signature = BASE64URL(HMAC-SHA256(SHA256(salt + "signer" + SECRET_KEY), payload ":" timestamp))
//
// A session older than SESSION_COOKIE_AGE (MaxAge) is expired, one whose
// signature matches neither SECRET_KEY nor one of SECRET_KEY_FALLBACKS is
// invalid; only the JSON serializer is read (PickleSerializer sessions are
// refused). Add it to [cookiesession.Config.Importers]:
//
//	imp, err := django.New(django.Config{SecretKey: os.Getenv("DJANGO_SECRET_KEY")})
//
// # Security properties
//
//   - The signature is checked, in constant time, before anything else of the
//     cookie is decoded; the cookie's length and alphabet before that.
//   - Decompression is capped at [cookiesession.MaxPlaintextBytes]: a zlib bomb
//     stops there (Django signs what it compresses, so only a holder of the
//     secret key could make one).
//   - The imported session ends when Django's would: the timestamp plus MaxAge,
//     or plus "_session_expiry" when the session set a shorter expiry in
//     seconds (the browser dropped the cookie then, although Django's backend
//     does not check it).
//   - The secret keys never appear in errors or in String.
package django

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cookiesession/cookiesession"
)

// Django's defaults, which Config's zero values stand for.
const (
	// DefaultCookieName is SESSION_COOKIE_NAME's default.
	DefaultCookieName = "sessionid"

	// DefaultSalt is the salt of the signed_cookies backend.
	DefaultSalt = "django.contrib.sessions.backends.signed_cookies"

	// DefaultMaxAge is SESSION_COOKIE_AGE's default: two weeks.
	DefaultMaxAge = 14 * 24 * time.Hour
)

// Config is the Django settings an [Importer] needs. SecretKey is required;
// the zero value of every other field is Django's default.
type Config struct {
	// CookieName is SESSION_COOKIE_NAME. The default value is "sessionid".
	CookieName string

	// SecretKey is SECRET_KEY. Required.
	SecretKey string

	// FallbackKeys are SECRET_KEY_FALLBACKS (Django 4.1 and later): earlier
	// secret keys whose sessions still open. The default value is none.
	FallbackKeys []string

	// MaxAge is SESSION_COOKIE_AGE: a session saved longer ago than this is
	// expired. The default value is two weeks, Django's.
	MaxAge time.Duration

	// Salt is the signing salt. The default value is the signed_cookies
	// backend's, "django.contrib.sessions.backends.signed_cookies".
	Salt string

	// LegacySHA1 also accepts HMAC-SHA1 signatures, as Django 3.1 and 3.2 do
	// for sites that set DEFAULT_HASHING_ALGORITHM = "sha1" during the
	// upgrade; Django 4.0 and later refuse them. The default value is false.
	LegacySHA1 bool
}

// An Importer reads Django signed-cookie sessions; it is a
// [cookiesession.Importer]. It is safe for concurrent use.
type Importer struct {
	name   string
	maxAge time.Duration
	keys   []signingKey // SecretKey first, then the fallbacks
}

// signingKey is one secret key's HMAC keys: Django's salted_hmac key,
// SHA256(salt + "signer" + secret), and its SHA-1 counterpart when legacy
// signatures are accepted.
type signingKey struct {
	sha256, sha1 []byte
}

// Cookie value bounds: a browser keeps at most 4096 bytes of a cookie, and the
// signature is SHA-256's 32 bytes (SHA-1's 20) in unpadded base64url.
const (
	maxCookieBytes = cookiesession.MaxCookieBytes
	sha256SigLen   = 43
	sha1SigLen     = 27
	maxTimestamp   = 10 // base62 digits: 62^10 fits an int64, and covers 26 billion years
)

// New checks cfg and returns an Importer. Errors wrap [cookiesession.ErrConfig].
func New(cfg Config) (*Importer, error) {
	if cfg.CookieName == "" {
		cfg.CookieName = DefaultCookieName
	}
	if cfg.Salt == "" {
		cfg.Salt = DefaultSalt
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	switch {
	case cfg.SecretKey == "":
		return nil, fmt.Errorf("%w: django: SecretKey is empty", cookiesession.ErrConfig)
	case cfg.MaxAge < time.Second:
		return nil, fmt.Errorf("%w: django: MaxAge %v is under one second", cookiesession.ErrConfig, cfg.MaxAge)
	case strings.ContainsAny(cfg.CookieName, " \t;=,\""):
		return nil, fmt.Errorf("%w: django: cookie name %q", cookiesession.ErrConfig, cfg.CookieName)
	}
	imp := &Importer{name: cfg.CookieName, maxAge: cfg.MaxAge}
	for i, secret := range append([]string{cfg.SecretKey}, cfg.FallbackKeys...) {
		if secret == "" {
			return nil, fmt.Errorf("%w: django: fallback key %d is empty", cookiesession.ErrConfig, i)
		}
		k := signingKey{sha256: saltedKey(sha256.New, cfg.Salt, secret)}
		if cfg.LegacySHA1 {
			k.sha1 = saltedKey(sha1.New, cfg.Salt, secret)
		}
		imp.keys = append(imp.keys, k)
	}
	return imp, nil
}

// saltedKey is the HMAC key of Django's salted_hmac(salt + "signer", …,
// secret): the hash of the key salt and the secret.
func saltedKey(h func() hash.Hash, salt, secret string) []byte {
	d := h()
	io.WriteString(d, salt+"signer"+secret)
	return d.Sum(nil)
}

// String names the importer without its keys.
func (imp *Importer) String() string {
	return fmt.Sprintf("django.Importer{cookie %q, max age %v, %d keys}", imp.name, imp.maxAge, len(imp.keys))
}

// Source returns "django".
func (imp *Importer) Source() string { return "django" }

// Import opens the session cookie among lookup's cookies (the last of that
// name, as Django reads it), checked against now. See [cookiesession.Importer].
func (imp *Importer) Import(lookup func(name string) []string, now time.Time) (*cookiesession.Imported, error) {
	values := lookup(imp.name)
	if len(values) == 0 || values[len(values)-1] == "" {
		return nil, nil
	}
	s, err := imp.Open(values[len(values)-1], now)
	if err != nil {
		return nil, err
	}
	s.Cookies = []string{imp.name}
	return s, nil
}

// Open opens one cookie value. Every failure wraps
// [cookiesession.ErrInvalid], or [cookiesession.ErrExpired] for an authentic
// session older than MaxAge. The steps run cheapest and least trusting first:
//
//  1. length and alphabet (base64url, ".", ":");
//  2. the signature, in constant time, with each key in turn;
//  3. the timestamp and MaxAge;
//  4. base64url decoding, then zlib inflation capped at MaxPlaintextBytes;
//  5. the JSON object of the session.
func (imp *Importer) Open(cookie string, now time.Time) (*cookiesession.Imported, error) {
	if len(cookie) > maxCookieBytes {
		return nil, invalidf("cookie of %d bytes, over %d", len(cookie), maxCookieBytes)
	}
	for i := 0; i < len(cookie); i++ {
		if c := cookie[i]; !isBase64URL(c) && c != '.' && c != ':' {
			return nil, invalidf("byte %#02x outside base64url", c)
		}
	}
	signed, sig, ok := cutLast(cookie, ':')
	if !ok {
		return nil, invalidf("no signature")
	}
	if !imp.verify(signed, sig) {
		return nil, invalidf("signature does not match")
	}
	payload, stamp, ok := cutLast(signed, ':')
	if !ok {
		return nil, invalidf("no timestamp")
	}
	ts, ok := base62(stamp)
	if !ok {
		return nil, invalidf("timestamp not base62")
	}
	issued := time.Unix(ts, 0)
	if age := now.Sub(issued); age > imp.maxAge {
		return nil, fmt.Errorf("%w: django: session saved %ds ago, over SESSION_COOKIE_AGE (%ds)",
			cookiesession.ErrExpired, int64(age/time.Second), int64(imp.maxAge/time.Second))
	}
	data, err := decodePayload(payload)
	if err != nil {
		return nil, err
	}
	var values map[string]json.RawMessage
	if json.Unmarshal(data, &values) != nil || values == nil {
		return nil, invalidf("session is not a JSON object (only the JSON serializer is supported)")
	}
	expiry := issued.Add(imp.maxAge)
	// A session that set a shorter expiry in seconds (set_expiry(n)) had its
	// cookie's Max-Age set to it: the browser dropped it then.
	var seconds int64
	if raw, ok := values["_session_expiry"]; ok && json.Unmarshal(raw, &seconds) == nil &&
		seconds > 0 && seconds < int64(imp.maxAge/time.Second) {
		expiry = issued.Add(time.Duration(seconds) * time.Second)
		if !now.Before(expiry) {
			return nil, fmt.Errorf("%w: django: past the session's own expiry (_session_expiry %ds)", cookiesession.ErrExpired, seconds)
		}
	}
	return &cookiesession.Imported{Values: values, IssuedAt: issued, Expiry: expiry}, nil
}

// verify reports whether sig is the signature of signed under one of the
// keys, comparing the encoded forms as Django does.
func (imp *Importer) verify(signed, sig string) bool {
	var want [sha256SigLen]byte
	var sum [sha256.Size]byte
	ok := 0
	for _, k := range imp.keys {
		var key []byte
		var h func() hash.Hash
		switch {
		case len(sig) == sha256SigLen:
			key, h = k.sha256, sha256.New
		case len(sig) == sha1SigLen && k.sha1 != nil:
			key, h = k.sha1, sha1.New
		default:
			continue
		}
		m := hmac.New(h, key)
		io.WriteString(m, signed)
		b := base64.RawURLEncoding.AppendEncode(want[:0], m.Sum(sum[:0]))
		ok |= subtle.ConstantTimeCompare(b, []byte(sig))
	}
	return ok == 1
}

// zlibReaders are reset for each compressed payload: a new reader costs
// about 40 KB and most of the time of opening a cookie.
var zlibReaders sync.Pool // of io.ReadCloser, each a zlib.Resetter

// decodePayload returns the JSON a payload carries: base64url, or "."
// then base64url of zlib.
func decodePayload(payload string) ([]byte, error) {
	compressed := strings.HasPrefix(payload, ".")
	if compressed {
		payload = payload[1:]
	}
	data, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return nil, invalidf("payload not base64url")
	}
	if !compressed {
		return data, nil
	}
	zr, ok := zlibReaders.Get().(io.ReadCloser)
	if ok {
		err = zr.(zlib.Resetter).Reset(bytes.NewReader(data), nil)
	} else {
		zr, err = zlib.NewReader(bytes.NewReader(data))
	}
	if err != nil {
		return nil, invalidf("compressed payload unreadable")
	}
	defer zlibReaders.Put(zr)
	out, err := io.ReadAll(io.LimitReader(zr, cookiesession.MaxPlaintextBytes+1))
	if err != nil {
		return nil, invalidf("compressed payload malformed")
	}
	if len(out) > cookiesession.MaxPlaintextBytes {
		return nil, invalidf("compressed payload inflates past %d bytes", cookiesession.MaxPlaintextBytes)
	}
	return out, nil
}

// base62 decodes Django's base62 timestamp (digits "0-9A-Za-z", most
// significant first).
func base62(s string) (int64, bool) {
	if s == "" || len(s) > maxTimestamp {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'A' <= c && c <= 'Z':
			d = c - 'A' + 10
		case 'a' <= c && c <= 'z':
			d = c - 'a' + 36
		default:
			return 0, false
		}
		n = n*62 + int64(d)
	}
	return n, true
}

func cutLast(s string, sep byte) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: django: %s", cookiesession.ErrInvalid, fmt.Sprintf(format, args...))
}
