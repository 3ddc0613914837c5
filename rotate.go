package cookiesession

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/hkdf"
)

// MinKeyBytes is the smallest master secret accepted: 256 bits, the key size
// of A256GCM and the output size of HMAC-SHA256, so derivation never stretches
// a weaker secret.
const MinKeyBytes = 32

// maxKidLen bounds a key id. It travels in every cookie's header.
const maxKidLen = 64

// A Key is one master secret of a [KeyRing] with its key id. Content keys are
// derived from it per mode and purpose (see [Codec]); the secret itself never
// encrypts or signs anything.
//
// A Key never prints its secret: fmt verbs, slog and encoding/json see only
// its id.
type Key struct {
	id string
	// secret returns the master secret. It is a func, not a []byte: fmt
	// prints a func as an address whatever the verb and the nesting, so a
	// Key in an unexported field or a dereferenced KeyRing, where fmt cannot
	// call Format, still never prints the bytes.
	secret func() []byte
}

// bytes returns the master secret.
func (k Key) bytes() []byte {
	if k.secret == nil {
		return nil
	}
	return k.secret()
}

// NewKey returns a key with the given id and a copy of secret. The id must be
// 1 to 64 characters from A-Z a-z 0-9 - _ . ~ and the secret at least
// MinKeyBytes long; otherwise the error wraps [ErrConfig].
func NewKey(id string, secret []byte) (Key, error) {
	if err := checkKid(id); err != nil {
		return Key{}, err
	}
	if len(secret) < MinKeyBytes {
		return Key{}, configErrorf("key %q: %d bytes, need at least %d", id, len(secret), MinKeyBytes)
	}
	b := bytes.Clone(secret)
	return Key{id: id, secret: func() []byte { return b }}, nil
}

// GenerateKey returns a new key of 32 random bytes. An empty id is replaced by
// one made of today's date and random hex, such as "20261126-3f9a1c2b".
func GenerateKey(id string) (Key, error) {
	secret := make([]byte, MinKeyBytes)
	if _, err := io.ReadFull(rand.Reader, secret); err != nil {
		return Key{}, fmt.Errorf("cookiesession: reading random bytes: %w", err)
	}
	if id == "" {
		id = time.Now().UTC().Format("20060102") + "-" + randomHex(4)
	}
	return NewKey(id, secret)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = io.ReadFull(rand.Reader, b)
	return hex.EncodeToString(b)
}

// ID returns the key id, the "kid" of every cookie sealed with this key.
func (k Key) ID() string { return k.id }

// String returns "Key(ID)"; the secret is never printed.
func (k Key) String() string { return "Key(" + k.id + ")" }

// GoString is like String, so %#v does not print the secret either.
func (k Key) GoString() string { return k.String() }

// Format prints k as String does for every verb, so no verb (%x, %d, %+v)
// reaches the secret through reflection.
func (k Key) Format(f fmt.State, verb rune) { io.WriteString(f, k.String()) }

// LogValue makes log/slog print only the id.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalJSON returns the id only; use [KeyRing.ExportJWKS] to write secrets.
func (k Key) MarshalJSON() ([]byte, error) { return json.Marshal(k.String()) }

func checkKid(id string) error {
	if id == "" {
		return configErrorf("key id is empty")
	}
	if len(id) > maxKidLen {
		return configErrorf("key id %.16q…: longer than %d characters", id, maxKidLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return configErrorf("key id %q: character %q not allowed (use A-Z a-z 0-9 - _ . ~)", id, c)
		}
	}
	return nil
}

// A KeyRing is an ordered, immutable set of keys. The first key is the
// primary: it seals every new cookie. Every key opens the cookies sealed with
// it, looked up by the cookie's key id. A cookie opened with a key other than
// the primary is re-sealed with the primary on the same response by [Manager],
// so an old key can be removed once the longest session lifetime has passed
// since it stopped being primary. Removing a key at once invalidates every
// session sealed with it: that is the emergency revocation.
//
// A KeyRing is a [KeySource] that always returns itself. It never prints its
// secrets: String, %v, %#v and slog show only key ids.
type KeyRing struct {
	keys []Key
	ids  string // "a, b, c" for String
}

// NewKeyRing returns a ring of the given keys, the first primary. It is an
// error (wrapping [ErrConfig]) to pass no key, a zero Key or two keys with one
// id.
func NewKeyRing(keys ...Key) (*KeyRing, error) {
	if len(keys) == 0 {
		return nil, configErrorf("key ring has no keys")
	}
	seen := make(map[string]bool, len(keys))
	ids := make([]string, len(keys))
	for i, k := range keys {
		if k.id == "" || len(k.bytes()) < MinKeyBytes {
			return nil, configErrorf("key ring: key %d is not a key made by NewKey or GenerateKey", i+1)
		}
		if seen[k.id] {
			return nil, configErrorf("key ring: key %d: duplicate key id %q", i+1, k.id)
		}
		seen[k.id] = true
		ids[i] = k.id
	}
	return &KeyRing{keys: append([]Key(nil), keys...), ids: strings.Join(ids, ", ")}, nil
}

