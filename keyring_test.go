package cookiesession

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestDeriveKeyPinned pins the content key of a fixed secret, mode and
// purpose to values computed outside the package from the documented rule:
// HKDF-SHA256, no salt, info = three fields each a 4-byte big-endian length
// and its bytes: "cookiesession/v1", "A256GCM" or "HS256", the purpose.
func TestDeriveKeyPinned(t *testing.T) {
	for _, tc := range []struct {
		mode    Mode
		alg     string
		purpose string
		want    string // computed by a separate program with crypto/hmac only (RFC 5869 by hand)
	}{
		{Encrypted, "A256GCM", "sess", "d523bb1308a959ee1a72086dd736a83797f5992d32f71a31ceb79b21a3d64aae"},
		{Signed, "HS256", "sess", "bc21c6fca48deb58a51311d7e2486cd4d1904b136d39cae8c62ae1ce937fa13c"},
	} {
		got := deriveKey(fxSecret1, tc.mode, tc.purpose)
		if hex.EncodeToString(got) != tc.want {
			t.Fatalf("%v %q: derived %x, want %s", tc.mode, tc.purpose, got, tc.want)
		}
		// The same rule again, here: the standard library's HKDF over an
		// info built by hand, and RFC 5869 written out with HMAC.
		var info []byte
		for _, f := range []string{"cookiesession/v1", tc.alg, tc.purpose} {
			info = binary.BigEndian.AppendUint32(info, uint32(len(f)))
			info = append(info, f...)
		}
		std, err := hkdf.Key(sha256.New, fxSecret1, nil, string(info), 32)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(std, got) || !bytes.Equal(fxHKDF(fxSecret1, info), got) {
			t.Fatalf("%v: stdlib %x, by hand %x, package %x", tc.mode, std, fxHKDF(fxSecret1, info), got)
		}
	}
	// And the codecs use exactly these keys: a JWE built with the pinned
	// key opens.
	c := fxCodec(t, CodecConfig{Keys: fxRing(t, fxKey(t, "k1", fxSecret1))})
	_, _, err := c.Open(fxJWE(t, fxHex("d523bb1308a959ee1a72086dd736a83797f5992d32f71a31ceb79b21a3d64aae"),
		`{"alg":"dir","enc":"A256GCM","kid":"k1"}`, "", fxGoodClaims()), fxNow)
	fxCheckErr(t, err, nil)
	s := fxCodec(t, CodecConfig{Mode: Signed, Keys: fxRing(t, fxKey(t, "k1", fxSecret1))})
	_, _, err = s.Open(fxJWS(fxHex("bc21c6fca48deb58a51311d7e2486cd4d1904b136d39cae8c62ae1ce937fa13c"),
		`{"alg":"HS256","kid":"k1"}`, fxGoodClaims(), sha256.New), fxNow)
	fxCheckErr(t, err, nil)
}

// fxHKDF is RFC 5869 for one block of SHA-256 output with no salt.
func fxHKDF(secret, info []byte) []byte {
	m := hmac.New(sha256.New, make([]byte, sha256.Size))
	m.Write(secret)
	m = hmac.New(sha256.New, m.Sum(nil))
	m.Write(info)
	m.Write([]byte{1})
	return m.Sum(nil)
}

