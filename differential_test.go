package cookiesession

// Differential tests against go-jose v4, the reference: every value this
// package seals opens with go-jose's compact parsers (one-element
// allow-lists) and the derived content key, to the same payload bytes; every
// value go-jose produces with the derived key, the kid and the same payload
// opens here.

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// fxJoseOpen opens a value of ours with go-jose and returns the plaintext
// (inflated) and the parsed header.
func fxJoseOpen(t testing.TB, mode Mode, sealed string, key []byte) ([]byte, jose.Header, error) {
	t.Helper()
	if mode == Signed {
		obj, err := jose.ParseSignedCompact(sealed, []jose.SignatureAlgorithm{jose.HS256})
		if err != nil {
			return nil, jose.Header{}, err
		}
		pt, err := obj.Verify(key)
		return pt, obj.Signatures[0].Protected, err
	}
	obj, err := jose.ParseEncryptedCompact(sealed, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, jose.Header{}, err
	}
	pt, err := obj.Decrypt(key)
	return pt, obj.Header, err
}

// fxJoseSeal seals plaintext with go-jose's default options (plus DEFLATE
// when compress) under the derived key and kid.
func fxJoseSeal(t testing.TB, mode Mode, compress bool, key []byte, kid string, plaintext []byte) string {
	t.Helper()
	if mode == Signed {
		// go-jose writes "kid" from a JSONWebKey for asymmetric keys only:
		// an HMAC key's kid goes in as an extra header.
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := signer.Sign(plaintext)
		if err != nil {
			t.Fatal(err)
		}
		s, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	opts := &jose.EncrypterOptions{}
	if compress {
		opts.Compression = jose.DEFLATE
	}
	return fxJoseEncrypt(t, key, kid, opts, plaintext)
}

// fxJoseEncrypt seals plaintext as a JWE with go-jose's options opts under
// the derived key and kid.
func fxJoseEncrypt(t testing.TB, key []byte, kid string, opts *jose.EncrypterOptions, plaintext []byte) string {
	t.Helper()
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: key, KeyID: kid}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := enc.Encrypt(plaintext)
	if err != nil {
		t.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// joseDeflaters are compress/flate writers at level 1, go-jose's, reused: a
// new one, as go-jose makes for every value it compresses, takes about 1 MB
// and milliseconds, which stalled FuzzGoJoseDifferential.
var joseDeflaters = sync.Pool{New: func() any {
	w, err := flate.NewWriter(nil, 1)
	if err != nil {
		panic(err)
	}
	return w
}}

// fxJoseSealDeflated is fxJoseSeal(t, Encrypted, true, …) without go-jose's
// writer per call: the plaintext is compressed here as go-jose compresses it
// (compress/flate, level 1) and go-jose seals it with "zip":"DEF" set as an
// extra header, which serializes as go-jose's own. TestJoseSealDeflated
// checks that both give the same header and the same compressed bytes.
func fxJoseSealDeflated(t testing.TB, key []byte, kid string, plaintext []byte) string {
	t.Helper()
	var z bytes.Buffer
	w := joseDeflaters.Get().(*flate.Writer)
	defer joseDeflaters.Put(w)
	w.Reset(&z)
	if _, err := w.Write(plaintext); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return fxJoseEncrypt(t, key, kid, (&jose.EncrypterOptions{}).WithHeader("zip", "DEF"), z.Bytes())
}

// TestJoseSealDeflated checks fxJoseSealDeflated against go-jose's own
// compression: the same protected header, and the same DEFLATE bytes under
// the encryption.
func TestJoseSealDeflated(t *testing.T) {
	c := fxCodec(t, CodecConfig{Compress: true})
	key := fxDerived(t, c, "k1")
	gcm := fxGCM(t, key)
	compressed := func(sealed string) (header string, z []byte) {
		seg := strings.Split(sealed, ".")
		iv, _ := base64.RawURLEncoding.DecodeString(seg[2])
		ct, _ := base64.RawURLEncoding.DecodeString(seg[3])
		tag, _ := base64.RawURLEncoding.DecodeString(seg[4])
		z, err := gcm.Open(nil, iv, append(ct, tag...), []byte(seg[0]))
		if err != nil {
			t.Fatal(err)
		}
		return seg[0], z
	}
	for _, p := range fxDiffPayloads(t) {
		pt := appendPayload(nil, p)
		for range 2 { // the second time through a writer reused
			h1, z1 := compressed(fxJoseSeal(t, Encrypted, true, key, "k1", pt))
			h2, z2 := compressed(fxJoseSealDeflated(t, key, "k1", pt))
			if h1 != h2 || !bytes.Equal(z1, z2) {
				t.Fatalf("go-jose's compression and ours differ: headers %q %q, %d and %d bytes", h1, h2, len(z1), len(z2))
			}
		}
	}
}

func fxDiffPayloads(t testing.TB) map[string]*Payload {
	rm := fxPayload(t, fxSmallValues())
	rm.RememberMe = RememberYes
	return map[string]*Payload{
		"empty":        fxPayload(t, nil),
		"small":        fxPayload(t, fxSmallValues()),
		"remember":     rm,
		"unicode":      fxPayload(t, map[string]any{"ключ": "значение ☃", "html": "<&>", "": nil}),
		"compressible": fxPayload(t, map[string]any{"text": strings.Repeat("lorem ipsum ", 300)}),
		"random-6k":    fxPayload(t, map[string]any{"blob": fxRandomText(6000, 9)}),
	}
}

func TestGoJoseOpensOurs(t *testing.T) {
	big := Limits{HeaderBudget: 16384, MaxChunks: 4}
	for _, m := range []struct {
		name string
		cfg  CodecConfig
	}{
		{"encrypted", CodecConfig{Limits: big}},
		{"encrypted-compress", CodecConfig{Limits: big, Compress: true}},
		{"signed", CodecConfig{Limits: big, Mode: Signed}},
		{"encrypted-k2-primary", CodecConfig{Limits: big, Keys: fxRing(t, fxKey(t, "k2", fxSecret2), fxKey(t, "k1", fxSecret1))}},
	} {
		c := fxCodec(t, m.cfg)
		kid := c.cfg.Keys.KeyRing().Primary()
		key := fxDerived(t, c, kid)
		for name, p := range fxDiffPayloads(t) {
			t.Run(m.name+"/"+name, func(t *testing.T) {
				sealed := fxSeal(t, c, p)
				pt, h, err := fxJoseOpen(t, c.cfg.Mode, sealed, key)
				if err != nil {
					t.Fatalf("go-jose cannot open our value: %v", err)
				}
				if !bytes.Equal(pt, appendPayload(nil, p)) {
					t.Fatalf("go-jose plaintext differs:\n%s\n%s", pt, appendPayload(nil, p))
				}
				if h.KeyID != kid {
					t.Fatalf("go-jose header kid %q", h.KeyID)
				}
				_, info, err := c.Open(sealed, fxNow)
				fxCheckErr(t, err, nil)
				if zip, _ := h.ExtraHeaders["zip"].(string); (zip == "DEF") != info.Compressed {
					t.Fatalf("zip %q, Compressed %v", zip, info.Compressed)
				}
				// The other key of the ring, or another purpose, does not
				// open it in go-jose either.
				if _, _, err := fxJoseOpen(t, c.cfg.Mode, sealed, deriveKey(fxSecret3, c.cfg.Mode, c.cfg.Purpose)); err == nil {
					t.Fatal("go-jose opened with another key")
				}
			})
		}
	}
}

func TestOursOpensGoJose(t *testing.T) {
	big := Limits{HeaderBudget: 16384, MaxChunks: 4}
	for _, m := range []struct {
		name     string
		cfg      CodecConfig
		compress bool
	}{
		{"encrypted", CodecConfig{Limits: big}, false},
		{"encrypted-zip", CodecConfig{Limits: big}, true},
		{"encrypted-zip-compressing-codec", CodecConfig{Limits: big, Compress: true}, true},
		{"signed", CodecConfig{Limits: big, Mode: Signed}, false},
	} {
		c := fxCodec(t, m.cfg)
		for _, kid := range []string{"k1", "k2"} {
			key := fxDerived(t, c, kid)
			for name, p := range fxDiffPayloads(t) {
				t.Run(m.name+"/"+kid+"/"+name, func(t *testing.T) {
					want := appendPayload(nil, p)
					sealed := fxJoseSeal(t, c.cfg.Mode, m.compress, key, kid, want)
					got, info, err := c.Open(sealed, fxNow)
					fxCheckErr(t, err, nil)
					if !bytes.Equal(appendPayload(nil, got), want) {
						t.Fatalf("payload differs:\n%s\n%s", appendPayload(nil, got), want)
					}
					if info.KeyID != kid || info.Primary != (kid == "k1") || info.Compressed != m.compress {
						t.Fatalf("info %+v", info)
					}
					// Through the cookie path too.
					chunks, err := split("sess", sealed, 0, 4, 16384)
					if err != nil {
						t.Fatal(err)
					}
					_, _, err = c.Decode(CookieLookup("sess", fxCookieHeader(chunks)), fxNow)
					fxCheckErr(t, err, nil)
				})
			}
		}
	}
}

// TestGoJoseHeaderBytes pins that go-jose writes, byte for byte, the header
// this package writes and accepts, for each mode: the order of members
// ("alg","enc","kid","zip" and "alg","kid") is go-jose's (sorted keys).
func TestGoJoseHeaderBytes(t *testing.T) {
	for _, m := range []struct {
		name     string
		mode     Mode
		compress bool
		want     string
	}{
		{"encrypted", Encrypted, false, `{"alg":"dir","enc":"A256GCM","kid":"k1"}`},
		{"encrypted-zip", Encrypted, true, `{"alg":"dir","enc":"A256GCM","kid":"k1","zip":"DEF"}`},
		{"signed", Signed, false, `{"alg":"HS256","kid":"k1"}`},
	} {
		t.Run(m.name, func(t *testing.T) {
			c := fxCodec(t, CodecConfig{Mode: m.mode, Compress: m.compress})
			p := fxPayload(t, map[string]any{"text": strings.Repeat("compress me ", 50)})
			joseH, _ := base64.RawURLEncoding.DecodeString(strings.Split(fxJoseSeal(t, m.mode, m.compress, fxDerived(t, c, "k1"), "k1", appendPayload(nil, p)), ".")[0])
			oursH, _ := base64.RawURLEncoding.DecodeString(strings.Split(fxSeal(t, c, p), ".")[0])
			if string(joseH) != m.want || string(oursH) != m.want {
				t.Fatalf("headers differ:\ngo-jose %s\nours    %s\nwant    %s", joseH, oursH, m.want)
			}
		})
	}
}

// TestGoJoseOpensLargestCompressed: the largest payload this package seals
// (MaxPlaintextBytes, compressed to fit) opens with go-jose, whose inflation
// cap is 250 kB (or ten times the input, whichever is larger).
func TestGoJoseOpensLargestCompressed(t *testing.T) {
	c := fxCodec(t, CodecConfig{Compress: true, Limits: Limits{HeaderBudget: MaxHeaderBudget, MaxChunks: MaxChunksLimit}})
	p := fxPayload(t, map[string]any{"v": ""})
	p.Values["v"] = []byte(`"` + strings.Repeat("a", MaxPlaintextBytes-len(appendPayload(nil, p))) + `"`)
	if n := len(appendPayload(nil, p)); n != MaxPlaintextBytes {
		t.Fatalf("payload of %d bytes", n)
	}
	sealed := fxSeal(t, c, p)
	_, info, err := c.Open(sealed, fxNow)
	fxCheckErr(t, err, nil)
	if !info.Compressed {
		t.Fatal("not compressed")
	}
	pt, _, err := fxJoseOpen(t, Encrypted, sealed, fxDerived(t, c, "k1"))
	if err != nil {
		t.Fatalf("go-jose cannot open a value of MaxPlaintextBytes (%d) that we sealed: %v", MaxPlaintextBytes, err)
	}
	if len(pt) != MaxPlaintextBytes {
		t.Fatalf("go-jose plaintext %d bytes", len(pt))
	}
	// And the reverse at the same size.
	js := fxJoseSeal(t, Encrypted, true, fxDerived(t, c, "k1"), "k1", pt)
	_, _, err = c.Open(js, fxNow)
	fxCheckErr(t, err, nil)
}

// TestGoJoseAgreesOnTampering: every value the adversarial table expects to
// fail authentication (flipped bits, truncation, other key, name or purpose)
// fails in go-jose too, given the codec's key for the value's kid; and each
// control opens in both.
func TestGoJoseAgreesOnTampering(t *testing.T) {
	checked := 0
	for _, tc := range fxAdversarialCases(t) {
		if tc.lookup != nil || tc.reason != "authentication failed" && !strings.Contains(tc.name, "/flip/") {
			continue
		}
		kid := "k1"
		key := fxDerived(t, tc.codec, kid)
		_, _, err := fxJoseOpen(t, tc.codec.cfg.Mode, tc.sealed, key)
		if err == nil {
			// A flip inside the header's kid may name k2, which go-jose
			// then checks with k1's key: still a failure. Anything else
			// opening is a disagreement.
			t.Fatalf("%s: go-jose opens what we reject", tc.name)
		}
		checked++
	}
	if checked < 30 {
		t.Fatalf("only %d cases checked", checked)
	}
}