// ParseKeyRing reads a JWK Set (RFC 7517 section 5), {"keys":[…]}, whose
// keys are all symmetric ("kty":"oct") with a "kid" and a "k" of at least
// MinKeyBytes bytes. The first key is the primary. Errors wrap [ErrConfig]
// and name the key (by position and kid) and the problem; they never contain
// key bytes.
func ParseKeyRing(jwks []byte) (*KeyRing, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil || set.Keys == nil {
		return nil, configErrorf(`key ring: not a JWK Set ({"keys":[…]})`)
	}
	keys := make([]Key, 0, len(set.Keys))
	for i, raw := range set.Keys {
		var head struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, configErrorf("key ring: key %d: not a JSON object", i+1)
		}
		where := fmt.Sprintf("key ring: key %d (kid %q)", i+1, head.Kid)
		if head.Kty != "oct" {
			return nil, configErrorf(`%s: kty %q, need "oct" (a symmetric secret)`, where, head.Kty)
		}
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			// go-jose's text may quote the input: keep it out.
			return nil, configErrorf(`%s: malformed "k" (want base64url without padding)`, where)
		}
		secret, ok := jwk.Key.([]byte)
		if !ok {
			return nil, configErrorf("%s: not a symmetric key", where)
		}
		k, err := NewKey(head.Kid, secret)
		if re := (*reasonError)(nil); errors.As(err, &re) {
			return nil, configErrorf("%s: %s", where, re.reason)
		}
		keys = append(keys, k)
	}
	return NewKeyRing(keys...)
}

// KeyRingFromEnv parses the JWK Set held by the environment variable name
// (by convention COOKIESESSION_KEYS).
func KeyRingFromEnv(name string) (*KeyRing, error) {
	v, ok := os.LookupEnv(name)
	switch {
	case !ok:
		return nil, configErrorf("environment variable %s is not set", name)
	case strings.TrimSpace(v) == "":
		return nil, configErrorf("environment variable %s is empty", name)
	}
	r, err := ParseKeyRing([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("environment variable %s: %w", name, err)
	}
	return r, nil
}

// ReadKeyRingFile parses the JWK Set in the named file once. See
// [OpenKeyFile] for a ring that follows changes to the file.
func ReadKeyRingFile(path string) (*KeyRing, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, configErrorf("key ring file: %v", err)
	}
	return ParseKeyRing(b)
}

// ExportJWKS writes the ring as a JWK Set, primary first. The output holds
// the secrets: it is for writing configuration, never for logs.
func (r *KeyRing) ExportJWKS() ([]byte, error) {
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(r.keys))}
	for i, k := range r.keys {
		set.Keys[i] = jose.JSONWebKey{Key: k.bytes(), KeyID: k.id}
	}
	return json.MarshalIndent(set, "", "  ")
}

// Rotate returns a new ring with key in front as the primary, followed by at
// most keep keys of r in their order (all of them when keep is negative).
func (r *KeyRing) Rotate(key Key, keep int) (*KeyRing, error) {
	old := r.keys
	if keep >= 0 && keep < len(old) {
		old = old[:keep]
	}
	return NewKeyRing(append([]Key{key}, old...)...)
}

// Without returns a new ring without the key with the given id: every
// session sealed with it becomes invalid. It is an error to remove the last
// key or an id the ring does not hold.
func (r *KeyRing) Without(id string) (*KeyRing, error) {
	keys := make([]Key, 0, len(r.keys))
	for _, k := range r.keys {
		if k.id != id {
			keys = append(keys, k)
		}
	}
	if len(keys) == len(r.keys) {
		return nil, configErrorf("key ring has no key %q", id)
	}
	return NewKeyRing(keys...)
}

// Primary returns the id of the key that seals new cookies.
func (r *KeyRing) Primary() string { return r.keys[0].id }

// IDs returns the key ids, primary first.
func (r *KeyRing) IDs() []string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// KeyRing returns r: a fixed ring is its own [KeySource].
func (r *KeyRing) KeyRing() *KeyRing { return r }

// String returns "KeyRing(primary, other, …)" with ids only.
func (r *KeyRing) String() string { return "KeyRing(" + r.ids + ")" }

// GoString is like String.
func (r *KeyRing) GoString() string { return r.String() }

// Format prints r as String does for every verb.
func (r *KeyRing) Format(f fmt.State, verb rune) { io.WriteString(f, r.String()) }

// LogValue makes log/slog print only the ids.
func (r *KeyRing) LogValue() slog.Value { return slog.StringValue(r.String()) }

// A KeySource gives the key ring in force. KeyRing is called on every seal
// and open, so it must be cheap and safe for concurrent use; when it returns
// a different ring than before, content keys are derived again once.
// [*KeyRing], [*Keys] and [*KeyFile] are KeySources.
type KeySource interface {
	KeyRing() *KeyRing
}

// Keys holds a key ring that can be replaced at run time, atomically: a
// request in flight uses either the old ring or the new one, never a mix.
type Keys struct {
	ring atomic.Pointer[KeyRing]
}

