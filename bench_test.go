package cookiesession

// Benchmarks of the codec core, with the two references of the design in
// the same run so that the ratios come out of one run:
//
//   - BenchmarkSeal/Open/RoundTrip: this package, Encode and Decode (seal
//     plus split, join plus open), encrypted, signed and compressed, and
//     "encrypted+json", which also marshals each value from map[string]any
//     and unmarshals each on open, as the floor and go-jose do;
//   - BenchmarkFloor: a hand-written floor, AES-256-GCM + encoding/json of a
//     map[string]any + base64url, on the same session;
//   - BenchmarkGoJose: go-jose's JWE dir/A256GCM (and with DEFLATE), JSON of
//     the same map, ParseEncryptedCompact + Decrypt.
//
// Sizes are the JSON of the values: about 200 B, 2.5 KB, and 10 KB, which
// takes four cookies. SetBytes is the JSON payload with its claims.

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

type benchSize struct {
	name   string
	target int // bytes of JSON of the values, at least
}

var benchSizes = []benchSize{{"200B", 200}, {"2.5KB", 2500}, {"10KB", 10000}}

var benchLimits = Limits{HeaderBudget: 16384, MaxChunks: 4}

// benchValues is a realistic session of at least target bytes of JSON: a
// user, a CSRF token, and a cart of items with random SKUs (so it compresses
// as real data does, not as repeated text).
func benchValues(target int) map[string]any {
	r := mrand.New(mrand.NewPCG(uint64(target), 42))
	m := map[string]any{
		"user":  "alice@example.com",
		"uid":   48213,
		"roles": []any{"admin", "dev"},
		"csrf":  fxRandomText(22, uint64(target)),
		"theme": "dark",
	}
	var cart []any
	size := func() int { j, _ := json.Marshal(m); return len(j) }
	for size() < target-100 {
		cart = append(cart, map[string]any{
			"sku":   fxRandomText(10, r.Uint64()),
			"name":  fmt.Sprintf("Item %d", r.IntN(1000)),
			"qty":   1 + r.IntN(5),
			"price": float64(r.IntN(10000)) / 100,
		})
		m["cart"] = cart
	}
	// A flash message fills up to the target.
	if n := target - size() - len(`,"flash":""`); n > 0 {
		m["flash"] = fxRandomText(n, uint64(n))
	}
	return m
}

// benchCase holds one session in every form the benchmarks need.
type benchCase struct {
	values map[string]any
	raw    map[string]json.RawMessage
	claims map[string]any // values plus claims, for the floor and go-jose
	p      *Payload
	bytes  int
}

func newBenchCase(b *testing.B, target int) *benchCase {
	vals := benchValues(target)
	p := fxPayload(b, vals)
	bc := &benchCase{values: vals, raw: p.Values, p: p}
	bc.claims = map[string]any{"sid": p.ID, "iat": p.IssuedAt.Unix(), "lat": p.LastActivity.Unix(), "exp": p.Expiry.Unix(), "v": vals}
	bc.bytes = len(appendPayload(nil, p))
	return bc
}

func benchCodecs(b *testing.B) []struct {
	name  string
	c     *Codec
	jsonV bool
} {
	ring := fxRing12(b)
	mk := func(cfg CodecConfig) *Codec {
		cfg.Name, cfg.Keys, cfg.Limits = "session", ring, benchLimits
		c, err := NewCodec(cfg)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	return []struct {
		name  string
		c     *Codec
		jsonV bool
	}{
		{"encrypted", mk(CodecConfig{}), false},
		{"encrypted+json", mk(CodecConfig{}), true},
		{"signed", mk(CodecConfig{Mode: Signed}), false},
		{"compressed", mk(CodecConfig{Compress: true}), false},
	}
}

// chunkLookup is a lookup over chunks without a map.
func chunkLookup(chunks []Chunk) func(string) []string {
	vals := make([][]string, len(chunks))
	for i, c := range chunks {
		vals[i] = []string{c.Value}
	}
	return func(n string) []string {
		for i := range chunks {
			if chunks[i].Name == n {
				return vals[i]
			}
		}
		return nil
	}
}

const benchAttrLen = len("; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax")

// sealOurs seals; with jsonV, it first marshals every value, as a session
// does for the values it changed.
func sealOurs(b *testing.B, c *Codec, bc *benchCase, jsonV bool) []Chunk {
	p := bc.p
	if jsonV {
		vals := make(map[string]json.RawMessage, len(bc.values))
		for k, v := range bc.values {
			j, err := json.Marshal(v)
			if err != nil {
				b.Fatal(err)
			}
			vals[k] = j
		}
		q := *p
		q.Values = vals
		p = &q
	}
	chunks, err := c.Encode(p, benchAttrLen)
	if err != nil {
		b.Fatal(err)
	}
	return chunks
}

func openOurs(b *testing.B, c *Codec, lookup func(string) []string, jsonV bool) {
	p, _, err := c.Decode(lookup, fxNow)
	if err != nil {
		b.Fatal(err)
	}
	if jsonV {
		for _, v := range p.Values {
			var x any
			if err := json.Unmarshal(v, &x); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	for _, cc := range benchCodecs(b) {
		for _, sz := range benchSizes {
			bc := newBenchCase(b, sz.target)
			b.Run(cc.name+"/size="+sz.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(bc.bytes))
				chunks := sealOurs(b, cc.c, bc, cc.jsonV)
				b.ReportMetric(float64(len(chunks)), "cookies")
				for b.Loop() {
					sealOurs(b, cc.c, bc, cc.jsonV)
				}
			})
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, cc := range benchCodecs(b) {
		for _, sz := range benchSizes {
			bc := newBenchCase(b, sz.target)
			b.Run(cc.name+"/size="+sz.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(bc.bytes))
				lookup := chunkLookup(sealOurs(b, cc.c, bc, cc.jsonV))
				for b.Loop() {
					openOurs(b, cc.c, lookup, cc.jsonV)
				}
			})
		}
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	for _, cc := range benchCodecs(b) {
		for _, sz := range benchSizes {
			bc := newBenchCase(b, sz.target)
			b.Run(cc.name+"/size="+sz.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(bc.bytes))
				for b.Loop() {
					openOurs(b, cc.c, chunkLookup(sealOurs(b, cc.c, bc, cc.jsonV)), cc.jsonV)
				}
			})
		}
	}
}

