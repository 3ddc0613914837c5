package cookiesession

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// The fuzz targets are seeded from the cookie values of testdata/vectors
// (each fails at once when it finds none) and from inline seeds. Their
// codecs hold the vectors' keys and the fixtures' keys in one ring, so that
// both kinds of seed open and mutations reach every step of Open.
//
// Each target returns at once on inputs over its bound. The fuzzer grows its
// inputs without limit (to megabytes), and it minimizes every input that
// finds new coverage with a number of calls that grows with the square of
// its length: a target that takes inputs of tens of kilobytes spends its
// budget on a few slow calls and on minimizing them (FuzzRoundTrip ran at
// 6 calls a second; FuzzDeflate and FuzzGoJoseDifferential made none for
// most of their 20 s in CI, which now also caps each minimization at 1000
// calls). The bounds keep what each target exercises: payloads of a few
// cookies, values that split into chunks and go over the default cookie
// budget. Larger inputs are the unit tests' (chunking at MaxChunksLimit,
// MaxPlaintextBytes, DEFLATE windows of 32 KB).

// fuzzMaxPayload bounds the payloads and raw values the targets build from
// their inputs: two cookies' worth, past the default cookie budget once
// sealed and base64-encoded.
const fuzzMaxPayload = 6 << 10

// fuzzMaxString bounds each other string a target takes: names, values
// repeated in a payload.
const fuzzMaxString = 1 << 10

func fxFuzzRing(t testing.TB) *KeyRing {
	return fxRing(t, fxKey(t, "2026-01", vecNew), fxKey(t, "2025-10", vecOld), fxKey(t, "k1", fxSecret1), fxKey(t, "k2", fxSecret2))
}

func fxFuzzCodecs(t testing.TB) []*Codec {
	ring := fxFuzzRing(t)
	lim := Limits{HeaderBudget: 16384, MaxChunks: 4}
	return []*Codec{
		fxCodec(t, CodecConfig{Keys: ring, Limits: lim}),
		fxCodec(t, CodecConfig{Keys: ring, Limits: lim, Compress: true}),
		fxCodec(t, CodecConfig{Keys: ring, Limits: lim, Mode: Signed}),
		fxCodec(t, CodecConfig{Keys: ring, IdleTimeout: 30 * time.Minute, NotBefore: vecNow.Add(-2 * time.Hour)}),
	}
}

// fxFuzzForbidden is a short list of key encodings, cheap enough to check
// on every fuzz error.
var fxFuzzForbidden = sync.OnceValue(func() []string {
	var out []string
	for _, s := range [][]byte{fxSecret1, fxSecret2, vecOld, vecNew} {
		for _, b := range [][]byte{s, deriveKey(s, Encrypted, "sess"), deriveKey(s, Signed, "sess")} {
			out = append(out, hex.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b), base64.StdEncoding.EncodeToString(b)[:40])
		}
	}
	return out
})