// NewKeys returns a holder of ring, which must not be nil.
func NewKeys(ring *KeyRing) *Keys {
	if ring == nil {
		panic("cookiesession: NewKeys(nil)")
	}
	k := new(Keys)
	k.ring.Store(ring)
	return k
}

// KeyRing returns the ring in force.
func (k *Keys) KeyRing() *KeyRing { return k.ring.Load() }

// Replace puts ring in force for every later seal and open.
func (k *Keys) Replace(ring *KeyRing) {
	if ring == nil {
		panic("cookiesession: Keys.Replace(nil)")
	}
	k.ring.Store(ring)
}

// String returns the ring's String.
func (k *Keys) String() string { return k.KeyRing().String() }

// DefaultKeyFileInterval is the default for KeyFileOptions.Interval.
const DefaultKeyFileInterval = time.Second

// KeyFileOptions configure [OpenKeyFile]. A nil *KeyFileOptions means every
// default.
type KeyFileOptions struct {
	// Interval is how often the file is read again to notice a change, at
	// most once per Interval and only when a cookie is sealed or opened. The
	// default value is DefaultKeyFileInterval (one second).
	Interval time.Duration

	// OnError is called when a changed file does not parse; the previous ring
	// stays in force. The default value logs with log/slog.
	OnError func(error)

	// OnChange is called after a changed file put a new ring in force. The
	// default value is nil.
	OnChange func(*KeyRing)
}

// A KeyFile is a [KeySource] that follows a JWK Set file, such as a mounted
// Kubernetes secret: the file is read again at most once per interval, from
// the request that notices the interval passed, and a new ring put in force
// when its content changed. A file that no longer parses (half-written, or a
// mistake) leaves the previous ring in force and is reported to OnError.
type KeyFile struct {
	f *followed[KeyRing]
}

// OpenKeyFile reads the ring in path, which must parse, and returns a source
// that follows later changes to the file.
func OpenKeyFile(path string, opts *KeyFileOptions) (*KeyFile, error) {
	var o KeyFileOptions
	if opts != nil {
		o = *opts
	}
	f, err := openFollowed(path, "key ring file", 0, ParseKeyRing, o.Interval, DefaultKeyFileInterval,
		o.OnError, o.OnChange, "cookiesession: key file not reloaded; previous ring stays in force")
	if err != nil {
		return nil, err
	}
	return &KeyFile{f: f}, nil
}

// KeyRing returns the ring in force, reading the file again first when the
// interval has passed.
func (f *KeyFile) KeyRing() *KeyRing { return f.f.get() }

// Reload reads the file now and returns why it was not put in force, if it
// was not. It is nil when the ring is unchanged or was replaced.
func (f *KeyFile) Reload() error { return f.f.Reload() }

// String names the file and the ring in force.
func (f *KeyFile) String() string {
	return "KeyFile(" + f.f.path + ": " + f.f.cur.Load().String() + ")"
}

// GoString is like String.
func (f *KeyFile) GoString() string { return f.String() }

// Format prints f as String does for every verb, so that no verb prints its
// fields (the content hash of the key file among them).
func (f *KeyFile) Format(s fmt.State, verb rune) { io.WriteString(s, f.String()) }

// GoString is like String.
func (k *Keys) GoString() string { return k.String() }

// Format prints k as String does for every verb.
func (k *Keys) Format(s fmt.State, verb rune) { io.WriteString(s, k.String()) }

// Mode is how a cookie is protected.
type Mode uint8

const (
	// Encrypted seals with JWE "dir" + "A256GCM": the client can neither read
	// nor change the session. It is the default.
	Encrypted Mode = iota
	// Signed signs with JWS "HS256": the client cannot change the session but
	// can read it (the payload is base64url JSON). Use it only for data the
	// user may see.
	Signed
)

func (m Mode) String() string {
	switch m {
	case Encrypted:
		return "encrypted"
	case Signed:
		return "signed"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// formatVersion is bound into every content key: a v2 format will derive
// other keys, so a v1 cookie can never be read as v2 or the reverse.
const formatVersion = "cookiesession/v1"

// deriveKey returns the 32-byte content key of secret for a mode and purpose:
// HKDF-SHA256 (RFC 5869) with no salt and an info of three length-prefixed
// fields, each a 4-byte big-endian length and its bytes: the format version,
// the mode ("A256GCM" or "HS256") and the purpose. The prefixes make the
// encoding injective: no two (version, mode, purpose) give the same info.
func deriveKey(secret []byte, mode Mode, purpose string) []byte {
	alg := "A256GCM"
	if mode == Signed {
		alg = "HS256"
	}
	info := make([]byte, 0, 12+len(formatVersion)+len(alg)+len(purpose))
	for _, field := range []string{formatVersion, alg, purpose} {
		info = binary.BigEndian.AppendUint32(info, uint32(len(field)))
		info = append(info, field...)
	}
	out := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, info), out); err != nil {
		panic("cookiesession: hkdf: " + err.Error()) // cannot happen for 32 bytes
	}
	return out
}