// The floor: what a hand-written AES-256-GCM cookie costs, JSON of a
// map[string]any included, and nothing else (no header, no key id, no
// claims check, no chunking).
type floor struct{ gcm cipher.AEAD }

func newFloor(b *testing.B) floor {
	block, err := aes.NewCipher(deriveKey(fxSecret1, Encrypted, "session"))
	if err != nil {
		b.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return floor{gcm}
}

func (f floor) seal(b *testing.B, m map[string]any) string {
	pt, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]byte, 12, 12+len(pt)+16)
	if _, err := rand.Read(out); err != nil {
		b.Fatal(err)
	}
	out = f.gcm.Seal(out, out[:12], pt, nil)
	return base64.RawURLEncoding.EncodeToString(out)
}

func (f floor) open(b *testing.B, s string) map[string]any {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < 12+16 {
		b.Fatal("floor: bad value")
	}
	pt, err := f.gcm.Open(raw[12:12], raw[:12], raw[12:], nil)
	if err != nil {
		b.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(pt, &m); err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkFloor(b *testing.B) {
	f := newFloor(b)
	for _, sz := range benchSizes {
		bc := newBenchCase(b, sz.target)
		s := f.seal(b, bc.claims)
		if m := f.open(b, s); len(m) != len(bc.claims) {
			b.Fatal("floor round trip")
		}
		b.Run("seal/size="+sz.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(bc.bytes))
			for b.Loop() {
				f.seal(b, bc.claims)
			}
		})
		b.Run("open/size="+sz.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(bc.bytes))
			for b.Loop() {
				f.open(b, s)
			}
		})
		b.Run("roundtrip/size="+sz.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(bc.bytes))
			for b.Loop() {
				f.open(b, f.seal(b, bc.claims))
			}
		})
	}
}