// TestDeriveKeyInjective: inputs that a plain concatenation would confuse
// give distinct keys.
func TestDeriveKeyInjective(t *testing.T) {
	type in struct {
		mode    Mode
		purpose string
	}
	inputs := []in{
		{Encrypted, "a"}, {Signed, "a"}, {Encrypted, ""}, {Signed, ""},
		{Encrypted, "A256GCMa"}, {Signed, "A256GCMa"}, {Encrypted, "HS256a"}, {Signed, "HS256a"},
		{Encrypted, "\x00\x00\x00\x01a"}, {Encrypted, "a\x00"}, {Encrypted, "\x00a"},
		{Encrypted, "sess"}, {Encrypted, "sess.1"}, {Encrypted, "Sess"}, {Encrypted, "sess "},
		{Encrypted, "\x00\x00\x00\x07A256GCM\x00\x00\x00\x01a"},
	}
	seen := map[string]in{}
	for _, x := range inputs {
		k := hex.EncodeToString(deriveKey(fxSecret1, x.mode, x.purpose))
		if prev, dup := seen[k]; dup {
			t.Fatalf("%v and %v derive the same key", prev, x)
		}
		seen[k] = x
		if bytes.Contains(deriveKey(fxSecret1, x.mode, x.purpose), fxSecret1[:8]) {
			t.Fatal("derived key contains the master secret")
		}
	}
	// Other secrets, other keys; deterministic for one input.
	if bytes.Equal(deriveKey(fxSecret1, Encrypted, "a"), deriveKey(fxSecret2, Encrypted, "a")) {
		t.Fatal("two secrets derive one key")
	}
	if !bytes.Equal(deriveKey(fxSecret1, Encrypted, "a"), deriveKey(fxSecret1, Encrypted, "a")) {
		t.Fatal("derivation is not deterministic")
	}
	// A purpose is bound: the codec for purpose "a" cannot open "b"'s.
	ring := fxRing12(t)
	a := fxCodec(t, CodecConfig{Name: "x", Purpose: "a", Keys: ring})
	b := fxCodec(t, CodecConfig{Name: "x", Purpose: "b", Keys: ring})
	_, _, err := b.Open(fxSeal(t, a, fxPayload(t, nil)), fxNow)
	fxCheckErr(t, err, ErrInvalid)
}