// fxFuzzErr fails unless err is nil or matches exactly one of allowed, with
// no JOSE text and no key material.
func fxFuzzErr(t *testing.T, what string, err error, allowed ...error) {
	t.Helper()
	if err == nil {
		return
	}
	n := 0
	for _, s := range fxSentinels {
		if errors.Is(err, s) {
			n++
			found := false
			for _, a := range allowed {
				found = found || a == s
			}
			if !found {
				t.Fatalf("%s: error %v matches %v", what, err, s)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%s: error %q matches %d sentinels", what, err, n)
	}
	msg := err.Error()
	if strings.Contains(strings.ToLower(msg), "jose") {
		t.Fatalf("%s: error names JOSE: %q", what, msg)
	}
	for _, f := range fxFuzzForbidden() {
		if strings.Contains(msg, f) {
			t.Fatalf("%s: error contains key material: %q", what, msg)
		}
	}
}

// fxCheckOpened checks the invariants of a payload Open accepted.
func fxCheckOpened(t *testing.T, c *Codec, p *Payload) {
	t.Helper()
	if p == nil || !validSID(p.ID) || p.IssuedAt.After(p.LastActivity) || !p.LastActivity.Before(p.Expiry) {
		t.Fatalf("opened payload breaks the claim rules: %+v", p)
	}
	// What was opened seals and opens again to the same payload.
	s, err := c.Seal(p)
	if err != nil {
		t.Fatalf("re-seal: %v", err)
	}
	var q Payload
	qms, err := parsePayload(appendPayload(nil, p), &q)
	if err != nil || !bytes.Equal(writePayload(nil, &q, qms), appendPayload(nil, p)) {
		t.Fatalf("re-encoded payload does not parse back: %v", err)
	}
	if _, _, err := c.Open(s, p.LastActivity); err != nil && !errors.Is(err, ErrExpired) {
		t.Fatalf("re-sealed value does not open: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	headers, values := fxVectorCookies(f)
	for _, v := range values {
		f.Add(v, "")
	}
	for _, h := range headers {
		f.Add("", h)
	}
	codecs := fxFuzzCodecs(f)
	p := fxPayload(f, fxSmallValues())
	for _, c := range codecs {
		s := fxSeal(f, c, p)
		f.Add(s, "sess="+s)
		chunks, err := split("sess", s, 0, 4, 16384)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s[:len(s)/2], fxCookieHeader(chunks)+"; sess.1=x")
	}
	big := fxSeal(f, codecs[0], fxPayload(f, map[string]any{"blob": fxRandomText(7000, 7)}))
	chunks, err := split("sess", big, 0, 4, 16384)
	if err != nil || len(chunks) < 2 {
		f.Fatalf("big seed: %d chunks, %v", len(chunks), err)
	}
	f.Add(big, fxCookieHeader(chunks))
	f.Add(fxBomb(f, deriveKey(fxSecret1, Encrypted, "sess"), 1<<20), "")
	for _, s := range []string{"", ".", "....", "..", "a.b.c", "a.b.c.d.e", "\x00", "~", "2~", "9~....", strings.Repeat(".", 4096)} {
		f.Add(s, "sess="+s)
	}
	f.Add("", "sess=1; sess=2; sess.1=3")
	f.Add("", `sess="2~abc"; sess.1="def"`)

	f.Fuzz(func(t *testing.T, value, header string) {
		for _, c := range codecs {
			for _, at := range []time.Time{vecNow, fxNow} {
				p, _, err := c.Open(value, at)
				fxFuzzErr(t, "Open", err, ErrInvalid, ErrExpired)
				if err == nil {
					fxCheckOpened(t, c, p)
				}
				p, info, err := c.Decode(CookieLookup("sess", header), at)
				fxFuzzErr(t, "Decode", err, ErrInvalid, ErrExpired, ErrNoCookie)
				if err == nil {
					fxCheckOpened(t, c, p)
					if info.Chunks < 1 || info.Chunks > c.cfg.Limits.MaxChunks {
						t.Fatalf("Chunks %d", info.Chunks)
					}
				}
				// The raw value as the only cookie, and split as we would.
				_, _, err = c.Decode(func(n string) []string {
					if n == "sess" {
						return []string{value}
					}
					return nil
				}, at)
				fxFuzzErr(t, "Decode value", err, ErrInvalid, ErrExpired)
			}
		}
	})
}

// fxNormalKey is what a value name becomes through JSON: invalid UTF-8 is
// replaced, as encoding/json does.
func fxNormalKey(k string) string {
	b, _ := json.Marshal(k)
	var s string
	json.Unmarshal(b, &s)
	return s
}

func FuzzRoundTrip(f *testing.F) {
	_, values := fxVectorCookies(f)
	for i, v := range values {
		f.Add("k", v, int64(i), 1.5, i%2 == 0, []byte(`{"a":[1,"x",null]}`), "other", uint8(i))
	}
	// The values of the ok vectors as raw JSON seeds.
	for _, v := range fxLoadVectors(f) {
		if vals, ok := v.fields["values"]; ok {
			f.Add("user", "alice", int64(-1), math.Copysign(0, -1), true, []byte(vals), "cart", uint8(1))
		}
	}
	f.Add("", "", int64(0), 0.0, false, []byte("null"), "", uint8(0))
	f.Add("<&>", "\u2028\x00\xff", int64(math.MaxInt64), math.MaxFloat64, true, []byte(" [ 1 , 2 ] "), "\xfe", uint8(2))
	f.Add("\xff", "x", int64(math.MinInt64), math.SmallestNonzeroFloat64, false, []byte(`"\ud800"`), "\xfe", uint8(3))
	f.Add("名前", strings.Repeat("ab", 500), int64(1), 1e300, true, []byte(`{"deep":[[[[[[[[[[]]]]]]]]]]}`), "n", uint8(4))
	f.Add("k", strings.Repeat("ab", 512), int64(2), 0.5, false, []byte(`"`+fxRandomText(fuzzMaxPayload-2, 3)+`"`), "k2", uint8(5))
	f.Add("deep", "", int64(3), 1.0, true, []byte(nest("[", "", MaxNesting+1)), "", uint8(6))
	// The default limits: sessions of one cookie, of several, and over the
	// budget are all within fuzzMaxPayload.
	ring := fxFuzzRing(f)
	codecs := []*Codec{
		fxCodec(f, CodecConfig{Keys: ring}),
		fxCodec(f, CodecConfig{Keys: ring, Compress: true}),
		fxCodec(f, CodecConfig{Keys: ring, Mode: Signed}),
	}
	lim := codecs[0].cfg.Limits

	f.Fuzz(func(t *testing.T, k1, s string, n int64, fl float64, b bool, raw []byte, k2 string, rm uint8) {
		if len(k1) > fuzzMaxString || len(s) > fuzzMaxString || len(k2) > fuzzMaxString || len(raw) > fuzzMaxPayload {
			return
		}
		in := map[string]any{k1: s, "n": n, "b": b, "nested": map[string]any{k1: []any{s, n, b, nil}, "k2": k2}, k2: []string{s, k1}}
		if !math.IsNaN(fl) && !math.IsInf(fl, 0) {
			in["f"] = fl
		}
		values := map[string]json.RawMessage{}
		for k, v := range in {
			bs, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			values[k] = bs
		}
		if json.Valid(raw) {
			values["raw"] = raw
		}
		p := fxPayload(t, nil)
		p.Values = values
		p.RememberMe = RememberMe(rm % 3)
		if validSubject(k2) {
			p.Subject = k2 // the "sub" claim, escapes and all
		}
		sealed := ""
		for i, c := range codecs {
			s, err := c.Seal(p)
			if json.Valid(raw) && jsonNesting(raw) > MaxNesting {
				// Seal refuses what would not open.
				if !errors.Is(err, ErrBadValue) {
					t.Fatalf("Seal of a value nested %d deep: %v", jsonNesting(raw), err)
				}
				return
			}
			// Names that are not UTF-8 cannot be written in JSON as they
			// are: Seal refuses them rather than seal what would not open
			// as it was.
			if !utf8.ValidString(k1) || !utf8.ValidString(k2) {
				if err == nil {
					t.Fatalf("Seal accepted a value name that is not UTF-8 (%q, %q)", k1, k2)
				}
				return
			}
			if err != nil {
				var se *SizeError
				if errors.As(err, &se) && len(appendPayload(nil, p)) > MaxPlaintextBytes {
					return
				}
				t.Fatalf("Seal: %v", err)
			}
			if i == 0 {
				sealed = s
			}
			if len(s) > c.cfg.Limits.HeaderBudget {
				// Seal does not check the cookie budget, Encode does, and
				// Open refuses what is over it.
				if _, err := c.Encode(p, 0); !errors.Is(err, ErrTooLarge) {
					t.Fatalf("Encode of %d bytes: %v", len(s), err)
				}
				if _, _, err := c.Open(s, fxNow); !errors.Is(err, ErrInvalid) {
					t.Fatalf("Open of %d bytes: %v", len(s), err)
				}
				continue
			}
			out, info, err := c.Open(s, fxNow)
			if err != nil {
				t.Fatalf("%v: %v", c.cfg.Mode, err)
			}
			if info.Compressed && !c.cfg.Compress {
				t.Fatal("compressed without Compress")
			}
			if out.RememberMe != p.RememberMe || out.ID != p.ID || out.Subject != p.Subject || !out.Expiry.Equal(p.Expiry.Truncate(1e9)) {
				t.Fatalf("claims %+v, want %+v", out, p)
			}
			if len(out.Values) != len(values) {
				t.Fatalf("%d values, want %d", len(out.Values), len(values))
			}
			for k, v := range values {
				got, ok := out.Values[fxNormalKey(k)]
				if !ok {
					t.Fatalf("value %q missing", k)
				}
				if k == "raw" {
					v = bytes.Trim(v, " \t\r\n")
				}
				if !bytes.Equal(got, v) {
					t.Fatalf("value %q: %s, want %s", k, got, v)
				}
			}
			// Values decode to what encoding/json would give.
			for k, v := range in {
				want, _ := json.Marshal(v)
				var x, y any
				if json.Unmarshal(out.Values[k], &x) != nil || json.Unmarshal(want, &y) != nil {
					t.Fatalf("value %q does not decode", k)
				}
			}
		}
		// And the cookie path.
		chunks, err := split("sess", sealed, 0, lim.MaxChunks, lim.HeaderBudget)
		if err != nil {
			return // over the cookie budget: Encode says so, checked above
		}
		if _, _, err := codecs[0].Decode(fxChunkLookup(chunks), fxNow); err != nil {
			t.Fatalf("Decode: %v", err)
		}
	})
}

// FuzzSetSealOpen checks the contract of Session.Set through a Manager: what
// Set accepts reads back byte for byte on the next request (Set, seal,
// cookies, open), unless the session no longer fits its cookies, which Save
// reports; what it refuses, a value encoding/json cannot marshal or one the
// next request could not open (ErrBadValue), leaves the session as it was.
// The oracle is encoding/json: Set stores json.Marshal's bytes, and refuses
// with ErrBadValue exactly the values nested deeper than MaxNesting (as
// built, or for raw JSON as encoding/json's tokenizer counts) or under names
// that are not UTF-8.
func FuzzSetSealOpen(f *testing.F) {
	add := func(key, str, raw string, depth, width uint8, n int64, fl float64) {
		for mode := range uint8(3) {
			f.Add(key, str, []byte(raw), depth, width, n, fl, mode)
		}
	}
	add("user", "alice", `{"a":[1,2,{"b":null}]}`, 0, 0, 0, 0)
	// Deep: at the bound, one over, and the 66 levels of the report.
	add("deep", "x", nest("[", "1", MaxNesting), MaxNesting, 1, 1, 1.5)
	add("deeper", "x", nest(`{"a":`, "null", MaxNesting+1), MaxNesting+1, 1, 2, 2.5)
	add("d66", "", nest("[", "", 66), 66, 0, 3, 3.5)
	add("mixed", "y", nest(`[{"a":`, "{}", MaxNesting/2), MaxNesting-1, 2, 4, 4.5)
	// Wide.
	add("wide", "w", "["+strings.Repeat("1,", 1000)+"1]", 0, 255, 5, 5.5)
	add("many", strings.Repeat("v", 500), `{`+strings.Repeat(`"k":1,`, 200)+`"z":0}`, 1, 100, 6, 6.5)
	// Unicode, valid and not.
	add("名前", "значение ☃ 🍪 \u2028\u2029", `"\ud83c\udf6a"`, 2, 3, 7, 7.5)
	add("\xff", "\xff\xfe", `"\ud800"`, 1, 1, 8, 8.5)
	add("ok", "\xc3\x28 \xed\xa0\x80", `["\udfff"]`, 0, 2, 9, 9.5)
	// Escaped.
	add(`"\<>&`, "\x00\x1f\"\\/<>&\u007f", `"\"\\\/\b\f\n\r\t\u0000\u001f"`, 1, 4, 10, 10.5)
	add("_flash", "<script>", `["a","b"]`, 0, 1, 11, 11.5)
	// Numbers at their edges.
	add("n", "", "-0", 0, 0, math.MaxInt64, math.MaxFloat64)
	add("n", "", "1e309", 0, 1, math.MinInt64, math.SmallestNonzeroFloat64)
	add("n", "", "123456789012345678901234567890", 0, 2, -1, math.Copysign(0, -1))
	add("n", "", "1E+2", 0, 3, 1<<53+1, 1e-7)
	add("n", "", "-0.0e-0", 0, 4, 0, 1e21)

	ring := fxFuzzRing(f)
	var managers []*Manager
	var logs []*e2eLog
	for _, cfg := range []Config{{Keys: ring}, {Keys: ring, Compress: true}, {Keys: ring, Mode: Signed}} {
		m, _, lg := e2eManager(f, cfg)
		managers, logs = append(managers, m), append(logs, lg)
	}

	f.Fuzz(func(t *testing.T, key, str string, raw []byte, depth, width uint8, n int64, fl float64, mode uint8) {
		if len(key) > fuzzMaxString || len(str) > fuzzMaxString || len(raw) > fuzzMaxPayload {
			return
		}
		m, lg := managers[int(mode)%len(managers)], logs[int(mode)%len(logs)]
		var deep any = str
		for i := range int(depth) {
			if i%2 == 0 {
				deep = []any{deep}
			} else {
				deep = map[string]any{key: deep}
			}
		}
		wide := make([]any, int(width))
		for i := range wide {
			wide[i] = []any{n, str, nil, true, fl}[i%5]
		}
		// Each value with its nesting, known by construction but for the
		// raw one.
		values := []struct {
			key     string
			value   any
			nesting int
		}{
			{key, json.RawMessage(raw), jsonNesting(raw)},
			{"s", str, 0},
			{"deep", deep, int(depth)},
			{"wide", wide, 1},
			{"n", n, 0},
			{"f", fl, 0},
			{str, key, 0},
		}

		s, _ := m.LoadHeader()
		accepted := map[string][]byte{}
		for _, v := range values {
			before := s.Keys()
			err := s.Set(v.key, v.value)
			want, merr := json.Marshal(v.value)
			switch {
			case merr != nil:
				if err == nil || errors.Is(err, ErrBadValue) {
					t.Fatalf("Set(%q) of what json.Marshal refuses (%v): %v", v.key, merr, err)
				}
			case !utf8.ValidString(v.key) || v.nesting > MaxNesting:
				if !errors.Is(err, ErrBadValue) {
					t.Fatalf("Set(%q) of a value nested %d deep: %v, want ErrBadValue", v.key, v.nesting, err)
				}
			case err != nil:
				t.Fatalf("Set(%q, %s): %v", v.key, want, err)
			default:
				accepted[v.key] = want
			}
			if err != nil && (!slices.Equal(s.Keys(), before) || accepted[v.key] != nil && !bytes.Equal(s.Raw(v.key), accepted[v.key])) {
				t.Fatalf("refused Set(%q) changed the session", v.key)
			}
		}
		lines, err := m.SetCookies(s)
		if errors.Is(err, ErrTooLarge) {
			return // Save says so; the contract holds for sessions that fit
		}
		if err != nil {
			t.Fatalf("SetCookies: %v", err)
		}
		next, err := m.LoadHeader(e2eCookieHeader(t, lines))
		if err != nil {
			t.Fatalf("the next request refuses what Set accepted: %v", err)
		}
		var keys []string
		for k, want := range accepted {
			if got := next.Raw(k); !bytes.Equal(got, want) {
				t.Fatalf("%q reads back %s, Set stored %s", k, got, want)
			}
			if k != flashKey {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		if !slices.Equal(next.Keys(), keys) {
			t.Fatalf("keys %q, want %q", next.Keys(), keys)
		}
		if errs := lg.take(); len(errs) != 0 {
			t.Fatalf("ErrorLog: %v", errs)
		}
	})
}

// fxSealedLike maps arbitrary bytes onto the alphabet of sealed values.
func fxSealedLike(b []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(out)
}

func FuzzChunks(f *testing.F) {
	headers, values := fxVectorCookies(f)
	for i, v := range values {
		f.Add([]byte(v), "sess", uint16(40*i), uint16(16384), uint8(4), "")
	}
	for _, h := range headers {
		f.Add([]byte(h), "sess", uint16(0), uint16(8192), uint8(3), h)
	}
	f.Add(bytes.Repeat([]byte("A"), 20000), "s", uint16(100), uint16(32768), uint8(9), "s=2~a; s.1=b; s.2=c")
	f.Add([]byte{}, "__Host-sess", uint16(4096), uint16(512), uint8(1), "__Host-sess=; __Host-sess.1=x")
	f.Add([]byte("x"), "a", uint16(4000), uint16(0), uint8(0), "a=9~; a.1=; a.8=z")

	f.Fuzz(func(t *testing.T, raw []byte, name string, attr uint16, budget uint16, maxChunks uint8, header string) {
		if checkCookieName(name) != nil {
			name = "sess"
		}
		sealed := fxSealedLike(raw)
		attrLen := int(attr) % 5000
		bud := 512 + int(budget)%(MaxHeaderBudget-511)
		mc := 1 + int(maxChunks)%MaxChunksLimit
		var names [MaxChunksLimit]string
		for i := range names {
			names[i] = ChunkName(name, i)
		}
		chunks, err := split(name, sealed, attrLen, mc, bud)
		if err != nil {
			var se *SizeError
			if !errors.As(err, &se) || !errors.Is(err, ErrTooLarge) || se.Size <= se.Budget {
				t.Fatalf("split: %v", err)
			}
		} else {
			if len(chunks) < 1 || len(chunks) > mc {
				t.Fatalf("%d chunks, max %d", len(chunks), mc)
			}
			total := 0
			for i, c := range chunks {
				if c.Name != names[i] {
					t.Fatalf("chunk %d named %q", i, c.Name)
				}
				if len(c.Name)+1+len(c.Value)+attrLen > MaxCookieBytes {
					t.Fatalf("chunk %d: %d bytes with attributes", i, len(c.Name)+1+len(c.Value)+attrLen)
				}
				total += len(c.Name) + 1 + len(c.Value)
			}
			if total += 2 * (len(chunks) - 1); total > bud {
				t.Fatalf("%d bytes of header, budget %d", total, bud)
			}
			got, n, err := join(new(buffer), names[:], fxChunkLookup(chunks), mc, bud)
			if err != nil || got != sealed || n != len(chunks) {
				t.Fatalf("join: %v, %d chunks of %d, equal %v", err, n, len(chunks), got == sealed)
			}
			// And through a browser's Cookie header.
			got, _, err = join(new(buffer), names[:], CookieLookup(name, name+"_x=b; "+fxCookieHeader(chunks)), mc, bud)
			if err != nil || got != sealed {
				t.Fatalf("join of the header: %v", err)
			}
			// Debris beyond the declared set is not read.
			debris := fxCookieHeader(chunks)
			for _, d := range names[len(chunks):] {
				debris += "; " + d + "=" + chunks[len(chunks)-1].Value + "; " + d + "=" + string(rune('A'+len(d)))
			}
			got, n, err = join(new(buffer), names[:], CookieLookup(name, debris), mc, bud)
			if err != nil || got != sealed || n != len(chunks) {
				t.Fatalf("join with debris: %v, %d chunks of %d", err, n, len(chunks))
			}
		}
		// The Manager's map-free lookup agrees with CookieLookup on every
		// chunk name.
		jar := chunkCookies{name: name}
		jar.add([]string{header, string(raw)})
		lookup := CookieLookup(name, header, string(raw))
		for _, n := range names {
			if !slices.Equal(jar.lookup(n), lookup(n)) {
				t.Fatalf("lookup(%q): chunkCookies %q, CookieLookup %q", n, jar.lookup(n), lookup(n))
			}
		}
		// Arbitrary headers never panic and fail only as documented.
		got, n, err := join(new(buffer), names[:], lookup, mc, bud)
		if err != nil {
			if !errors.Is(err, ErrNoCookie) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("join: %v", err)
			}
		} else if n < 1 || n > mc || len(got) > bud {
			t.Fatalf("join: %d chunks, %d bytes", n, len(got))
		}
	})
}

func FuzzGoJoseDifferential(f *testing.F) {
	_, values := fxVectorCookies(f)
	// The default limits: a value over the cookie budget is within
	// fuzzMaxPayload.
	ring := fxFuzzRing(f)
	codecs := []*Codec{
		fxCodec(f, CodecConfig{Keys: ring}),
		fxCodec(f, CodecConfig{Keys: ring, Compress: true}),
		fxCodec(f, CodecConfig{Keys: ring, Mode: Signed}),
	}
	// Seeds: the payloads of the ok vectors, and the cookie values as
	// (invalid) plaintext.
	for _, v := range fxLoadVectors(f) {
		if v.fields["expect"] != "ok" {
			continue
		}
		c, err := v.codec()
		if err != nil {
			f.Fatal(err)
		}
		now := vecNow
		p, _, err := c.Decode(CookieLookup(v.fields["name"], v.cookie...), now)
		if err != nil {
			f.Fatal(err)
		}
		for m := range uint8(3) {
			f.Add(appendPayload(nil, p), m, false)
		}
	}
	for i, v := range values {
		f.Add([]byte(v), uint8(i%3), i%2 == 0)
	}
	f.Add(fxGoodClaims(), uint8(0), false)
	f.Add(fxGoodClaims(), uint8(1), true)
	f.Add(fxClaims(fxNow.Unix()-10, fxNow.Unix()-5, fxNow.Unix()-1, `{}`), uint8(2), false)
	f.Add([]byte(`{"sid":"c2lk","iat":1,"lat":1,"exp":2,"v":{},"v":{}}`), uint8(0), false)
	f.Add([]byte{}, uint8(1), false)

	f.Fuzz(func(t *testing.T, plaintext []byte, mode uint8, useK2 bool) {
		if len(plaintext) > fuzzMaxPayload {
			return
		}
		c := codecs[int(mode)%len(codecs)]
		kid := "k1"
		if useK2 {
			kid = "2025-10"
		}
		key := fxDerived(t, c, kid)
		compress := c.cfg.Compress
		var sealed string
		if compress {
			sealed = fxJoseSealDeflated(t, key, kid, plaintext)
		} else {
			sealed = fxJoseSeal(t, c.cfg.Mode, false, key, kid, plaintext)
		}

		// What ours should say: the claim rules, then the time rules.
		var want error
		p := new(Payload)
		pms, err := parsePayload(plaintext, p)
		if err == nil {
			p.Values = pms.toMap()
		}
		if err != nil {
			want = ErrInvalid
		} else if err := c.checkTime(p, fxNow); err != nil {
			want = ErrExpired
			if errors.Is(err, ErrInvalid) {
				want = ErrInvalid
			}
		}
		got, info, err := c.Open(sealed, fxNow)
		if len(sealed) > c.cfg.Limits.HeaderBudget {
			want = ErrInvalid
		}
		if (err == nil) != (want == nil) || (err != nil && !errors.Is(err, want)) {
			t.Fatalf("go-jose value of %q: ours says %v, want %v", plaintext, err, want)
		}
		fxFuzzErr(t, "Open", err, ErrInvalid, ErrExpired)
		if err != nil {
			return
		}
		if info.KeyID != kid || info.Compressed != compress {
			t.Fatalf("info %+v", info)
		}
		if !bytes.Equal(appendPayload(nil, got), appendPayload(nil, p)) {
			t.Fatalf("payload %s, want %s", appendPayload(nil, got), appendPayload(nil, p))
		}
		// And ours opens with go-jose, to the payload we wrote.
		ours := fxSeal(t, c, got)
		pt, h, err := fxJoseOpen(t, c.cfg.Mode, ours, fxDerived(t, c, c.cfg.Keys.KeyRing().Primary()))
		if err != nil {
			t.Fatalf("go-jose cannot open ours: %v", err)
		}
		if !bytes.Equal(pt, appendPayload(nil, got)) || h.KeyID != c.cfg.Keys.KeyRing().Primary() {
			t.Fatalf("go-jose opened %s", pt)
		}
	})
}

// FuzzRevocationList: a revocation list file never panics the parser, every
// refusal wraps ErrConfig, and what it accepts writes back (MarshalJSON) to
// a file that parses to the same entries.
func FuzzRevocationList(f *testing.F) {
	f.Add([]byte(`{"revocations":[{"subject":"user-42","not_before":"2026-03-01T10:00:00Z"}]}`))
	f.Add([]byte(`{"revocations":[{"subject":"Zo\u00eb <z>","not_before":"2026-03-01T10:00:00.123456789-08:00"},{"subject":"b","not_before":"0001-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"revocations":[]}`))
	f.Add([]byte(`{"revocations":[{"subject":"a","not_before":"2026-03-01T10:00:00Z"},{"subject":"a","not_before":"2026-03-01T10:00:00Z"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Add([]byte(`{"revocations":[{"subject":"a","not-before":"x"}]} {}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseRevocationList(data)
		if err != nil {
			if !errors.Is(err, ErrConfig) || l != nil {
				t.Fatalf("%v, %v", l, err)
			}
			return
		}
		b, err := l.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseRevocationList(b)
		if err != nil {
			t.Fatalf("written back as %s: %v", b, err)
		}
		x, y := l.Revocations(), back.Revocations()
		if len(x) != len(y) {
			t.Fatalf("%d entries written back as %d", len(x), len(y))
		}
		for i := range x {
			if x[i].Subject != y[i].Subject || !x[i].NotBefore.Equal(y[i].NotBefore) {
				t.Fatalf("entry %d: %+v written back as %+v", i, x[i], y[i])
			}
		}
	})
}