// BenchmarkCodecLayer is the codec alone, without JSON: the JOSE layer of
// Seal and Open (appendSealed and open: header, key lookup, base64url, the
// AEAD or HMAC, and DEFLATE for "compressed") on the payload's JSON bytes,
// against the crypto-only floor, AES-256-GCM and base64url of the same bytes
// (impl=crypto-floor). Codec.Seal and Codec.Open add the payload's JSON,
// which the peer benchmarks (benchmarks/, BenchmarkCodec) include.
func BenchmarkCodecLayer(b *testing.B) {
	f := newFloor(b)
	for _, op := range []string{"seal", "open", "roundtrip"} {
		for _, sz := range benchSizes {
			bc := newBenchCase(b, sz.target)
			plaintext := appendPayload(nil, bc.p)
			for _, cc := range benchCodecs(b) {
				if cc.jsonV {
					continue
				}
				c := cc.c
				sealed, err := fxSealPlaintext(c, plaintext)
				if err != nil {
					b.Fatal(err)
				}
				var info OpenInfo
				if got, err := c.open(sealed, &info); err != nil || !bytes.Equal(got, plaintext) {
					b.Fatalf("%s: open: %v", cc.name, err)
				}
				b.Run("op="+op+"/size="+sz.name+"/impl="+cc.name, func(b *testing.B) {
					b.ReportAllocs()
					b.SetBytes(int64(len(plaintext)))
					for b.Loop() {
						if op != "open" {
							if sealed, err = fxSealPlaintext(c, plaintext); err != nil {
								b.Fatal(err)
							}
						}
						if op != "seal" {
							if _, err := c.open(sealed, &info); err != nil {
								b.Fatal(err)
							}
						}
					}
				})
			}
			sealed := f.sealBytes(plaintext)
			b.Run("op="+op+"/size="+sz.name+"/impl=crypto-floor", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(plaintext)))
				for b.Loop() {
					if op != "open" {
						sealed = f.sealBytes(plaintext)
					}
					if op != "seal" {
						if _, err := f.openBytes(sealed); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// sealBytes and openBytes are the crypto-only floor: AES-256-GCM and
// base64url of bytes that are already the payload.
func (f floor) sealBytes(plaintext []byte) string {
	out := make([]byte, 12, 12+len(plaintext)+16)
	if _, err := rand.Read(out); err != nil {
		panic(err)
	}
	out = f.gcm.Seal(out, out[:12], plaintext, nil)
	return base64.RawURLEncoding.EncodeToString(out)
}

func (f floor) openBytes(s string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(raw) < 12+16 {
		return nil, fmt.Errorf("floor: short value")
	}
	return f.gcm.Open(raw[12:12], raw[:12], raw[12:], nil)
}

// go-jose, the reference: JWE dir + A256GCM with the kid, JSON of the same
// map, parsed with one-element allow-lists.
type joseRef struct {
	enc jose.Encrypter
	key []byte
}

func newJoseRef(b *testing.B, zip bool) joseRef {
	key := deriveKey(fxSecret1, Encrypted, "session")
	opts := &jose.EncrypterOptions{}
	if zip {
		opts.Compression = jose.DEFLATE
	}
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: key, KeyID: "k1"}, opts)
	if err != nil {
		b.Fatal(err)
	}
	return joseRef{enc, key}
}

func (j joseRef) seal(b *testing.B, m map[string]any) string {
	pt, err := json.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	obj, err := j.enc.Encrypt(pt)
	if err != nil {
		b.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func (j joseRef) open(b *testing.B, s string) map[string]any {
	obj, err := jose.ParseEncryptedCompact(s, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		b.Fatal(err)
	}
	pt, err := obj.Decrypt(j.key)
	if err != nil {
		b.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(pt, &m); err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkGoJose(b *testing.B) {
	for _, variant := range []struct {
		name string
		zip  bool
	}{{"jwe", false}, {"jwe-zip", true}} {
		j := newJoseRef(b, variant.zip)
		for _, sz := range benchSizes {
			bc := newBenchCase(b, sz.target)
			s := j.seal(b, bc.claims)
			if m := j.open(b, s); len(m) != len(bc.claims) {
				b.Fatal("go-jose round trip")
			}
			if variant.zip && !bytes.Contains(benchHeader(b, s), []byte(`"zip":"DEF"`)) {
				b.Fatal("go-jose did not compress")
			}
			b.Run(variant.name+"/seal/size="+sz.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(bc.bytes))
				for b.Loop() {
					j.seal(b, bc.claims)
				}
			})
			b.Run(variant.name+"/open/size="+sz.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(bc.bytes))
				for b.Loop() {
					j.open(b, s)
				}
			})
			b.Run(variant.name+"/roundtrip/size="+sz.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(bc.bytes))
				for b.Loop() {
					j.open(b, j.seal(b, bc.claims))
				}
			})
		}
	}
}

// benchHeader decodes the header of a compact value.
func benchHeader(b *testing.B, s string) []byte {
	h, err := base64.RawURLEncoding.DecodeString(s[:strings.IndexByte(s, '.')])
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// TestBenchSessions checks the sessions the benchmarks use: their sizes, and
// that the 10 KB one takes four cookies in every mode but compressed.
func TestBenchSessions(t *testing.T) {
	for _, sz := range benchSizes {
		vals := benchValues(sz.target)
		j, _ := json.Marshal(vals)
		if len(j) < sz.target || len(j) > sz.target*11/10 {
			t.Fatalf("size %s: %d bytes of JSON", sz.name, len(j))
		}
	}
	ring := fxRing12(t)
	for _, mode := range []Mode{Encrypted, Signed} {
		c := fxCodec(t, CodecConfig{Name: "session", Keys: ring, Mode: mode, Limits: benchLimits})
		chunks, err := c.Encode(fxPayload(t, benchValues(10000)), benchAttrLen)
		if err != nil || len(chunks) != 4 {
			t.Fatalf("%v 10KB: %d chunks, %v", mode, len(chunks), err)
		}
	}
}
