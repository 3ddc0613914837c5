package cookiesession

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math"
	mrand "math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openCase is one hostile (or control) input to Open or Decode.
type openCase struct {
	name   string
	codec  *Codec
	sealed string                // input of Open, when lookup is nil
	lookup func(string) []string // input of Decode, when set
	now    time.Time             // zero means fxNow
	want   error                 // nil: must open
	reason string                // a substring the error must contain
	check  func(t *testing.T, p *Payload, info OpenInfo)
}

// TestOpenAdversarial feeds Open and Decode every kind of hostile value the
// design names, each with a fixed clock, and checks the exact sentinel, the
// reason where it matters, and that no error text names go-jose or contains
// key bytes. Values built by hand use the real derived content key, so each
// rejection is due to the rule under test; each family has a control that
// the same builder with a legitimate input opens.
func TestOpenAdversarial(t *testing.T) {
	cases := fxAdversarialCases(t)
	if len(cases) < 150 {
		t.Fatalf("only %d cases", len(cases))
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = fxNow
			}
			var (
				p    *Payload
				info OpenInfo
				err  error
			)
			if tc.lookup != nil {
				p, info, err = tc.codec.Decode(tc.lookup, now)
			} else {
				p, info, err = tc.codec.Open(tc.sealed, now)
			}
			fxCheckErr(t, err, tc.want)
			if tc.reason != "" && !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("error %q does not say %q", err, tc.reason)
			}
			switch {
			case tc.want == nil:
				if p == nil {
					t.Fatal("nil payload without error")
				}
				if tc.check != nil {
					tc.check(t, p, info)
				}
			case errors.Is(tc.want, ErrNoCookie),
				errors.Is(tc.want, ErrInvalid) && !strings.HasPrefix(tc.name, "time/"):
				// Only the time rules run on an authentic payload; Open
				// returns it along with their error. Nothing else may
				// hand out a payload.
				if p != nil {
					t.Fatalf("payload returned with %v", err)
				}
			}
		})
	}
}