// TestParseKeyRingErrors: every mistake is ErrConfig, names the key, and
// never echoes key bytes.
func TestParseKeyRingErrors(t *testing.T) {
	secret := bytes.Repeat([]byte{0xA5, 0x5A, 0x3C}, 11)[:32]
	k := fxB64(secret)
	short := fxB64(secret[:16])
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecJWK, err := json.Marshal(jose.JSONWebKey{Key: ecKey, KeyID: "ec1"})
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaJWK, err := json.Marshal(jose.JSONWebKey{Key: rsaKey, KeyID: "rsa1"})
	if err != nil {
		t.Fatal(err)
	}
	ecD, err := ecKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	rsaD := rsaKey.D.Bytes()
	good := `{"kty":"oct","kid":"good","k":"` + k + `"}`
	for _, tc := range []struct {
		name, jwks string
		says       []string
	}{
		{"short-key", `{"keys":[{"kty":"oct","kid":"short","k":"` + short + `"}]}`, []string{`key 1 (kid "short")`, "16 bytes"}},
		{"second-key-short", `{"keys":[` + good + `,{"kty":"oct","kid":"s2","k":"` + short + `"}]}`, []string{`key 2 (kid "s2")`}},
		{"empty-k", `{"keys":[{"kty":"oct","kid":"e","k":""}]}`, []string{`kid "e"`}},
		{"duplicate-kid", `{"keys":[` + good + `,` + good + `]}`, []string{"duplicate", `"good"`, "key 2"}},
		{"empty-kid", `{"keys":[{"kty":"oct","kid":"","k":"` + k + `"}]}`, []string{"key 1", "empty"}},
		{"missing-kid", `{"keys":[{"kty":"oct","k":"` + k + `"}]}`, []string{"key 1", "empty"}},
		{"kid-space", `{"keys":[{"kty":"oct","kid":"a b","k":"` + k + `"}]}`, []string{`"a b"`, "not allowed"}},
		{"kid-slash", `{"keys":[{"kty":"oct","kid":"a/b","k":"` + k + `"}]}`, []string{`"a/b"`}},
		{"kid-quote", `{"keys":[{"kty":"oct","kid":"a\"b","k":"` + k + `"}]}`, []string{"key 1"}},
		{"kid-unicode", `{"keys":[{"kty":"oct","kid":"clé","k":"` + k + `"}]}`, []string{"key 1"}},
		{"kid-too-long", `{"keys":[{"kty":"oct","kid":"` + strings.Repeat("a", 65) + `","k":"` + k + `"}]}`, []string{"key 1", "longer"}},
		{"kid-number", `{"keys":[{"kty":"oct","kid":7,"k":"` + k + `"}]}`, []string{"key 1"}},
		{"kty-EC", `{"keys":[` + string(ecJWK) + `]}`, []string{`key 1 (kid "ec1")`, `"EC"`}},
		{"kty-RSA", `{"keys":[` + good + `,` + string(rsaJWK) + `]}`, []string{`key 2 (kid "rsa1")`, `"RSA"`}},
		{"kty-missing", `{"keys":[{"kid":"m","k":"` + k + `"}]}`, []string{`kid "m"`, "kty"}},
		{"kty-lowercase", `{"keys":[{"kty":"OCT","kid":"m","k":"` + k + `"}]}`, []string{`kid "m"`}},
		{"k-not-base64", `{"keys":[{"kty":"oct","kid":"bad","k":"` + k + `!!"}]}`, []string{`key 1 (kid "bad")`, `"k"`}},
		{"k-std-base64", `{"keys":[{"kty":"oct","kid":"std","k":"` + strings.Repeat("+/", 22) + `"}]}`, []string{`kid "std"`}},
		{"k-number", `{"keys":[{"kty":"oct","kid":"num","k":12345}]}`, []string{`kid "num"`}},
		{"k-missing", `{"keys":[{"kty":"oct","kid":"none"}]}`, []string{`kid "none"`}},
		{"key-not-object", `{"keys":[` + good + `,"` + k + `"]}`, []string{"key 2"}},
		{"not-a-set-array", `[` + good + `]`, []string{"JWK Set"}},
		{"not-a-set-single-key", good, []string{"JWK Set"}},
		{"not-a-set-empty-object", `{}`, []string{"JWK Set"}},
		{"not-a-set-null-keys", `{"keys":null}`, []string{"JWK Set"}},
		{"not-a-set-keys-object", `{"keys":{"a":` + good + `}}`, []string{"JWK Set"}},
		{"not-json", `keys: ` + k, []string{"JWK Set"}},
		{"empty-input", ``, []string{"JWK Set"}},
		{"truncated", `{"keys":[` + good, []string{"JWK Set"}},
		{"no-keys", `{"keys":[]}`, []string{"no keys"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ring, err := ParseKeyRing([]byte(tc.jwks))
			if ring != nil {
				t.Fatal("ring returned with error")
			}
			fxCheckErr(t, err, ErrConfig)
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Fatalf("error %q does not say %q", err, s)
				}
			}
			fxNoSecrets(t, "error", err.Error(), secret, secret[:16], ecD, rsaD, rsaKey.Primes[0].Bytes())
			for _, s := range []string{k, short, k[:20]} {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error %q contains the key's k", err)
				}
			}
		})
	}
	// The good key alone parses.
	ring, err := ParseKeyRing([]byte(`{"keys":[` + good + `]}`))
	if err != nil || ring.Primary() != "good" {
		t.Fatalf("good ring: %v %v", ring, err)
	}
	// Extra JWK members (alg, use) are tolerated.
	if _, err := ParseKeyRing([]byte(`{"keys":[{"kty":"oct","kid":"x","alg":"A256GCM","use":"enc","k":"` + k + `"}]}`)); err != nil {
		t.Fatalf("alg/use members: %v", err)
	}
}

