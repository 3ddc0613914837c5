package cookiesession

// Fixtures and helpers shared by the core tests (codec, key ring, vectors,
// fuzz, benchmarks). Every name starts with "fx" so that it cannot collide
// with the session layer's own test helpers in this package.

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// fxNow is the injected clock of the core tests.
var fxNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// Fixed master secrets. Never random, so that failures reproduce and the
// vectors can be regenerated with the same keys.
var (
	fxSecret1 = fxHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	fxSecret2 = fxHex("c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffee0102")
	fxSecret3 = fxHex("5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed")
)

// fxPurposes are every purpose a core test seals or opens for: their derived
// keys are forbidden in error text along with the master secrets.
var fxPurposes = []string{"sess", "other", "app2", "__Host-sess", "a", "", "app-a", "app-b", "x"}

func fxHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func fxKey(t testing.TB, id string, secret []byte) Key {
	t.Helper()
	k, err := NewKey(id, secret)
	if err != nil {
		t.Fatalf("NewKey(%q): %v", id, err)
	}
	return k
}

func fxRing(t testing.TB, keys ...Key) *KeyRing {
	t.Helper()
	r, err := NewKeyRing(keys...)
	if err != nil {
		t.Fatalf("NewKeyRing: %v", err)
	}
	return r
}

// fxRing12 is the usual ring: k1 (primary), k2.
func fxRing12(t testing.TB) *KeyRing {
	return fxRing(t, fxKey(t, "k1", fxSecret1), fxKey(t, "k2", fxSecret2))
}

// fxCodec builds a codec; Name defaults to "sess" and Keys to fxRing12.
func fxCodec(t testing.TB, cfg CodecConfig) *Codec {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "sess"
	}
	if cfg.Keys == nil {
		cfg.Keys = fxRing12(t)
	}
	c, err := NewCodec(cfg)
	if err != nil {
		t.Fatalf("NewCodec: %v", err)
	}
	return c
}

// fxValues marshals each value with encoding/json.
func fxValues(t testing.TB, m map[string]any) map[string]json.RawMessage {
	t.Helper()
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("json.Marshal(%q): %v", k, err)
		}
		out[k] = b
	}
	return out
}

// fxPayload is a session issued ten minutes before fxNow, last active one
// minute before it, expiring 50 minutes after it.
func fxPayload(t testing.TB, values map[string]any) *Payload {
	return &Payload{
		ID:           "c2Vzc2lvbi1pZC0x",
		IssuedAt:     fxNow.Add(-10 * time.Minute),
		LastActivity: fxNow.Add(-time.Minute),
		Expiry:       fxNow.Add(50 * time.Minute),
		Values:       fxValues(t, values),
	}
}

func fxSmallValues() map[string]any {
	return map[string]any{"user": "alice", "n": 42, "roles": []string{"admin", "dev"}}
}

func fxSeal(t testing.TB, c *Codec, p *Payload) string {
	t.Helper()
	s, err := c.Seal(p)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return s
}

// fxSecretOf returns the master secret of kid in the codec's ring.
func fxSecretOf(t testing.TB, c *Codec, kid string) []byte {
	t.Helper()
	for _, k := range c.cfg.Keys.KeyRing().keys {
		if k.id == kid {
			return k.bytes()
		}
	}
	t.Fatalf("no key %q in %v", kid, c.cfg.Keys.KeyRing())
	return nil
}

// fxDerived returns the content key the codec uses for kid: the real key,
// so that a value built by hand with it is rejected only by the rule under
// test, never for the key.
func fxDerived(t testing.TB, c *Codec, kid string) []byte {
	t.Helper()
	return deriveKey(fxSecretOf(t, c, kid), c.cfg.Mode, c.cfg.Purpose)
}

func fxB64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// fxJWE builds a compact JWE by hand: headerJSON verbatim, encKey as the
// second segment (already encoded), AES-GCM under key (16 or 32 bytes) with
// the encoded header as additional data, a random IV.
func fxJWE(t testing.TB, key []byte, headerJSON, encKey string, plaintext []byte) string {
	t.Helper()
	gcm := fxGCM(t, key)
	iv := make([]byte, 12)
	rand.Read(iv)
	h := fxB64([]byte(headerJSON))
	sealed := gcm.Seal(nil, iv, plaintext, []byte(h))
	ct, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	return h + "." + encKey + "." + fxB64(iv) + "." + fxB64(ct) + "." + fxB64(tag)
}

func fxGCM(t testing.TB, key []byte) cipher.AEAD {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return gcm
}

// fxJWS builds a compact JWS by hand with an HMAC of newHash over the
// signing input headerB64 "." payloadB64.
func fxJWS(key []byte, headerJSON string, payload []byte, newHash func() hash.Hash) string {
	input := fxB64([]byte(headerJSON)) + "." + fxB64(payload)
	m := hmac.New(newHash, key)
	m.Write([]byte(input))
	return input + "." + fxB64(m.Sum(nil))
}

// fxJWSRaw signs an already encoded header and payload (used to build
// non-canonical encodings that carry a valid MAC).
func fxJWSRaw(key []byte, headerB64, payloadB64 string) string {
	input := headerB64 + "." + payloadB64
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	return input + "." + fxB64(m.Sum(nil))
}