func fxAdversarialCases(t *testing.T) []openCase {
	enc := fxCodec(t, CodecConfig{})
	encZ := fxCodec(t, CodecConfig{Compress: true})
	sig := fxCodec(t, CodecConfig{Mode: Signed})
	base := fxPayload(t, fxSmallValues())
	encSealed := fxSeal(t, enc, base)
	sigSealed := fxSeal(t, sig, base)
	compressible := fxPayload(t, map[string]any{"text": strings.Repeat("lorem ipsum dolor sit amet ", 40)})
	zSealed := fxSeal(t, encZ, compressible)
	if !strings.HasPrefix(zSealed, fxB64([]byte(`{"alg":"dir","enc":"A256GCM","kid":"k1","zip":"DEF"}`))+".") {
		t.Fatalf("compressible payload not compressed: %.80s", zSealed)
	}

	var cases []openCase
	add := func(tc openCase) {
		if tc.codec == nil {
			tc.codec = enc
		}
		cases = append(cases, tc)
	}
	okKid := func(kid string, primary, compressed bool) func(*testing.T, *Payload, OpenInfo) {
		return func(t *testing.T, p *Payload, info OpenInfo) {
			if info.KeyID != kid || info.Primary != primary || info.Compressed != compressed {
				t.Fatalf("info %+v, want kid %s primary %v compressed %v", info, kid, primary, compressed)
			}
		}
	}

	// Controls: what this package writes opens.
	add(openCase{name: "control/encrypted", sealed: encSealed, check: func(t *testing.T, p *Payload, info OpenInfo) {
		okKid("k1", true, false)(t, p, info)
		fxSameValues(t, p.Values, base.Values)
		if p.ID != base.ID || !p.IssuedAt.Equal(base.IssuedAt) || !p.LastActivity.Equal(base.LastActivity) || !p.Expiry.Equal(base.Expiry) {
			t.Fatalf("claims %+v, want %+v", p, base)
		}
		if info.Bytes != len(encSealed) {
			t.Fatalf("info.Bytes %d, want %d", info.Bytes, len(encSealed))
		}
	}})
	add(openCase{name: "control/signed", codec: sig, sealed: sigSealed, check: okKid("k1", true, false)})
	add(openCase{name: "control/compressed", codec: encZ, sealed: zSealed, check: okKid("k1", true, true)})
	add(openCase{name: "control/compressed-by-uncompressing-codec", sealed: zSealed, check: okKid("k1", true, true)})

	// Bit flips and truncations in every segment.
	flipAt := func(pos func(n int) int, bit uint) func([]byte) []byte {
		return func(b []byte) []byte {
			if len(b) == 0 {
				return []byte{1 << bit}
			}
			b[pos(len(b))] ^= 1 << bit
			return b
		}
	}
	positions := map[string]func(int) int{
		"first": func(int) int { return 0 },
		"mid":   func(n int) int { return n / 2 },
		"last":  func(n int) int { return n - 1 },
	}
	jweSegs := map[int]string{0: "header", 2: "iv", 3: "ciphertext", 4: "tag"}
	jwsSegs := map[int]string{0: "header", 1: "payload", 2: "signature"}
	for _, m := range []struct {
		mode   string
		codec  *Codec
		sealed string
		segs   map[int]string
	}{
		{"jwe", enc, encSealed, jweSegs},
		{"jwe-zip", encZ, zSealed, jweSegs},
		{"jws", sig, sigSealed, jwsSegs},
	} {
		for i, seg := range m.segs {
			for pname, pos := range positions {
				for _, bit := range []uint{0, 7} {
					add(openCase{
						name:   m.mode + "/flip/" + seg + "/" + pname + "/bit" + strconv.Itoa(int(bit)),
						codec:  m.codec,
						sealed: fxMutateDecoded(t, m.sealed, i, flipAt(pos, bit)),
						want:   ErrInvalid,
					})
				}
			}
			add(openCase{name: m.mode + "/truncate/" + seg + "/last-byte", codec: m.codec, want: ErrInvalid,
				sealed: fxMutateDecoded(t, m.sealed, i, func(b []byte) []byte { return b[:len(b)-1] })})
			add(openCase{name: m.mode + "/truncate/" + seg + "/last-char", codec: m.codec, want: ErrInvalid,
				sealed: fxEditSegments(m.sealed, func(s []string) { s[i] = s[i][:len(s[i])-1] })})
			add(openCase{name: m.mode + "/truncate/" + seg + "/empty", codec: m.codec, want: ErrInvalid,
				sealed: fxEditSegments(m.sealed, func(s []string) { s[i] = "" })})
			add(openCase{name: m.mode + "/extend/" + seg, codec: m.codec, want: ErrInvalid,
				sealed: fxMutateDecoded(t, m.sealed, i, func(b []byte) []byte { return append(b, 0) })})
		}
		add(openCase{name: m.mode + "/truncate/whole-last-segment", codec: m.codec, want: ErrInvalid,
			sealed: m.sealed[:strings.LastIndexByte(m.sealed, '.')]})
		add(openCase{name: m.mode + "/truncate/half", codec: m.codec, want: ErrInvalid, sealed: m.sealed[:len(m.sealed)/2]})
		add(openCase{name: m.mode + "/extra-segment", codec: m.codec, want: ErrInvalid, sealed: m.sealed + ".AAAA"})
		add(openCase{name: m.mode + "/trailing-dot", codec: m.codec, want: ErrInvalid, sealed: m.sealed + "."})
	}
	// The encrypted-key segment must be empty for "dir".
	for name, ek := range map[string]string{"one-byte": "AA", "32-bytes": fxB64(bytes.Repeat([]byte{7}, 32)), "key-itself": fxB64(fxDerived(t, enc, "k1"))} {
		add(openCase{name: "jwe/encrypted-key/" + name, want: ErrInvalid,
			sealed: fxEditSegments(encSealed, func(s []string) { s[1] = ek })})
	}
	// Segments swapped.
	add(openCase{name: "jwe/swap-iv-tag", want: ErrInvalid, sealed: fxEditSegments(encSealed, func(s []string) { s[2], s[4] = s[4], s[2] })})
	add(openCase{name: "jws/swap-payload-signature", codec: sig, want: ErrInvalid, sealed: fxEditSegments(sigSealed, func(s []string) { s[1], s[2] = s[2], s[1] })})

	// One indistinguishable error for every authentication failure.
	add(openCase{name: "auth/reason-is-opaque", want: ErrInvalid, reason: "authentication failed",
		sealed: fxMutateDecoded(t, encSealed, 4, flipAt(positions["last"], 0))})

	// Moved to another name, another purpose, another mode.
	other := fxCodec(t, CodecConfig{Name: "other"})
	app2 := fxCodec(t, CodecConfig{Name: "sess", Purpose: "app2"})
	otherSig := fxCodec(t, CodecConfig{Name: "other", Mode: Signed})
	add(openCase{name: "move/other-name/open", codec: other, sealed: encSealed, want: ErrInvalid, reason: "authentication failed"})
	add(openCase{name: "move/other-name/decode", codec: other, lookup: fxLookup("other", encSealed), want: ErrInvalid})
	add(openCase{name: "move/other-name/decode-original-name", codec: other, lookup: fxLookup("sess", encSealed), want: ErrNoCookie})
	add(openCase{name: "move/other-name/signed", codec: otherSig, sealed: sigSealed, want: ErrInvalid, reason: "authentication failed"})
	add(openCase{name: "move/other-purpose", codec: app2, sealed: encSealed, want: ErrInvalid, reason: "authentication failed"})
	add(openCase{name: "move/other-purpose/compressed", codec: app2, sealed: zSealed, want: ErrInvalid})
	add(openCase{name: "mode/signed-to-encrypted", sealed: sigSealed, want: ErrInvalid})
	add(openCase{name: "mode/signed-to-compressing", codec: encZ, sealed: sigSealed, want: ErrInvalid})
	add(openCase{name: "mode/encrypted-to-signed", codec: sig, sealed: encSealed, want: ErrInvalid})
	add(openCase{name: "mode/compressed-to-signed", codec: sig, sealed: zSealed, want: ErrInvalid})
	add(openCase{name: "mode/signed-to-encrypted/decode", lookup: fxLookup("sess", sigSealed), want: ErrInvalid})

	// Header substitution, JWE, each sealed with the real content key.
	kEnc := fxDerived(t, enc, "k1")
	good := fxGoodClaims()
	const jweHeader = `{"alg":"dir","enc":"A256GCM","kid":"k1"}`
	type hdr struct {
		name, header, encKey string
		key                  []byte
		plaintext            []byte
		reason               string
		check                func(*testing.T, *Payload, OpenInfo)
	}
	zGood := fxDeflate(t, good, 9)
	jweHeaders := []hdr{
		{name: "control", header: jweHeader, check: okKid("k1", true, false)},
		{name: "control-zip", header: `{"alg":"dir","enc":"A256GCM","kid":"k1","zip":"DEF"}`, plaintext: zGood, check: okKid("k1", true, true)},
		{name: "control-k2", header: `{"alg":"dir","enc":"A256GCM","kid":"k2"}`, key: fxDerived(t, enc, "k2"), check: okKid("k2", false, false)},
		{name: "enc-A128GCM", header: `{"alg":"dir","enc":"A128GCM","kid":"k1"}`, key: kEnc[:16]},
		{name: "enc-A192GCM", header: `{"alg":"dir","enc":"A192GCM","kid":"k1"}`, key: kEnc[:24]},
		{name: "enc-A256CBC-HS512", header: `{"alg":"dir","enc":"A256CBC-HS512","kid":"k1"}`},
		{name: "alg-RSA-OAEP", header: `{"alg":"RSA-OAEP","enc":"A256GCM","kid":"k1"}`, encKey: fxB64(bytes.Repeat([]byte{9}, 256))},
		{name: "alg-RSA-OAEP-empty-key", header: `{"alg":"RSA-OAEP","enc":"A256GCM","kid":"k1"}`},
		{name: "alg-A256KW", header: `{"alg":"A256KW","enc":"A256GCM","kid":"k1"}`, encKey: fxB64(bytes.Repeat([]byte{9}, 40))},
		{name: "alg-none", header: `{"alg":"none","enc":"A256GCM","kid":"k1"}`},
		{name: "alg-missing", header: `{"enc":"A256GCM","kid":"k1"}`},
		{name: "enc-missing", header: `{"alg":"dir","kid":"k1"}`},
		{name: "kid-missing", header: `{"alg":"dir","enc":"A256GCM"}`},
		{name: "kid-unknown", header: `{"alg":"dir","enc":"A256GCM","kid":"k9"}`, reason: "unknown key id"},
		{name: "kid-empty", header: `{"alg":"dir","enc":"A256GCM","kid":""}`},
		{name: "kid-number", header: `{"alg":"dir","enc":"A256GCM","kid":1}`},
		{name: "kid-escaped", header: `{"alg":"dir","enc":"A256GCM","kid":"k\u0031"}`},
		{name: "alg-escaped", header: `{"alg":"di\u0072","enc":"A256GCM","kid":"k1"}`},
		{name: "crit", header: `{"alg":"dir","crit":["exp"],"enc":"A256GCM","exp":1,"kid":"k1"}`},
		{name: "crit-appended", header: `{"alg":"dir","enc":"A256GCM","kid":"k1","crit":["zip"]}`},
		{name: "jwk", header: `{"alg":"dir","enc":"A256GCM","jwk":{"k":"` + fxB64(kEnc) + `","kty":"oct"},"kid":"k1"}`},
		{name: "jku", header: `{"alg":"dir","enc":"A256GCM","jku":"https://attacker.example/jwks.json","kid":"k1"}`},
		{name: "x5u", header: `{"alg":"dir","enc":"A256GCM","kid":"k1","x5u":"https://attacker.example/cert.pem"}`},
		{name: "x5c", header: `{"alg":"dir","enc":"A256GCM","kid":"k1","x5c":["MIIB"]}`},
		{name: "cty", header: `{"alg":"dir","cty":"JWT","enc":"A256GCM","kid":"k1"}`},
		{name: "typ", header: `{"alg":"dir","enc":"A256GCM","kid":"k1","typ":"JWT"}`},
		{name: "b64", header: `{"alg":"dir","b64":false,"enc":"A256GCM","kid":"k1"}`},
		{name: "zip-GZIP", header: `{"alg":"dir","enc":"A256GCM","kid":"k1","zip":"GZIP"}`, plaintext: zGood},
		{name: "zip-lowercase", header: `{"alg":"dir","enc":"A256GCM","kid":"k1","zip":"def"}`, plaintext: zGood},
		{name: "zip-not-compressed", header: `{"alg":"dir","enc":"A256GCM","kid":"k1","zip":"DEF"}`, reason: "compressed payload"},
		{name: "space-after-comma", header: `{"alg":"dir", "enc":"A256GCM","kid":"k1"}`},
		{name: "space-leading", header: ` {"alg":"dir","enc":"A256GCM","kid":"k1"}`},
		{name: "space-inside-brace", header: `{ "alg":"dir","enc":"A256GCM","kid":"k1" }`},
		{name: "space-around-colon", header: `{"alg" : "dir","enc":"A256GCM","kid":"k1"}`},
		{name: "newline-trailing", header: jweHeader + "\n"},
		{name: "tab", header: "{\t\"alg\":\"dir\",\"enc\":\"A256GCM\",\"kid\":\"k1\"}"},
		{name: "bom", header: "\ufeff" + jweHeader},
		{name: "reorder-enc-alg", header: `{"enc":"A256GCM","alg":"dir","kid":"k1"}`},
		{name: "reorder-kid-first", header: `{"kid":"k1","alg":"dir","enc":"A256GCM"}`},
		{name: "reorder-zip-before-kid", header: `{"alg":"dir","enc":"A256GCM","zip":"DEF","kid":"k1"}`, plaintext: zGood},
		{name: "duplicate-alg", header: `{"alg":"dir","alg":"dir","enc":"A256GCM","kid":"k1"}`},
		{name: "duplicate-kid", header: `{"alg":"dir","enc":"A256GCM","kid":"k1","kid":"k1"}`},
		{name: "duplicate-kid-other-first", header: `{"alg":"dir","enc":"A256GCM","kid":"k2","kid":"k1"}`},
		{name: "signed-header", header: `{"alg":"HS256","kid":"k1"}`},
		{name: "not-json", header: `alg=dir`},
		{name: "json-array", header: `["dir","A256GCM","k1"]`},
		{name: "empty", header: ``},
	}
	for _, h := range jweHeaders {
		key := h.key
		if key == nil {
			key = kEnc
		}
		pt := h.plaintext
		if pt == nil {
			pt = good
		}
		want := ErrInvalid
		if h.check != nil {
			want = nil
		}
		add(openCase{name: "jwe/header/" + h.name, sealed: fxJWE(t, key, h.header, h.encKey, pt), want: want, reason: h.reason, check: h.check})
	}

	// Header substitution, JWS.
	kSig := fxDerived(t, sig, "k1")
	const jwsHeader = `{"alg":"HS256","kid":"k1"}`
	jwsHeaders := []struct {
		name, header string
		sign         func(header string) string
		want         error
		reason       string
	}{
		{name: "control"},
		{name: "control-k2", sign: func(string) string {
			return fxJWS(fxDerived(t, sig, "k2"), `{"alg":"HS256","kid":"k2"}`, good, sha256.New)
		}},
		{name: "alg-none-empty-signature", sign: func(string) string {
			return fxB64([]byte(`{"alg":"none","kid":"k1"}`)) + "." + fxB64(good) + "."
		}, want: ErrInvalid},
		{name: "alg-none-no-kid", sign: func(string) string {
			return fxB64([]byte(`{"alg":"none"}`)) + "." + fxB64(good) + "."
		}, want: ErrInvalid},
		{name: "alg-none-real-mac", header: `{"alg":"none","kid":"k1"}`, want: ErrInvalid},
		{name: "alg-HS512", sign: func(string) string {
			return fxJWS(kSig, `{"alg":"HS512","kid":"k1"}`, good, sha512.New)
		}, want: ErrInvalid},
		{name: "alg-HS384", sign: func(string) string {
			return fxJWS(kSig, `{"alg":"HS384","kid":"k1"}`, good, sha512.New384)
		}, want: ErrInvalid},
		{name: "alg-RS256", header: `{"alg":"RS256","kid":"k1"}`, want: ErrInvalid},
		{name: "alg-ES256", header: `{"alg":"ES256","kid":"k1"}`, want: ErrInvalid},
		{name: "alg-lowercase", header: `{"alg":"hs256","kid":"k1"}`, want: ErrInvalid},
		{name: "kid-missing", header: `{"alg":"HS256"}`, want: ErrInvalid},
		{name: "kid-unknown", header: `{"alg":"HS256","kid":"k9"}`, want: ErrInvalid, reason: "unknown key id"},
		{name: "kid-escaped", header: `{"alg":"HS256","kid":"\u006b1"}`, want: ErrInvalid},
		{name: "b64-false-crit", header: `{"alg":"HS256","b64":false,"crit":["b64"],"kid":"k1"}`, want: ErrInvalid},
		{name: "b64-false", header: `{"alg":"HS256","b64":false,"kid":"k1"}`, want: ErrInvalid},
		{name: "b64-true", header: `{"alg":"HS256","b64":true,"kid":"k1"}`, want: ErrInvalid},
		{name: "crit", header: `{"alg":"HS256","crit":["exp"],"exp":1,"kid":"k1"}`, want: ErrInvalid},
		{name: "jwk", header: `{"alg":"HS256","jwk":{"k":"` + fxB64(kSig) + `","kty":"oct"},"kid":"k1"}`, want: ErrInvalid},
		{name: "jku", header: `{"alg":"HS256","jku":"https://attacker.example/jwks.json","kid":"k1"}`, want: ErrInvalid},
		{name: "x5u", header: `{"alg":"HS256","kid":"k1","x5u":"https://attacker.example/c.pem"}`, want: ErrInvalid},
		{name: "cty", header: `{"alg":"HS256","cty":"JWT","kid":"k1"}`, want: ErrInvalid},
		{name: "typ", header: `{"alg":"HS256","kid":"k1","typ":"JWT"}`, want: ErrInvalid},
		{name: "zip", header: `{"alg":"HS256","kid":"k1","zip":"DEF"}`, want: ErrInvalid},
		{name: "space", header: `{"alg": "HS256","kid":"k1"}`, want: ErrInvalid},
		{name: "newline", header: jwsHeader + "\r\n", want: ErrInvalid},
		{name: "reorder", header: `{"kid":"k1","alg":"HS256"}`, want: ErrInvalid},
		{name: "duplicate-alg", header: `{"alg":"HS256","alg":"HS256","kid":"k1"}`, want: ErrInvalid},
		{name: "encrypted-header", header: jweHeader, want: ErrInvalid},
	}
	for _, h := range jwsHeaders {
		header := h.header
		if header == "" {
			header = jwsHeader
		}
		var sealed string
		if h.sign != nil {
			sealed = h.sign(header)
		} else {
			sealed = fxJWS(kSig, header, good, sha256.New)
		}
		add(openCase{name: "jws/header/" + h.name, codec: sig, sealed: sealed, want: h.want, reason: h.reason})
	}

	// Claims, sealed with the real key and the exact header: only the claim
	// check can reject them.
	n := fxNow.Unix()
	iat, lat, exp := strconv.FormatInt(n-600, 10), strconv.FormatInt(n-60, 10), strconv.FormatInt(n+3000, 10)
	deep := func(depth int) string { return strings.Repeat("[", depth) + strings.Repeat("]", depth) }
	claims := []struct {
		name, json string
		ok         bool
	}{
		{"control", string(good), true},
		{"control-rm", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"rm":true,"v":{}}`, true},
		{"control-any-order", `{"v":{"a":[1,{"b":null}]},"exp":` + exp + `,"lat":` + lat + `,"iat":` + iat + `,"sid":"c2lk"}`, true},
		{"control-whitespace", " {\n\"sid\" : \"c2lk\" ,\t\"iat\":" + iat + `, "lat":` + lat + `,"exp":` + exp + `,"v":{ "a" : 1 } } `, true},
		{"control-depth-60", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":` + deep(60) + `}}`, true},
		{"missing-sid", `{"iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"missing-iat", `{"sid":"c2lk","lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"missing-lat", `{"sid":"c2lk","iat":` + iat + `,"exp":` + exp + `,"v":{}}`, false},
		{"missing-exp", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"v":{}}`, false},
		{"missing-v", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `}`, false},
		{"repeated-sid", `{"sid":"c2lk","sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"repeated-iat", `{"sid":"c2lk","iat":` + iat + `,"iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"repeated-exp-later", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"exp":99999999999,"v":{}}`, false},
		{"repeated-v", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{},"v":{"admin":true}}`, false},
		{"repeated-rm", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"rm":true,"rm":false,"v":{}}`, false},
		{"unknown-claim", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{},"admin":true}`, false},
		{"unknown-nbf", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"nbf":0,"v":{}}`, false},
		{"unknown-empty-name", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"":1,"v":{}}`, false},
		{"escaped-claim-name", `{"sid":"c2lk","\u0069at":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"iat-string", `{"sid":"c2lk","iat":"` + iat + `","lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"iat-fraction", `{"sid":"c2lk","iat":` + iat + `.5,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"iat-exponent", `{"sid":"c2lk","iat":1e9,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"iat-negative", `{"sid":"c2lk","iat":-1,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"iat-leading-zero", `{"sid":"c2lk","iat":0` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"iat-plus", `{"sid":"c2lk","iat":+` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"iat-null", `{"sid":"c2lk","iat":null,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"exp-13-digits", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":1000000000000,"v":{}}`, false},
		{"exp-overflow", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":99999999999999999999999,"v":{}}`, false},
		{"exp-bool", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":true,"v":{}}`, false},
		{"sid-number", `{"sid":1,"iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"sid-empty", `{"sid":"","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"sid-space", `{"sid":"a b","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"sid-65", `{"sid":"` + strings.Repeat("a", 65) + `","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"sid-escaped", `{"sid":"c2\u006c","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"sid-null", `{"sid":null,"iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"rm-string", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"rm":"true","v":{}}`, false},
		{"rm-number", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"rm":1,"v":{}}`, false},
		{"v-array", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":[]}`, false},
		{"v-null", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":null}`, false},
		{"v-string", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":"{}"}`, false},
		{"v-bad-literal", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":tru}}`, false},
		{"v-leading-zero", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":01}}`, false},
		{"v-NaN", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":NaN}}`, false},
		{"v-control-char", "{\"sid\":\"c2lk\",\"iat\":" + iat + `,"lat":` + lat + `,"exp":` + exp + ",\"v\":{\"a\":\"\x01\"}}", false},
		{"v-bad-escape", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":"\q"}}`, false},
		{"v-short-unicode-escape", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":"\u12"}}`, false},
		{"v-duplicate-name", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":1,"a":2}}`, false},
		{"v-duplicate-escaped-name", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":1,"\u0061":2}}`, false},
		{"v-trailing-comma", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":1,}}`, false},
		{"v-missing-colon", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a" 1}}`, false},
		{"v-unterminated-string", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":"x}}`, false},
		{"v-depth-100", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":` + deep(100) + `}}`, false},
		{"v-depth-10000", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{"a":` + deep(10000) + `}}`, false},
		{"trailing-comma", `{"sid":"c2lk","iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{},}`, false},
		{"missing-comma", `{"sid":"c2lk" "iat":` + iat + `,"lat":` + lat + `,"exp":` + exp + `,"v":{}}`, false},
		{"trailing-data", string(good) + ` x`, false},
		{"two-objects", string(good) + string(good), false},
		{"truncated", string(good[:len(good)-1]), false},
		{"bom", "\ufeff" + string(good), false},
		{"empty", ``, false},
		{"null", `null`, false},
		{"array", `[]`, false},
		{"string", `"x"`, false},
		{"empty-object", `{}`, false},
		{"iat-after-lat", string(fxClaims(n-60, n-600, n+3000, `{}`)), false},
		{"lat-equals-exp", string(fxClaims(n-600, n+3000, n+3000, `{}`)), false},
		{"exp-before-iat", string(fxClaims(n-600, n-60, n-700, `{}`)), false},
		{"all-zero", string(fxClaims(0, 0, 0, `{}`)), false},
	}
	for _, cl := range claims {
		var want error = ErrInvalid
		if cl.ok {
			want = nil
		}
		add(openCase{name: "claims/jwe/" + cl.name, sealed: fxJWE(t, kEnc, jweHeader, "", []byte(cl.json)), want: want})
		add(openCase{name: "claims/jws/" + cl.name, codec: sig, sealed: fxJWS(kSig, jwsHeader, []byte(cl.json), sha256.New), want: want})
	}
	add(openCase{name: "claims/rm-true-read", sealed: fxJWE(t, kEnc, jweHeader, "", []byte(claims[1].json)),
		check: func(t *testing.T, p *Payload, _ OpenInfo) {
			if p.RememberMe != RememberYes {
				t.Fatalf("RememberMe %v", p.RememberMe)
			}
		}})

	// Time, with the injected clock. base: iat now-10m, lat now-1m, exp now+50m.
	seal := func(c *Codec, iat, lat, exp time.Time) string {
		p := fxPayload(t, fxSmallValues())
		p.IssuedAt, p.LastActivity, p.Expiry = iat, lat, exp
		return fxSeal(t, c, p)
	}
	expAt := base.Expiry
	for _, tm := range []struct {
		name string
		now  time.Time
		want error
	}{
		{"1s-before", expAt.Add(-time.Second), nil},
		{"1ns-before", expAt.Add(-time.Nanosecond), nil},
		{"at", expAt, ErrExpired},
		{"1ns-after", expAt.Add(time.Nanosecond), ErrExpired},
		{"1s-after", expAt.Add(time.Second), ErrExpired},
		{"year-after", expAt.AddDate(1, 0, 0), ErrExpired},
	} {
		add(openCase{name: "time/expiry/" + tm.name, sealed: encSealed, now: tm.now, want: tm.want})
		add(openCase{name: "time/expiry/signed/" + tm.name, codec: sig, sealed: sigSealed, now: tm.now, want: tm.want})
	}
	add(openCase{name: "time/expiry/reason", sealed: encSealed, now: expAt, want: ErrExpired, reason: "expired"})
	future := func(d time.Duration) string { return seal(enc, fxNow.Add(d), fxNow.Add(d), fxNow.Add(d+time.Hour)) }
	add(openCase{name: "time/iat-future/beyond-skew", sealed: future(31 * time.Second), want: ErrInvalid, reason: "future"})
	add(openCase{name: "time/iat-future/far", sealed: future(48 * time.Hour), want: ErrInvalid, reason: "future"})
	add(openCase{name: "time/iat-future/at-skew", sealed: future(30 * time.Second)})
	add(openCase{name: "time/iat-future/within-skew", sealed: future(29 * time.Second)})
	add(openCase{name: "time/lat-future/beyond-skew", sealed: seal(enc, fxNow.Add(-time.Hour), fxNow.Add(31*time.Second), fxNow.Add(time.Hour)), want: ErrInvalid, reason: "future"})
	noSkew := fxCodec(t, CodecConfig{Limits: Limits{ClockSkew: -1}})
	add(openCase{name: "time/no-skew/iat-1s-future", codec: noSkew, sealed: future(time.Second), want: ErrInvalid})
	add(openCase{name: "time/no-skew/iat-now", codec: noSkew, sealed: future(0)})
	skew5 := fxCodec(t, CodecConfig{Limits: Limits{ClockSkew: 5 * time.Minute}})
	add(openCase{name: "time/skew-5m/within", codec: skew5, sealed: future(5*time.Minute - time.Second)})
	add(openCase{name: "time/skew-5m/beyond", codec: skew5, sealed: future(5*time.Minute + time.Second), want: ErrInvalid})

	idle := fxCodec(t, CodecConfig{IdleTimeout: 30 * time.Minute})
	latAgo := func(d time.Duration) string {
		return seal(enc, fxNow.Add(-2*time.Hour), fxNow.Add(-d), fxNow.Add(10*time.Hour))
	}
	add(openCase{name: "time/idle/within", codec: idle, sealed: latAgo(30*time.Minute - time.Second)})
	add(openCase{name: "time/idle/at", codec: idle, sealed: latAgo(30 * time.Minute), want: ErrExpired, reason: "idle"})
	add(openCase{name: "time/idle/beyond", codec: idle, sealed: latAgo(3 * time.Hour / 2), want: ErrExpired})
	add(openCase{name: "time/idle/not-configured", sealed: latAgo(3 * time.Hour / 2)})

	// Lifetime shortened in configuration after the cookie was sealed (24h).
	longLived := seal(enc, fxNow.Add(-2*time.Hour), fxNow.Add(-time.Minute), fxNow.Add(22*time.Hour))
	add(openCase{name: "time/lifetime/default-24h", sealed: longLived})
	add(openCase{name: "time/lifetime/shortened-1h", codec: fxCodec(t, CodecConfig{Lifetime: time.Hour}), sealed: longLived, want: ErrExpired, reason: "lifetime"})
	add(openCase{name: "time/lifetime/shortened-to-age", codec: fxCodec(t, CodecConfig{Lifetime: 2 * time.Hour}), sealed: longLived, want: ErrExpired})
	add(openCase{name: "time/lifetime/shortened-above-age", codec: fxCodec(t, CodecConfig{Lifetime: 2*time.Hour + time.Second}), sealed: longLived})

	// NotBefore: every session issued before it is expired.
	nb := fxCodec(t, CodecConfig{NotBefore: fxNow.Add(-5 * time.Minute)})
	add(openCase{name: "time/not-before/issued-before", codec: nb, sealed: encSealed, want: ErrExpired, reason: "not-before"})
	add(openCase{name: "time/not-before/issued-1s-before", codec: nb, sealed: seal(enc, fxNow.Add(-5*time.Minute-time.Second), fxNow.Add(-time.Minute), fxNow.Add(time.Hour)), want: ErrExpired})
	add(openCase{name: "time/not-before/issued-at", codec: nb, sealed: seal(enc, fxNow.Add(-5*time.Minute), fxNow.Add(-time.Minute), fxNow.Add(time.Hour))})
	add(openCase{name: "time/not-before/issued-after", codec: nb, sealed: seal(enc, fxNow.Add(-time.Minute), fxNow.Add(-time.Minute), fxNow.Add(time.Hour))})
	add(openCase{name: "time/not-before/signed", codec: fxCodec(t, CodecConfig{Mode: Signed, NotBefore: fxNow}), sealed: sigSealed, want: ErrExpired})
	// Authentication comes before time: a tampered expired cookie is invalid.
	add(openCase{name: "time/tampered-and-expired", sealed: fxMutateDecoded(t, encSealed, 4, flipAt(positions["first"], 0)), now: expAt.Add(time.Hour), want: ErrInvalid})

	// Rotation.
	k1, k2, k3 := fxKey(t, "k1", fxSecret1), fxKey(t, "k2", fxSecret2), fxKey(t, "k3", fxSecret3)
	rotated := fxRing12(t)
	rotated, err := rotated.Rotate(k3, -1)
	if err != nil {
		t.Fatal(err)
	}
	rot := fxCodec(t, CodecConfig{Keys: rotated})
	removed, err := rotated.Without("k1")
	if err != nil {
		t.Fatal(err)
	}
	rem := fxCodec(t, CodecConfig{Keys: removed})
	byK2 := fxSeal(t, fxCodec(t, CodecConfig{Keys: fxRing(t, k2, k1)}), base)
	add(openCase{name: "rotate/old-primary-accepted", codec: rot, sealed: encSealed, check: okKid("k1", false, false)})
	add(openCase{name: "rotate/second-key-accepted", sealed: byK2, check: okKid("k2", false, false)})
	add(openCase{name: "rotate/new-primary", codec: rot, sealed: fxSeal(t, rot, base), check: okKid("k3", true, false)})
	add(openCase{name: "rotate/removed-key", codec: rem, sealed: encSealed, want: ErrInvalid, reason: `unknown key id "k1"`})
	add(openCase{name: "rotate/removed-key/compressed", codec: rem, sealed: zSealed, want: ErrInvalid, reason: "unknown key id"})
	add(openCase{name: "rotate/removed-key/signed", codec: fxCodec(t, CodecConfig{Mode: Signed, Keys: removed}), sealed: sigSealed, want: ErrInvalid, reason: "unknown key id"})
	add(openCase{name: "rotate/new-key-unknown-to-old-ring", sealed: fxSeal(t, rot, base), want: ErrInvalid, reason: "unknown key id"})
	// Same kid, other secret: a ring that reuses an id for another key.
	add(openCase{name: "rotate/kid-reused-with-other-secret", codec: fxCodec(t, CodecConfig{Keys: fxRing(t, fxKey(t, "k1", fxSecret3))}), sealed: encSealed, want: ErrInvalid, reason: "authentication failed"})

	// Chunks.
	big := fxPayload(t, map[string]any{"blob": fxRandomText(7000, 1)})
	bigB := fxPayload(t, map[string]any{"blob": fxRandomText(7000, 2)})
	cc := fxCodec(t, CodecConfig{Limits: Limits{HeaderBudget: 16384, MaxChunks: 4}})
	chunks, err := cc.Encode(big, 40)
	if err != nil {
		t.Fatal(err)
	}
	chunksB, err := cc.Encode(bigB, 40)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 3 || len(chunksB) != 3 {
		t.Fatalf("want 3 chunks, got %d and %d", len(chunks), len(chunksB))
	}
	v0, v1, v2 := chunks[0].Value, chunks[1].Value, chunks[2].Value
	three := func(t *testing.T, p *Payload, info OpenInfo) {
		if info.Chunks != 3 {
			t.Fatalf("info.Chunks = %d", info.Chunks)
		}
		fxSameValues(t, p.Values, big.Values)
	}
	add(openCase{name: "chunks/control", codec: cc, lookup: fxChunkLookup(chunks), check: three})
	add(openCase{name: "chunks/control/cookie-header", codec: cc, check: three,
		lookup: CookieLookup("sess", "theme=dark; "+fxCookieHeader(chunks)+"; sessx=1; sess.extra=2; other=3")})
	add(openCase{name: "chunks/control/several-headers", codec: cc, check: three,
		lookup: CookieLookup("sess", "sess.2="+v2, "a=b; sess="+v0, "sess.1="+v1)})
	add(openCase{name: "chunks/control/quoted", codec: cc, check: three,
		lookup: CookieLookup("sess", `sess="`+v0+`"; sess.1="`+v1+`"; sess.2=`+v2)})
	// Chunk boundaries are not authenticated, the joined value is.
	add(openCase{name: "chunks/control/other-cut", codec: cc, check: three,
		lookup: fxLookup("sess", v0[:len(v0)-100], "sess.1", v0[len(v0)-100:]+v1[:len(v1)-100], "sess.2", v1[len(v1)-100:]+v2)})
	add(openCase{name: "chunks/missing-1", codec: cc, lookup: fxLookup("sess", v0, "sess.2", v2), want: ErrInvalid, reason: "missing chunk"})
	add(openCase{name: "chunks/missing-2", codec: cc, lookup: fxLookup("sess", v0, "sess.1", v1), want: ErrInvalid, reason: "missing chunk"})
	add(openCase{name: "chunks/missing-first", codec: cc, lookup: fxLookup("sess.1", v1, "sess.2", v2), want: ErrNoCookie})
	add(openCase{name: "chunks/reordered-1-2", codec: cc, lookup: fxLookup("sess", v0, "sess.1", v2, "sess.2", v1), want: ErrInvalid})
	add(openCase{name: "chunks/reordered-0-1", codec: cc, lookup: fxLookup("sess", v1, "sess.1", v0, "sess.2", v2), want: ErrInvalid})
	add(openCase{name: "chunks/duplicated-1", codec: cc, lookup: fxLookup("sess", v0, "sess.1", v1, "sess.1", v1, "sess.2", v2), want: ErrInvalid, reason: "sent 2 times"})
	add(openCase{name: "chunks/duplicated-first", codec: cc, lookup: fxLookup("sess", v0, "sess", v0, "sess.1", v1, "sess.2", v2), want: ErrInvalid})
	add(openCase{name: "chunks/duplicated-via-header", codec: cc, lookup: CookieLookup("sess", fxCookieHeader(chunks)+"; sess.2="+v2), want: ErrInvalid})
	add(openCase{name: "chunks/duplicated-first-unchunked", lookup: CookieLookup("sess", "sess="+encSealed+"; sess="+encSealed), want: ErrInvalid})
	// Debris: the first cookie declares the set, names beyond it are not
	// read, whatever they hold (two tabs racing leave a longer session's
	// chunks beside a shorter one).
	one := func(t *testing.T, p *Payload, info OpenInfo) {
		if info.Chunks != 1 {
			t.Fatalf("info.Chunks = %d", info.Chunks)
		}
		fxSameValues(t, p.Values, base.Values)
	}
	add(openCase{name: "debris/beside-unchunked", lookup: fxLookup("sess", encSealed, "sess.1", v1), check: one})
	add(openCase{name: "debris/beside-unchunked/signed", codec: sig, lookup: fxLookup("sess", sigSealed, "sess.1", v1, "sess.2", v2), check: one})
	add(openCase{name: "debris/beside-unchunked/header", check: one,
		lookup: CookieLookup("sess", "sess.1="+v1+"; a=b; sess="+encSealed+"; sess.1="+chunksB[1].Value)})
	add(openCase{name: "debris/after-3", codec: cc, lookup: fxLookup("sess", v0, "sess.1", v1, "sess.2", v2, "sess.3", "AAAA"), check: three})
	add(openCase{name: "debris/at-8", codec: cc, lookup: fxLookup("sess", v0, "sess.1", v1, "sess.2", v2, "sess.8", ""), check: three})
	add(openCase{name: "debris/of-another-session", codec: cc, lookup: fxLookup("sess", v0, "sess.1", v1, "sess.2", v2, "sess.3", chunksB[2].Value), check: three})
	add(openCase{name: "debris/duplicated", codec: cc, lookup: fxLookup("sess", v0, "sess.1", v1, "sess.2", v2, "sess.3", v2, "sess.3", v1), check: three})
	add(openCase{name: "debris/over-4096", codec: cc, lookup: fxLookup("sess", v0, "sess.1", v1, "sess.2", v2, "sess.4", strings.Repeat("A", 2*MaxCookieBytes)), check: three})
	add(openCase{name: "debris/hostile-bytes", lookup: fxLookup("sess", encSealed, "sess.1", "\x00\xff;%%", "sess.5", "3~", "sess.8", "..."), check: one})
	add(openCase{name: "debris/every-name-beyond", lookup: fxLookup("sess", encSealed, "sess.1", v0, "sess.2", v1, "sess.3", v2, "sess.4", "x",
		"sess.5", "x", "sess.6", "x", "sess.7", "x", "sess.8", "x"), check: one})
	// Debris never completes the declared set nor stands for its first cookie.
	add(openCase{name: "debris/does-not-fill-a-gap", codec: cc, lookup: fxLookup("sess", v0, "sess.1", v1, "sess.3", v2), want: ErrInvalid, reason: "missing chunk sess.2"})
	add(openCase{name: "debris/without-first", codec: cc, lookup: fxLookup("sess.1", v1, "sess.2", v2, "sess.3", v0), want: ErrNoCookie})
	add(openCase{name: "chunks/other-session-1", codec: cc, lookup: fxLookup("sess", v0, "sess.1", chunksB[1].Value, "sess.2", v2), want: ErrInvalid, reason: "authentication failed"})
	add(openCase{name: "chunks/other-session-first", codec: cc, lookup: fxLookup("sess", chunksB[0].Value, "sess.1", v1, "sess.2", v2), want: ErrInvalid})
	add(openCase{name: "chunks/count-4", codec: cc, lookup: fxLookup("sess", "4"+v0[1:], "sess.1", v1, "sess.2", v2), want: ErrInvalid, reason: "missing chunk"})
	// A count lowered by one: the last chunk becomes debris, and the
	// declared set, cut short, does not authenticate.
	add(openCase{name: "chunks/count-2", codec: cc, lookup: fxLookup("sess", "2"+v0[1:], "sess.1", v1, "sess.2", v2), want: ErrInvalid})
	add(openCase{name: "chunks/count-2-without-last", codec: cc, lookup: fxLookup("sess", "2"+v0[1:], "sess.1", v1), want: ErrInvalid})
	add(openCase{name: "chunks/count-1", codec: cc, lookup: fxLookup("sess", "1"+v0[1:]), want: ErrInvalid})
	add(openCase{name: "chunks/count-0", codec: cc, lookup: fxLookup("sess", "0"+v0[1:]), want: ErrInvalid})
	add(openCase{name: "chunks/count-9-over-limit", codec: cc, lookup: fxLookup("sess", "9"+v0[1:], "sess.1", v1, "sess.2", v2), want: ErrInvalid, reason: "over the limit"})
	add(openCase{name: "chunks/count-letter", codec: cc, lookup: fxLookup("sess", "x"+v0[1:], "sess.1", v1, "sess.2", v2), want: ErrInvalid})
	add(openCase{name: "chunks/marker-only", codec: cc, lookup: fxLookup("sess", "3~", "sess.1", "", "sess.2", ""), want: ErrInvalid})
	add(openCase{name: "chunks/marker-in-second", codec: cc, lookup: fxLookup("sess", v0, "sess.1", "3~"+v1, "sess.2", v2), want: ErrInvalid})
	add(openCase{name: "chunks/over-max-chunks-of-codec", codec: fxCodec(t, CodecConfig{Limits: Limits{HeaderBudget: 16384, MaxChunks: 2}}), lookup: fxChunkLookup(chunks), want: ErrInvalid, reason: "over the limit"})
	add(openCase{name: "chunks/over-header-budget", codec: fxCodec(t, CodecConfig{}), lookup: fxChunkLookup(chunks), want: ErrInvalid, reason: "budget"})
	add(openCase{name: "chunks/one-over-4096", codec: cc, lookup: fxLookup("sess", v0, "sess.1", v1+strings.Repeat("A", MaxCookieBytes), "sess.2", v2), want: ErrInvalid})
	add(openCase{name: "chunks/first-over-4096", lookup: fxLookup("sess", strings.Repeat("A", MaxCookieBytes)), want: ErrInvalid})
	add(openCase{name: "chunks/no-cookie", lookup: fxLookup("other", encSealed), want: ErrNoCookie})
	add(openCase{name: "chunks/no-cookie/empty-header", lookup: CookieLookup("sess", ""), want: ErrNoCookie})
	add(openCase{name: "chunks/no-cookie/prefix-only", lookup: CookieLookup("sess", "sessx="+encSealed+"; ses="+encSealed), want: ErrNoCookie})
	add(openCase{name: "chunks/empty-value", lookup: CookieLookup("sess", "sess="), want: ErrInvalid})
	add(openCase{name: "chunks/control/unchunked-header", lookup: CookieLookup("sess", "a=1; sess="+encSealed+"; b=2")})

	// Size and alphabet before any parsing.
	mbDots := strings.Repeat(".", 1<<20)
	add(openCase{name: "raw/megabyte-of-dots", sealed: mbDots, want: ErrInvalid})
	add(openCase{name: "raw/megabyte-of-dots/signed", codec: sig, sealed: mbDots, want: ErrInvalid})
	add(openCase{name: "raw/megabyte-of-dots/decode", lookup: fxLookup("sess", mbDots), want: ErrInvalid})
	add(openCase{name: "raw/megabyte-of-dots/header", lookup: CookieLookup("sess", "sess="+mbDots), want: ErrInvalid})
	add(openCase{name: "raw/megabyte-of-A", sealed: strings.Repeat("A", 1<<20), want: ErrInvalid})
	add(openCase{name: "raw/empty", sealed: "", want: ErrInvalid})
	add(openCase{name: "raw/four-dots", sealed: "....", want: ErrInvalid})
	add(openCase{name: "raw/two-dots/signed", codec: sig, sealed: "..", want: ErrInvalid})
	add(openCase{name: "raw/six-segments", sealed: "a.b.c.d.e.f", want: ErrInvalid})
	add(openCase{name: "raw/at-budget", codec: fxCodec(t, CodecConfig{Limits: Limits{HeaderBudget: 512}}), sealed: strings.Repeat("A", 513), want: ErrInvalid, reason: "budget"})
	for _, bad := range []string{"+", "/", "=", " ", "\x00", "\xff", "~", "%2F", "é", "\n", "\"", ",", ";", "\\"} {
		mid := len(encSealed) / 2
		add(openCase{name: "alphabet/" + strconv.Quote(bad), sealed: encSealed[:mid] + bad + encSealed[mid:], want: ErrInvalid})
		add(openCase{name: "alphabet/replace/" + strconv.Quote(bad), sealed: encSealed[:mid] + bad + encSealed[mid+1:], want: ErrInvalid})
		add(openCase{name: "alphabet/signed/" + strconv.Quote(bad), codec: sig, sealed: sigSealed[:10] + bad + sigSealed[10:], want: ErrInvalid})
		add(openCase{name: "alphabet/decode/" + strconv.Quote(bad), lookup: fxLookup("sess", encSealed+bad), want: ErrInvalid})
	}
	add(openCase{name: "alphabet/std-base64", sealed: strings.NewReplacer("-", "+", "_", "/").Replace(encSealed) + "+/", want: ErrInvalid})
	add(openCase{name: "alphabet/padded-tag", sealed: encSealed + "==", want: ErrInvalid})

	// Non-canonical base64url: trailing bits set. A lenient decoder maps
	// these to the same bytes, so the values are authentic in every other
	// respect (the MAC or AEAD holds over what a lenient decoder sees).
	ncHeader, ok := fxNonCanonical(fxB64([]byte(jweHeader)))
	if !ok {
		t.Fatal("JWE header has no trailing bits")
	}
	add(openCase{name: "noncanonical/jwe/header", sealed: fxJWEEncoded(t, kEnc, ncHeader, good), want: ErrInvalid})
	var ncCT string
	for pad := 0; ncCT == "" && pad < 3; pad++ {
		s := fxJWE(t, kEnc, jweHeader, "", fxClaims(n-600, n-60, n+3000, `{"p":"`+strings.Repeat("x", pad)+`"}`))
		if c, ok := fxNonCanonical(strings.Split(s, ".")[3]); ok {
			ncCT = fxEditSegments(s, func(seg []string) { seg[3] = c })
			add(openCase{name: "noncanonical/jwe/ciphertext/control", sealed: s})
		}
	}
	add(openCase{name: "noncanonical/jwe/ciphertext", sealed: ncCT, want: ErrInvalid})
	add(openCase{name: "noncanonical/jwe/tag", want: ErrInvalid, sealed: fxEditSegments(encSealed, func(seg []string) {
		c, ok := fxNonCanonical(seg[4])
		if !ok {
			t.Fatal("tag has no trailing bits")
		}
		seg[4] = c
	})})
	ncSigHeader, ok := fxNonCanonical(fxB64([]byte(jwsHeader)))
	if !ok {
		t.Fatal("JWS header has no trailing bits")
	}
	add(openCase{name: "noncanonical/jws/header", codec: sig, sealed: fxJWSRaw(kSig, ncSigHeader, fxB64(good)), want: ErrInvalid})
	var ncPayload string
	for pad := 0; ncPayload == "" && pad < 3; pad++ {
		pl := fxB64(fxClaims(n-600, n-60, n+3000, `{"p":"`+strings.Repeat("x", pad)+`"}`))
		if c, ok := fxNonCanonical(pl); ok {
			ncPayload = fxJWSRaw(kSig, fxB64([]byte(jwsHeader)), c)
			add(openCase{name: "noncanonical/jws/payload/control", codec: sig, sealed: fxJWSRaw(kSig, fxB64([]byte(jwsHeader)), pl)})
		}
	}
	add(openCase{name: "noncanonical/jws/payload", codec: sig, sealed: ncPayload, want: ErrInvalid, reason: "canonical"})
	add(openCase{name: "noncanonical/jws/signature", codec: sig, want: ErrInvalid, sealed: fxEditSegments(sigSealed, func(seg []string) {
		c, ok := fxNonCanonical(seg[2])
		if !ok {
			t.Fatal("signature has no trailing bits")
		}
		seg[2] = c
	})})

	// Decompression bomb, sealed with the real key: a few KB that inflate
	// far past MaxPlaintextBytes.
	bomb := fxBomb(t, kEnc, 4<<20)
	if len(bomb) > 6<<10 {
		t.Fatalf("bomb of %d bytes is not small", len(bomb))
	}
	add(openCase{name: "bomb/4MiB", sealed: bomb, want: ErrInvalid, reason: "inflates past"})
	add(openCase{name: "bomb/4MiB/compressing-codec", codec: encZ, sealed: bomb, want: ErrInvalid, reason: "inflates past"})
	bombChunks, err := split("sess", bomb, 0, 4, DefaultHeaderBudget)
	if err != nil || len(bombChunks) != 2 {
		t.Fatalf("split bomb: %d chunks, %v", len(bombChunks), err)
	}
	add(openCase{name: "bomb/4MiB/decode", lookup: fxChunkLookup(bombChunks), want: ErrInvalid, reason: "inflates past"})
	add(openCase{name: "bomb/just-over", sealed: fxInflatesTo(t, kEnc, MaxPlaintextBytes+1), want: ErrInvalid, reason: "inflates past"})
	add(openCase{name: "bomb/control-at-limit", sealed: fxInflatesTo(t, kEnc, MaxPlaintextBytes), check: okKid("k1", true, true)})
	add(openCase{name: "bomb/truncated-stream", want: ErrInvalid, reason: "compressed payload",
		sealed: fxJWE(t, kEnc, `{"alg":"dir","enc":"A256GCM","kid":"k1","zip":"DEF"}`, "", zGood[:len(zGood)/2])})
	return cases
}

// fxJWEEncoded is fxJWE with the header given already encoded.
func fxJWEEncoded(t testing.TB, key []byte, headerB64 string, plaintext []byte) string {
	t.Helper()
	gcm := fxGCM(t, key)
	iv := make([]byte, 12)
	rand.Read(iv)
	sealed := gcm.Seal(nil, iv, plaintext, []byte(headerB64))
	return headerB64 + ".." + fxB64(iv) + "." + fxB64(sealed[:len(sealed)-16]) + "." + fxB64(sealed[len(sealed)-16:])
}

// fxRandomText returns n base64url characters from a fixed seed: text that
// does not compress.
func fxRandomText(n int, seed uint64) string {
	r := mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, (n*3+3)/4)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return base64.RawURLEncoding.EncodeToString(b)[:n]
}

// fxInflatesTo seals, with the real key and the compressed header, a DEFLATE
// stream of a payload valid at fxNow that inflates to exactly size bytes.
func fxInflatesTo(t testing.TB, key []byte, size int) string {
	t.Helper()
	n := fxNow.Unix()
	head := fxClaims(n-600, n-60, n+3000, `{"a":"`)
	head = head[:len(head)-1] // drop the closing brace of the payload
	tail := `"}}`
	fill := size - len(head) - len(tail)
	if fill < 0 {
		t.Fatalf("size %d too small", size)
	}
	pt := make([]byte, 0, size)
	pt = append(pt, head...)
	pt = append(pt, bytes.Repeat([]byte{'0'}, fill)...)
	pt = append(pt, tail...)
	if len(pt) != size {
		t.Fatalf("built %d bytes, want %d", len(pt), size)
	}
	return fxJWE(t, key, `{"alg":"dir","enc":"A256GCM","kid":"k1","zip":"DEF"}`, "", fxDeflate(t, pt, 9))
}

// fxBomb is fxInflatesTo for a size far past the limit.
func fxBomb(t testing.TB, key []byte, size int) string { return fxInflatesTo(t, key, size) }

// TestDeflateBombMemory checks that opening a decompression bomb allocates
// about MaxPlaintextBytes at most, whatever the stream claims.
func TestDeflateBombMemory(t *testing.T) {
	// The largest budget, so that the bomb is as large as a cookie can be.
	c := fxCodec(t, CodecConfig{Limits: Limits{HeaderBudget: MaxHeaderBudget, MaxChunks: MaxChunksLimit}})
	bomb := fxBomb(t, fxDerived(t, c, "k1"), 16<<20)
	if len(bomb) > MaxHeaderBudget {
		t.Fatalf("bomb of %d bytes over the budget", len(bomb))
	}
	open := func() {
		_, _, err := c.Open(bomb, fxNow)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "inflates past") {
			t.Fatalf("bomb: %v", err)
		}
	}
	open() // warm the pools
	const runs = 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		open()
	}
	runtime.ReadMemStats(&after)
	perOp := (after.TotalAlloc - before.TotalAlloc) / runs
	t.Logf("bomb of %d bytes claiming 16 MiB: %d bytes allocated per Open (MaxPlaintextBytes %d)", len(bomb), perOp, MaxPlaintextBytes)
	if perOp > MaxPlaintextBytes*5/4 {
		t.Fatalf("Open of a bomb allocated %d bytes, more than about MaxPlaintextBytes (%d)", perOp, MaxPlaintextBytes)
	}
	if allocs := testing.AllocsPerRun(runs, open); allocs > 64 {
		t.Fatalf("Open of a bomb made %v allocations", allocs)
	}
}

// TestRoundTrip seals and opens payloads of several shapes in both modes,
// with and without compression, through Seal/Open and Encode/Decode.
func TestRoundTrip(t *testing.T) {
	payloads := map[string]map[string]any{
		"empty":        {},
		"small":        fxSmallValues(),
		"unicode":      {"名前": "José ☃ \u2028", "html": "<a href=\"x\">&amp;</a>", "ctl": "\x00\x1f", "": "empty key"},
		"nested":       {"a": map[string]any{"b": []any{1.5, true, nil, "x", map[string]any{}}}, "n": math.Copysign(0, -1), "big": 1e300},
		"compressible": {"text": strings.Repeat("the quick brown fox ", 100)},
		"random":       {"blob": fxRandomText(2500, 3)},
	}
	for _, mode := range []struct {
		name string
		cfg  CodecConfig
	}{
		{"encrypted", CodecConfig{}},
		{"encrypted-compress", CodecConfig{Compress: true}},
		{"signed", CodecConfig{Mode: Signed}},
	} {
		c := fxCodec(t, mode.cfg)
		for pname, values := range payloads {
			t.Run(mode.name+"/"+pname, func(t *testing.T) {
				in := fxPayload(t, values)
				in.RememberMe = RememberNo
				sealed := fxSeal(t, c, in)
				out, info, err := c.Open(sealed, fxNow)
				fxCheckErr(t, err, nil)
				if out.ID != in.ID || out.IssuedAt.Unix() != in.IssuedAt.Unix() || out.LastActivity.Unix() != in.LastActivity.Unix() ||
					out.Expiry.Unix() != in.Expiry.Unix() || out.RememberMe != in.RememberMe {
					t.Fatalf("claims: got %+v, want %+v", out, in)
				}
				fxSameValues(t, out.Values, in.Values)
				for k, v := range in.Values {
					if !bytes.Equal(out.Values[k], v) {
						t.Fatalf("values[%q] bytes %s, want %s", k, out.Values[k], v)
					}
				}
				if info.KeyID != "k1" || !info.Primary || info.Bytes != len(sealed) {
					t.Fatalf("info %+v", info)
				}
				switch {
				case mode.cfg.Compress && pname == "compressible" && !info.Compressed:
					t.Fatal("compressible payload not compressed")
				case info.Compressed && !mode.cfg.Compress:
					t.Fatal("compressed without Compress")
				case info.Compressed && len(sealed) >= len(fxSeal(t, fxCodec(t, CodecConfig{}), in)):
					t.Fatal("compressed value not shorter than the plain one")
				}
				// Re-sealing what was opened gives the same plaintext.
				if got, want := appendPayload(nil, out), appendPayload(nil, in); !bytes.Equal(got, want) {
					t.Fatalf("re-encoded payload differs:\n%s\n%s", got, want)
				}
				chunks, err := c.Encode(in, len("; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=86400"))
				fxCheckErr(t, err, nil)
				out2, info2, err := c.Decode(CookieLookup("sess", "x=y; "+fxCookieHeader(chunks)), fxNow)
				fxCheckErr(t, err, nil)
				fxSameValues(t, out2.Values, in.Values)
				if info2.Chunks != len(chunks) {
					t.Fatalf("Chunks %d, want %d", info2.Chunks, len(chunks))
				}
			})
		}
	}
}

// TestSealedForm pins the outline of what Seal writes: the exact header
// bytes, segment count, IV and tag sizes, a fresh IV every time.
func TestSealedForm(t *testing.T) {
	p := fxPayload(t, fxSmallValues())
	enc := fxCodec(t, CodecConfig{})
	a, b := fxSeal(t, enc, p), fxSeal(t, enc, p)
	if a == b {
		t.Fatal("two seals of one payload are equal: IV reused")
	}
	seg := strings.Split(a, ".")
	if len(seg) != 5 || seg[1] != "" || len(seg[2]) != 16 || len(seg[4]) != 22 {
		t.Fatalf("JWE outline: %q", seg)
	}
	if h, _ := base64.RawURLEncoding.DecodeString(seg[0]); string(h) != `{"alg":"dir","enc":"A256GCM","kid":"k1"}` {
		t.Fatalf("JWE header %s", h)
	}
	sig := fxCodec(t, CodecConfig{Mode: Signed})
	s1, s2 := fxSeal(t, sig, p), fxSeal(t, sig, p)
	if s1 != s2 {
		t.Fatal("signed mode is not deterministic")
	}
	seg = strings.Split(s1, ".")
	if len(seg) != 3 || len(seg[2]) != 43 {
		t.Fatalf("JWS outline: %q", seg)
	}
	if h, _ := base64.RawURLEncoding.DecodeString(seg[0]); string(h) != `{"alg":"HS256","kid":"k1"}` {
		t.Fatalf("JWS header %s", h)
	}
	pl, _ := base64.RawURLEncoding.DecodeString(seg[1])
	if !bytes.Equal(pl, appendPayload(nil, p)) {
		t.Fatalf("JWS payload %s", pl)
	}
	if want := `{"sid":"c2Vzc2lvbi1pZC0x","iat":` + strconv.FormatInt(p.IssuedAt.Unix(), 10); !strings.HasPrefix(string(pl), want) {
		t.Fatalf("payload %s does not start with %s", pl, want)
	}
}

// TestCompressOnlyWhenShorter: with Compress, a value is compressed only when
// that makes the sealed value shorter, its longer header ("zip":"DEF")
// included; the design says compression is used only when it saves bytes.
func TestCompressOnlyWhenShorter(t *testing.T) {
	plain := fxCodec(t, CodecConfig{})
	z := fxCodec(t, CodecConfig{Compress: true})
	compressedOnce, plainOnce, marginal := false, false, 0
	for seed := uint64(0); seed < 12; seed++ {
		r := mrand.New(mrand.NewPCG(seed, 1))
		// From incompressible (random bytes 0x20-0xff, which a raw JSON
		// string may hold; a random id; times with few common digits) to
		// compressible, two bytes at a time: some payloads compress by only
		// a few bytes.
		for rep := 0; rep < 40; rep++ {
			raw := []byte{'"'}
			for len(raw) < MinCompressBytes {
				if c := byte(0x20 + r.IntN(0xe0)); c != '"' && c != '\\' {
					raw = append(raw, c)
				}
			}
			raw = append(append(raw, strings.Repeat("xy", rep)...), '"')
			p := fxPayload(t, map[string]any{})
			p.Values = map[string]json.RawMessage{"v": raw}
			p.ID = fxRandomText(40, seed*100+uint64(rep))
			p.IssuedAt = fxNow.Add(-86399 * time.Second)
			p.LastActivity = fxNow.Add(-7777 * time.Second)
			p.Expiry = fxNow.Add(5*time.Hour + 1234*time.Second)
			zs, ps := fxSeal(t, z, p), fxSeal(t, plain, p)
			_, info, err := z.Open(zs, fxNow)
			fxCheckErr(t, err, nil)
			pt := appendPayload(nil, p)
			if d := len(pt) - len(fxDeflate(t, pt, flate.DefaultCompression)); d > 0 && d < 12 {
				marginal++ // deflate saves bytes, not enough to pay for "zip"
			}
			if info.Compressed {
				compressedOnce = true
				if len(zs) >= len(ps) {
					t.Fatalf("seed %d rep %d: compressed value of %d bytes, the plain one is %d", seed, rep, len(zs), len(ps))
				}
			} else {
				plainOnce = true
				if len(zs) != len(ps) {
					t.Fatalf("uncompressed value of %d bytes, plain %d", len(zs), len(ps))
				}
			}
		}
	}
	if !compressedOnce || !plainOnce || marginal == 0 {
		t.Fatalf("compressed %v, plain %v, marginal cases %d: the test did not cover every side", compressedOnce, plainOnce, marginal)
	}
}

// TestCompressSkipsSmallPayloads: a payload under MinCompressBytes is sealed
// uncompressed even when DEFLATE would shorten it; one at the bound is tried.
func TestCompressSkipsSmallPayloads(t *testing.T) {
	z := fxCodec(t, CodecConfig{Compress: true})
	for _, n := range []int{MinCompressBytes - 1, MinCompressBytes} {
		var p *Payload
		for pad := 0; ; pad++ {
			p = fxPayload(t, map[string]any{"v": strings.Repeat("a", pad)})
			if len(appendPayload(nil, p)) == n {
				break
			}
		}
		_, info, err := z.Open(fxSeal(t, z, p), fxNow)
		fxCheckErr(t, err, nil)
		if want := n >= MinCompressBytes; info.Compressed != want {
			t.Errorf("payload of %d bytes: compressed %v, want %v", n, info.Compressed, want)
		}
	}
}

// TestTooLarge: sizes over a bound give a *SizeError with the sizes.
func TestTooLarge(t *testing.T) {
	check := func(t *testing.T, err error, what string, minSize, budget int) {
		t.Helper()
		var se *SizeError
		if !errors.As(err, &se) || !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error %v is not a *SizeError matching ErrTooLarge", err)
		}
		fxCheckErr(t, err, ErrTooLarge)
		if se.What != what || se.Size < minSize || se.Size <= se.Budget || se.Budget != budget {
			t.Fatalf("%+v, want What %q, Size >= %d, Budget %d", se, what, minSize, budget)
		}
		if !strings.Contains(err.Error(), strconv.Itoa(se.Size)) || !strings.Contains(err.Error(), strconv.Itoa(se.Budget)) {
			t.Fatalf("error text %q lacks the sizes", err)
		}
	}
	t.Run("plaintext", func(t *testing.T) {
		for _, cfg := range []CodecConfig{{}, {Compress: true}, {Mode: Signed}} {
			c := fxCodec(t, cfg)
			p := fxPayload(t, map[string]any{"v": strings.Repeat("a", MaxPlaintextBytes)})
			_, err := c.Seal(p)
			check(t, err, "plaintext", MaxPlaintextBytes+1, MaxPlaintextBytes)
			_, err = c.Encode(p, 0)
			check(t, err, "plaintext", MaxPlaintextBytes+1, MaxPlaintextBytes)
		}
	})
	t.Run("plaintext-at-limit-compresses-and-opens", func(t *testing.T) {
		c := fxCodec(t, CodecConfig{Compress: true})
		p := fxPayload(t, map[string]any{"v": ""})
		p.Values["v"] = []byte(`"` + strings.Repeat("a", MaxPlaintextBytes-len(appendPayload(nil, p))) + `"`)
		if n := len(appendPayload(nil, p)); n != MaxPlaintextBytes {
			t.Fatalf("payload of %d bytes", n)
		}
		chunks, err := c.Encode(p, 0)
		fxCheckErr(t, err, nil)
		_, info, err := c.Decode(fxChunkLookup(chunks), fxNow)
		fxCheckErr(t, err, nil)
		if !info.Compressed {
			t.Fatal("not compressed")
		}
	})
	t.Run("chunks", func(t *testing.T) {
		c := fxCodec(t, CodecConfig{Limits: Limits{HeaderBudget: 16384, MaxChunks: 2}})
		p := fxPayload(t, map[string]any{"blob": fxRandomText(7000, 4)})
		_, err := c.Encode(p, 0)
		check(t, err, "chunks", 3, 2)
	})
	t.Run("one-chunk-only", func(t *testing.T) {
		c := fxCodec(t, CodecConfig{Limits: Limits{MaxChunks: 1}})
		p := fxPayload(t, map[string]any{"blob": fxRandomText(3500, 4)})
		_, err := c.Encode(p, 0)
		check(t, err, "chunks", 2, 1)
	})
	t.Run("header-budget", func(t *testing.T) {
		c := fxCodec(t, CodecConfig{Limits: Limits{MaxChunks: 4}}) // 8192
		p := fxPayload(t, map[string]any{"blob": fxRandomText(6500, 5)})
		_, err := c.Encode(p, 0)
		check(t, err, "cookie header", 8193, DefaultHeaderBudget)
	})
	t.Run("header-budget-single-cookie", func(t *testing.T) {
		c := fxCodec(t, CodecConfig{Limits: Limits{HeaderBudget: 512}})
		p := fxPayload(t, map[string]any{"blob": fxRandomText(600, 5)})
		_, err := c.Encode(p, 0)
		check(t, err, "cookie header", 513, 512)
	})
	t.Run("attributes-too-long", func(t *testing.T) {
		c := fxCodec(t, CodecConfig{})
		p := fxPayload(t, map[string]any{"blob": fxRandomText(3000, 5)})
		_, err := c.Encode(p, 4050)
		check(t, err, "cookie header", MaxCookieBytes+1, MaxCookieBytes)
	})
	t.Run("fits-exactly", func(t *testing.T) {
		// Grow a payload byte by byte: every Encode that succeeds respects
		// every bound, and one that fails is a *SizeError.
		c := fxCodec(t, CodecConfig{Limits: Limits{HeaderBudget: 9000, MaxChunks: 3}})
		const attr = 60
		okOnce, failOnce := false, false
		for n := 2800; n < 7000; n += 37 {
			p := fxPayload(t, map[string]any{"blob": fxRandomText(n, 6)})
			chunks, err := c.Encode(p, attr)
			if err != nil {
				var se *SizeError
				if !errors.As(err, &se) {
					t.Fatalf("n %d: %v", n, err)
				}
				failOnce = true
				continue
			}
			okOnce = true
			total := 0
			for i, ch := range chunks {
				if ch.Name != ChunkName("sess", i) || len(ch.Name)+1+len(ch.Value)+attr > MaxCookieBytes {
					t.Fatalf("n %d chunk %d: %s of %d bytes", n, i, ch.Name, len(ch.Value))
				}
				total += len(ch.Name) + 1 + len(ch.Value)
			}
			total += 2 * (len(chunks) - 1)
			if total > 9000 || len(chunks) > 3 {
				t.Fatalf("n %d: %d chunks, %d bytes", n, len(chunks), total)
			}
			if len(fxCookieHeader(chunks)) != total {
				t.Fatalf("header accounting: %d vs %d", len(fxCookieHeader(chunks)), total)
			}
			_, info, err := c.Decode(fxChunkLookup(chunks), fxNow)
			fxCheckErr(t, err, nil)
			if info.Chunks != len(chunks) {
				t.Fatalf("Chunks %d", info.Chunks)
			}
		}
		if !okOnce || !failOnce {
			t.Fatalf("ok %v fail %v: range did not cross the budget", okOnce, failOnce)
		}
	})
}

// TestConfigErrors: NewCodec refuses bad configuration with ErrConfig.
func TestConfigErrors(t *testing.T) {
	ring := fxRing12(t)
	for name, cfg := range map[string]CodecConfig{
		"no-name":          {Keys: ring},
		"name-with-dot":    {Name: "a.b", Keys: ring},
		"name-with-space":  {Name: "a b", Keys: ring},
		"name-with-equals": {Name: "a=b", Keys: ring},
		"no-keys":          {Name: "s"},
		"bad-mode":         {Name: "s", Keys: ring, Mode: 7},
		"compress-signed":  {Name: "s", Keys: ring, Mode: Signed, Compress: true},
		"budget-low":       {Name: "s", Keys: ring, Limits: Limits{HeaderBudget: 100}},
		"budget-high":      {Name: "s", Keys: ring, Limits: Limits{HeaderBudget: MaxHeaderBudget + 1}},
		"chunks-high":      {Name: "s", Keys: ring, Limits: Limits{MaxChunks: 10}},
		"chunks-negative":  {Name: "s", Keys: ring, Limits: Limits{MaxChunks: -1}},
		"skew-high":        {Name: "s", Keys: ring, Limits: Limits{ClockSkew: time.Hour}},
		"lifetime-short":   {Name: "s", Keys: ring, Lifetime: time.Millisecond},
		"lifetime-long":    {Name: "s", Keys: ring, Lifetime: MaxLifetime + time.Second},
		"remember-long":    {Name: "s", Keys: ring, RememberLifetime: MaxLifetime + time.Second},
		"remember-short":   {Name: "s", Keys: ring, RememberLifetime: time.Millisecond},
		"idle-over-life":   {Name: "s", Keys: ring, Lifetime: time.Hour, IdleTimeout: 2 * time.Hour},
		"idle-negative":    {Name: "s", Keys: ring, IdleTimeout: -time.Second},
		"idle-sub-second":  {Name: "s", Keys: ring, IdleTimeout: time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := NewCodec(cfg)
			if c != nil {
				t.Fatal("codec returned with error")
			}
			fxCheckErr(t, err, ErrConfig)
		})
	}
	var nilRing *KeyRing
	if _, err := NewCodec(CodecConfig{Name: "s", Keys: nilRing}); !errors.Is(err, ErrConfig) {
		t.Fatalf("nil *KeyRing: %v", err)
	}
}

// TestSealRejectsBadID: Seal refuses a payload ID Open would refuse.
func TestSealRejectsBadID(t *testing.T) {
	c := fxCodec(t, CodecConfig{})
	for _, id := range []string{"", "a b", strings.Repeat("a", 65), "é"} {
		p := fxPayload(t, nil)
		p.ID = id
		if s, err := c.Seal(p); err == nil {
			t.Fatalf("Seal with ID %q gave %q", id, s)
		}
	}
}

// TestSealValueNamesUTF8: JSON cannot carry a name that is not UTF-8 as it
// is (encoding/json replaces the bad bytes with U+FFFD), so such a name
// would open renamed, and two of them as one repeated name that makes the
// whole cookie invalid. Seal refuses them.
func TestSealValueNamesUTF8(t *testing.T) {
	for _, cfg := range []CodecConfig{{}, {Mode: Signed}} {
		c := fxCodec(t, cfg)
		for _, names := range [][]string{{"\xff"}, {"\xff", "\xfe"}, {"ok", "a\xc3"}} {
			p := fxPayload(t, nil)
			p.Values = map[string]json.RawMessage{}
			for i, n := range names {
				p.Values[n] = json.RawMessage(strconv.Itoa(i))
			}
			s, err := c.Seal(p)
			if err == nil {
				_, _, openErr := c.Open(s, fxNow)
				t.Fatalf("Seal accepted names %q; Open then says %v", names, openErr)
			}
			if errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) {
				t.Fatalf("Seal error %v matches an Open sentinel", err)
			}
		}
		// Valid UTF-8 of every kind is kept exactly.
		p := fxPayload(t, map[string]any{"ключ": 1, "\u2028": 2, "<&>": 3, "\x00": 4, "😀": 5})
		out, _, err := c.Open(fxSeal(t, c, p), fxNow)
		fxCheckErr(t, err, nil)
		fxSameValues(t, out.Values, p.Values)
	}
}