func TestNewKeyAndRing(t *testing.T) {
	for name, f := range map[string]func() error{
		"short":       func() error { _, err := NewKey("a", fxSecret1[:31]); return err },
		"nil":         func() error { _, err := NewKey("a", nil); return err },
		"empty-id":    func() error { _, err := NewKey("", fxSecret1); return err },
		"bad-id":      func() error { _, err := NewKey("a,b", fxSecret1); return err },
		"empty-ring":  func() error { _, err := NewKeyRing(); return err },
		"zero-key":    func() error { _, err := NewKeyRing(Key{}); return err },
		"dup-ring":    func() error { _, err := NewKeyRing(fxKey(t, "a", fxSecret1), fxKey(t, "a", fxSecret2)); return err },
		"without-all": func() error { _, err := fxRing(t, fxKey(t, "a", fxSecret1)).Without("a"); return err },
		"without-unknown": func() error {
			_, err := fxRing12(t).Without("zz")
			return err
		},
		"rotate-dup": func() error { _, err := fxRing12(t).Rotate(fxKey(t, "k2", fxSecret3), -1); return err },
	} {
		t.Run(name, func(t *testing.T) { fxCheckErr(t, f(), ErrConfig) })
	}
	// NewKey copies the secret.
	s := bytes.Clone(fxSecret1)
	k := fxKey(t, "a", s)
	s[0] ^= 0xff
	if k.bytes()[0] != fxSecret1[0] {
		t.Fatal("NewKey does not copy the secret")
	}
	// GenerateKey: 32 random bytes, a dated id when none is given.
	g1, err := GenerateKey("")
	if err != nil {
		t.Fatal(err)
	}
	g2, err := GenerateKey("named")
	if err != nil {
		t.Fatal(err)
	}
	if g2.ID() != "named" || len(g1.bytes()) != MinKeyBytes || bytes.Equal(g1.bytes(), g2.bytes()) || checkKid(g1.ID()) != nil {
		t.Fatalf("GenerateKey: %v %v", g1, g2)
	}
	// Rotate and Without keep order; keep bounds the old keys.
	r := fxRing12(t)
	r3, err := r.Rotate(fxKey(t, "k3", fxSecret3), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r3.IDs(), ","); got != "k3,k1" || r3.Primary() != "k3" {
		t.Fatalf("Rotate keep 1: %s", got)
	}
	if got := strings.Join(r.IDs(), ","); got != "k1,k2" {
		t.Fatalf("Rotate changed the original ring: %s", got)
	}
	r4, err := r3.Without("k3")
	if err != nil || r4.Primary() != "k1" {
		t.Fatalf("Without: %v %v", r4, err)
	}
}