func fxDeflate(t testing.TB, b []byte, level int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := flate.NewWriter(&out, level)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// fxClaims writes a payload with the given times and values JSON.
func fxClaims(iat, lat, exp int64, v string) []byte {
	return []byte(`{"sid":"c2lk","iat":` + strconv.FormatInt(iat, 10) + `,"lat":` + strconv.FormatInt(lat, 10) +
		`,"exp":` + strconv.FormatInt(exp, 10) + `,"v":` + v + `}`)
}

// fxGoodClaims is a payload valid at fxNow.
func fxGoodClaims() []byte {
	n := fxNow.Unix()
	return fxClaims(n-600, n-60, n+3000, `{"user":"alice"}`)
}

// fxForbidden returns every encoding of every secret and derived key of the
// fixtures: none may ever appear in an error, a log line or a printed key.
var fxForbidden = sync.OnceValue(func() []string {
	var out []string
	add := func(b []byte) {
		out = append(out,
			hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)),
			base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
			base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
			fmt.Sprint(b), fmt.Sprintf("%v", b[:8]), string(b),
		)
	}
	for _, s := range [][]byte{fxSecret1, fxSecret2, fxSecret3, vecOld, vecNew} {
		add(s)
		// A prefix: even part of a key must not leak.
		out = append(out, hex.EncodeToString(s[:12]), base64.RawURLEncoding.EncodeToString(s[:12]))
		for _, m := range []Mode{Encrypted, Signed} {
			for _, p := range fxPurposes {
				add(deriveKey(s, m, p))
			}
		}
	}
	return out
})

// fxNoSecrets fails when text contains key material of the fixtures or
// extra (more secrets specific to a test).
func fxNoSecrets(t testing.TB, what, text string, extra ...[]byte) {
	t.Helper()
	forbidden := fxForbidden()
	for _, b := range extra {
		forbidden = append(forbidden, hex.EncodeToString(b), base64.StdEncoding.EncodeToString(b),
			base64.RawStdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b), fmt.Sprint(b))
		if len(b) >= 8 {
			forbidden = append(forbidden, string(b))
		}
	}
	for _, f := range forbidden {
		if f != "" && strings.Contains(text, f) {
			t.Fatalf("%s contains key material (%.12q…): %q", what, f, text)
		}
	}
}

var fxSentinels = []error{ErrNoCookie, ErrInvalid, ErrExpired, ErrTooLarge, ErrConfig, ErrNoSession}

// fxCheckErr asserts err matches want exactly (and no other sentinel), and
// that its text never names go-jose nor contains key material. want nil
// asserts success.
func fxCheckErr(t testing.TB, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	for _, s := range fxSentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Fatalf("errors.Is(%q, %v) = %v", err, s, got)
		}
	}
	msg := err.Error()
	if strings.Contains(strings.ToLower(msg), "go-jose") || strings.Contains(strings.ToLower(msg), "jose:") {
		t.Fatalf("error text names go-jose: %q", msg)
	}
	fxNoSecrets(t, "error", msg)
}

// fxSegments splits a compact value and re-joins it after f changed it.
func fxEditSegments(sealed string, f func(seg []string)) string {
	seg := strings.Split(sealed, ".")
	f(seg)
	return strings.Join(seg, ".")
}

// fxMutateDecoded decodes segment i, applies f and re-encodes canonically.
func fxMutateDecoded(t testing.TB, sealed string, i int, f func([]byte) []byte) string {
	t.Helper()
	return fxEditSegments(sealed, func(seg []string) {
		b, err := base64.RawURLEncoding.Strict().DecodeString(seg[i])
		if err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		seg[i] = fxB64(f(bytes.Clone(b)))
	})
}

// fxNonCanonical returns seg with its unused trailing bits set, which a
// lenient base64 decoder maps to the same bytes. ok is false when seg has no
// trailing bits (its decoded length is a multiple of 3).
func fxNonCanonical(seg string) (string, bool) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	if len(seg)%4 != 2 && len(seg)%4 != 3 {
		return seg, false
	}
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[last|1]), true
}

// fxCookieHeader writes chunks as a browser's Cookie header.
func fxCookieHeader(chunks []Chunk) string {
	parts := make([]string, len(chunks))
	for i, c := range chunks {
		parts[i] = c.Name + "=" + c.Value
	}
	return strings.Join(parts, "; ")
}

// fxLookup is a lookup over explicit name/value pairs, in order.
func fxLookup(pairs ...string) func(string) []string {
	m := map[string][]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = append(m[pairs[i]], pairs[i+1])
	}
	return func(n string) []string { return m[n] }
}

// fxChunkLookup is a lookup over chunks.
func fxChunkLookup(chunks []Chunk) func(string) []string {
	var pairs []string
	for _, c := range chunks {
		pairs = append(pairs, c.Name, c.Value)
	}
	return fxLookup(pairs...)
}

// fxSameValues compares values by their JSON meaning.
func fxSameValues(t testing.TB, got, want map[string]json.RawMessage) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("values: got %d keys %v, want %d", len(got), fxKeysOf(got), len(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("values: missing %q", k)
		}
		if !fxJSONEqual(g, w) {
			t.Fatalf("values[%q] = %s, want %s", k, g, w)
		}
	}
}

func fxKeysOf(m map[string]json.RawMessage) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func fxJSONEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// fxSealPlaintext seals payload bytes as they are: the JOSE layer of Seal,
// with no copy of its result.
func fxSealPlaintext(c *Codec, payload []byte) (string, error) {
	out, err := c.appendSealed(nil, payload)
	return unsafe.String(unsafe.SliceData(out), len(out)), err
}