// TestExportJWKSRoundTrip: the exported set parses back to a ring that opens
// and seals the same cookies.
func TestExportJWKSRoundTrip(t *testing.T) {
	r := fxRing(t, fxKey(t, "k1", fxSecret1), fxKey(t, "k2", fxSecret2), fxKey(t, "k3", fxSecret3))
	out, err := r.ExportJWKS()
	if err != nil {
		t.Fatal(err)
	}
	r2, err := ParseKeyRing(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(r2.IDs(), ",") != "k1,k2,k3" {
		t.Fatalf("ids %v", r2.IDs())
	}
	a := fxCodec(t, CodecConfig{Keys: r})
	b := fxCodec(t, CodecConfig{Keys: r2})
	_, _, err = b.Open(fxSeal(t, a, fxPayload(t, fxSmallValues())), fxNow)
	fxCheckErr(t, err, nil)
	if !strings.Contains(string(out), fxB64(fxSecret1)) {
		t.Fatal("ExportJWKS does not hold the secret")
	}
}

// TestKeyNeverPrintsSecret: Key, KeyRing, Keys and KeyFile through every fmt
// verb, log/slog, log and encoding/json, alone and nested.
func TestKeyNeverPrintsSecret(t *testing.T) {
	k := fxKey(t, "k1", fxSecret1)
	r := fxRing12(t)
	holder := NewKeys(r)
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	jwks, _ := r.ExportJWKS()
	if err := os.WriteFile(path, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	kf, err := OpenKeyFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	type exported struct {
		Key  Key
		Ring *KeyRing
		Keys []Key
	}
	type unexported struct {
		key  Key
		ring *KeyRing
		keys []Key
		m    map[string]Key
	}
	values := map[string]any{
		"key": k, "*key": &k, "ring": r, "*ring-deref": *r, "holder": holder, "keyfile": kf,
		"slice": []Key{k, k}, "map": map[string]Key{"a": k}, "any-slice": []any{k, r},
		"exported": exported{k, r, []Key{k}}, "*exported": &exported{k, r, []Key{k}},
		"unexported":  unexported{k, r, []Key{k}, map[string]Key{"a": k}},
		"*unexported": &unexported{k, r, []Key{k}, map[string]Key{"a": k}},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q", "%T", "%p", "%08b", "%o", "%U", "%c", "%e"}
	for name, v := range values {
		for _, verb := range verbs {
			fxNoSecrets(t, name+" "+verb, fmt.Sprintf(verb, v))
		}
		fxNoSecrets(t, name+" Sprint", fmt.Sprint(v)+fmt.Sprintln(v, v))
		j, err := json.Marshal(v)
		if err == nil {
			fxNoSecrets(t, name+" json", string(j))
		}
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			slog.New(h(&buf)).Info("msg", "v", v, slog.Any("any", v), slog.Group("g", "v", v))
			fxNoSecrets(t, name+" slog", buf.String())
		}
		var buf bytes.Buffer
		log.New(&buf, "", 0).Printf("%v %+v", v, v)
		fxNoSecrets(t, name+" log", buf.String())
	}
	if s := fmt.Sprint(k); s != "Key(k1)" {
		t.Fatalf("Key prints %q", s)
	}
	if s := fmt.Sprintf("%+v", r); s != "KeyRing(k1, k2)" {
		t.Fatalf("KeyRing prints %q", s)
	}
	if j, _ := json.Marshal(k); string(j) != `"Key(k1)"` {
		t.Fatalf("Key JSON %s", j)
	}
	if !strings.Contains(kf.String(), "KeyRing(k1, k2)") || holder.String() != "KeyRing(k1, k2)" {
		t.Fatalf("holders print %q %q", kf, holder)
	}
}

// TestKeysReplaceConcurrent replaces the ring while seals and opens run (run
// with -race): every value opens, under whichever ring is in force.
func TestKeysReplaceConcurrent(t *testing.T) {
	k1, k2, k3 := fxKey(t, "k1", fxSecret1), fxKey(t, "k2", fxSecret2), fxKey(t, "k3", fxSecret3)
	rings := []*KeyRing{fxRing(t, k1, k2, k3), fxRing(t, k2, k3, k1), fxRing(t, k3, k1, k2)}
	holder := NewKeys(rings[0])
	enc := fxCodec(t, CodecConfig{Keys: holder})
	sig := fxCodec(t, CodecConfig{Keys: holder, Mode: Signed})
	var stop atomic.Bool
	var replaced atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			holder.Replace(rings[i%len(rings)])
			replaced.Add(1)
			// GOOS=js and wasip1 run goroutines on one thread without
			// preemption: without a yield this loop would starve the
			// openers and never stop.
			runtime.Gosched()
		}
	}()
	var opened atomic.Int64
	primaries := sync.Map{}
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := enc
			if g%2 == 1 {
				c = sig
			}
			p := fxPayload(t, map[string]any{"g": g})
			for range 300 {
				s, err := c.Seal(p)
				if err != nil {
					errs <- err
					return
				}
				got, info, err := c.Open(s, fxNow)
				if err != nil {
					errs <- fmt.Errorf("open under concurrent Replace: %w", err)
					return
				}
				if string(got.Values["g"]) != fmt.Sprint(g) {
					errs <- fmt.Errorf("values %s", got.Values["g"])
					return
				}
				primaries.Store(info.KeyID, true)
				opened.Add(1)
				runtime.Gosched() // interleave with Replace on one thread too
			}
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for opened.Load() < 8*300 && time.Now().Before(deadline) && len(errs) == 0 {
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if opened.Load() != 8*300 || replaced.Load() < 2 {
		t.Fatalf("opened %d, replaced %d", opened.Load(), replaced.Load())
	}
	n := 0
	primaries.Range(func(any, any) bool { n++; return true })
	t.Logf("%d opens across %d replacements, %d distinct key ids", opened.Load(), replaced.Load(), n)
	// After a replacement without k1, what k1 sealed is refused.
	holder.Replace(rings[0])
	s := fxSeal(t, enc, fxPayload(t, nil))
	r, _ := rings[0].Without("k1")
	holder.Replace(r)
	_, _, err := enc.Open(s, fxNow)
	fxCheckErr(t, err, ErrInvalid)
}

// TestKeyFile: a KeyFile notices a rewritten file once the interval passed
// (injected clock), keeps the previous ring on a malformed file and tells
// OnError once per bad content, and codecs follow it.
func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	write := func(b []byte) {
		t.Helper()
		// As a mounted secret changes: a new file renamed over the old one.
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	export := func(r *KeyRing) []byte {
		b, err := r.ExportJWKS()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	k1, k2, k3 := fxKey(t, "k1", fxSecret1), fxKey(t, "k2", fxSecret2), fxKey(t, "k3", fxSecret3)
	write(export(fxRing(t, k1, k2)))

	var mu sync.Mutex
	var errs []error
	var changes []string
	kf, err := OpenKeyFile(path, &KeyFileOptions{
		Interval: time.Minute,
		OnError:  func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() },
		OnChange: func(r *KeyRing) { mu.Lock(); changes = append(changes, r.String()); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := fxNow
	kf.f.now = func() time.Time { return clock }
	kf.f.next.Store(clock.Add(time.Minute).UnixNano())

	c := fxCodec(t, CodecConfig{Keys: kf})
	sealedK1 := fxSeal(t, c, fxPayload(t, nil))

	// Rewritten: not read again before the interval...
	write(export(fxRing(t, k3, k1)))
	clock = clock.Add(30 * time.Second)
	if got := kf.KeyRing().Primary(); got != "k1" {
		t.Fatalf("re-read before the interval: primary %s", got)
	}
	// ...then noticed.
	clock = clock.Add(31 * time.Second)
	if got := kf.KeyRing().String(); got != "KeyRing(k3, k1)" {
		t.Fatalf("after the interval: %s", got)
	}
	if len(changes) != 1 || changes[0] != "KeyRing(k3, k1)" {
		t.Fatalf("OnChange calls %v", changes)
	}
	sealedK3 := fxSeal(t, c, fxPayload(t, nil))
	_, info, err := c.Open(sealedK1, clock)
	fxCheckErr(t, err, nil)
	if info.KeyID != "k1" || info.Primary {
		t.Fatalf("old cookie info %+v", info)
	}

	// Malformed content: the previous ring stays, OnError once per content.
	bad := export(fxRing(t, k2))
	bad = bad[:len(bad)/2]
	write(bad)
	for range 3 {
		clock = clock.Add(2 * time.Minute)
		if got := kf.KeyRing().String(); got != "KeyRing(k3, k1)" {
			t.Fatalf("malformed file replaced the ring: %s", got)
		}
	}
	mu.Lock()
	if len(errs) != 1 || !errors.Is(errs[0], ErrConfig) {
		t.Fatalf("OnError calls %v", errs)
	}
	fxNoSecrets(t, "OnError", errs[0].Error())
	mu.Unlock()
	if err := kf.Reload(); !errors.Is(err, ErrConfig) {
		t.Fatalf("Reload of a malformed file: %v", err)
	}
	_, _, err = c.Open(sealedK3, clock)
	fxCheckErr(t, err, nil)

	// A short key in the file: reported, never with the key bytes.
	write([]byte(`{"keys":[{"kty":"oct","kid":"s","k":"` + fxB64(fxSecret2[:20]) + `"}]}`))
	if err := kf.Reload(); !errors.Is(err, ErrConfig) {
		t.Fatalf("Reload of a short key: %v", err)
	} else {
		fxNoSecrets(t, "Reload error", err.Error(), fxSecret2[:20])
	}

	// Fixed: Reload puts it in force at once; k1 removed revokes its cookie.
	write(export(fxRing(t, k3)))
	if err := kf.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := kf.KeyRing().String(); got != "KeyRing(k3)" {
		t.Fatalf("after Reload: %s", got)
	}
	_, _, err = c.Open(sealedK1, clock)
	fxCheckErr(t, err, ErrInvalid)
	_, _, err = c.Open(sealedK3, clock)
	fxCheckErr(t, err, nil)

	// Unchanged content: no OnChange.
	before := len(changes)
	clock = clock.Add(time.Hour)
	kf.KeyRing()
	if err := kf.Reload(); err != nil || len(changes) != before {
		t.Fatalf("unchanged file: %v, %d changes", err, len(changes)-before)
	}

	// A deleted file keeps the ring and reports.
	os.Remove(path)
	if err := kf.Reload(); !errors.Is(err, ErrConfig) {
		t.Fatalf("deleted file: %v", err)
	}
	if got := kf.KeyRing().String(); got != "KeyRing(k3)" {
		t.Fatalf("deleted file replaced the ring: %s", got)
	}

	// Opening a missing or malformed file is an error.
	if _, err := OpenKeyFile(filepath.Join(dir, "none.json"), nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing file: %v", err)
	}
	os.WriteFile(path, bad, 0o600)
	if _, err := OpenKeyFile(path, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("malformed file: %v", err)
	}
}
