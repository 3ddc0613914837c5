package cookiesession

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The fast paths added for speed must agree with what they replace: the
// scanner with encoding/json, chunkCookies with CookieLookup, the Session
// shortcuts with encoding/json, badChar with a byte-by-byte loop.

var jsonSeeds = []string{
	`0`, `-0`, `1`, `-12.5e+3`, `1E5`, `01`, `1.`, `.5`, `-`, `1e`, `+1`, `1.5e-`,
	`""`, `"a"`, `"\u00e9\n\"\\\/\b\f\r\t"`, `"\u12"`, `"\x"`, "\"\x01\"", `"unterminated`, `"\`,
	"\"\xff\xfe\"", `true`, `false`, `null`, `tru`, `nul`, `True`,
	`[]`, `[1,2]`, `[1,]`, `[,1]`, `[ 1 , "a" , [ ] , { } ]`, `[1 2]`,
	`{}`, `{"a":1}`, `{"a":1,}`, `{,"a":1}`, `{"a" : [ {"b":null} ] , "c":"d"}`, `{"a"}`, `{a:1}`, `{"a":1 "b":2}`,
	`{"cart":[{"sku":"SKU-00001-x","qty":1,"price":12.5}],"n":-3}`,
}

// TestSkipValueMatchesEncodingJSON feeds the scanner and json.Valid the same
// inputs: they must agree on every one.
func TestSkipValueMatchesEncodingJSON(t *testing.T) {
	for _, in := range jsonSeeds {
		checkSkipValue(t, []byte(in))
		checkSkipValue(t, []byte(in+` `))
	}
	// MaxNesting arrays and objects one inside another, and one more.
	for _, inner := range []string{"", "1", `"x"`, "{}", "[]"} {
		for _, open := range []string{"[", `{"a":`, `[{"a":`} {
			for _, n := range []int{MaxNesting - 2, MaxNesting - 1, MaxNesting, MaxNesting + 1, MaxNesting + 2} {
				in := []byte(nest(open, inner, n))
				checkSkipValue(t, in)
				if json.Valid(in) && jsonNesting(in) == MaxNesting {
					if _, ok := skipValue(in, 0, 0); !ok {
						t.Errorf("%d levels refused: %s", MaxNesting, in)
					}
				}
			}
		}
	}
}

// nest wraps inner in n repetitions of open, an opening such as "[" or
// `{"a":`, each closed.
func nest(open, inner string, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(open)
	}
	b.WriteString(inner)
	for i := n - 1; i >= 0; i-- {
		for j := len(open) - 1; j >= 0; j-- {
			switch open[j] {
			case '[':
				b.WriteByte(']')
			case '{':
				b.WriteByte('}')
			}
		}
	}
	return b.String()
}

// jsonNesting returns the most arrays and objects open at once in the JSON
// in, as encoding/json's tokenizer counts them: the oracle for MaxNesting.
func jsonNesting(in []byte) int {
	d := json.NewDecoder(bytes.NewReader(in))
	depth, most := 0, 0
	for {
		tok, err := d.Token()
		if err != nil {
			return most
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			most = max(most, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

func checkSkipValue(t testing.TB, in []byte) {
	t.Helper()
	end, ok := skipValue(in, 0, 0)
	got := ok && skipSpace(in, end) == len(in)
	want := json.Valid(in) && len(in) > 0 && !isJSONSpace(in[0]) && jsonNesting(in) <= MaxNesting
	if got != want {
		t.Fatalf("skipValue(%q) = %d, %v; json.Valid %v, nesting %d", in, end, ok, json.Valid(in), jsonNesting(in))
	}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func FuzzSkipValue(f *testing.F) {
	for _, in := range jsonSeeds {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkSkipValue(t, in)
	})
}

// TestChunkCookiesMatchesCookieLookup compares the Manager's lookup with
// CookieLookup on every chunk name, for headers with duplicates, quotes,
// stray names and other cookies.
func TestChunkCookiesMatchesCookieLookup(t *testing.T) {
	headers := [][]string{
		nil,
		{""},
		{"s=1"},
		{"s=1; s.1=2; s.2=3"},
		{"a=b; s=1; s=2", "s.1=x"},
		{`s="quoted"; s.8=last; s.9=over; s.10=x; s.x=y; s.=z; ss=no; s1=no`},
		{"s.3=a; s.3=b; s.3=c; s=1"},
		{"  s = spaced ; s.1=ok;;; =v; s"},
		{"s=" + strings.Repeat("v", 5000)},
	}
	for _, h := range headers {
		want := CookieLookup("s", h...)
		jar := chunkCookies{name: "s"}
		jar.add(h)
		for i := range MaxChunksLimit {
			name := ChunkName("s", i)
			if got, want := jar.lookup(name), want(name); !slices.Equal(got, want) {
				t.Errorf("%q: lookup(%s) = %q, CookieLookup %q", h, name, got, want)
			}
		}
	}
}

// TestSessionShortcuts compares GetInt, GetInt64, GetString and Set with what
// encoding/json makes of the same values.
func TestSessionShortcuts(t *testing.T) {
	raws := []string{
		`0`, `-0`, `7`, `-42`, `123456789012345678`, `1234567890123456789`, `9223372036854775807`,
		`9223372036854775808`, `-9223372036854775808`, `1.0`, `1e3`, `01`, `-`, `""`, `"7"`, `null`, `true`,
		`"plain"`, `"tab\there"`, `"caf\u00e9"`, "\"caf\xc3\xa9\"", "\"bad \xff\"", `"\u0041"`, `"<&>"`, `"a\"b"`,
	}
	for _, raw := range raws {
		var i int
		errInt := json.Unmarshal([]byte(raw), &i)
		if v, ok := plainJSONInt([]byte(raw)); ok && (errInt != nil || int64(i) != v) {
			t.Errorf("plainJSONInt(%s) = %d; encoding/json %d, %v", raw, v, i, errInt)
		}
		var s string
		errStr := json.Unmarshal([]byte(raw), &s)
		if v, ok := plainJSONString([]byte(raw)); ok && (errStr != nil || s != v) {
			t.Errorf("plainJSONString(%s) = %q; encoding/json %q, %v", raw, v, s, errStr)
		}
	}
	values := []any{0, -1, 42, math.MaxInt64, math.MinInt64, int64(-7), true, false, "", "plain", "<script>", "a\"b\\c",
		"caf\u00e9", "bad \xff", "line\u2028sep", "\x00\x1f\x7f", 1.5, nil, []int{1}, map[string]int{"a": 1}}
	for _, v := range values {
		want, errWant := json.Marshal(v)
		got, err := marshalJSON(v)
		if !bytes.Equal(got, want) || (err == nil) != (errWant == nil) {
			t.Errorf("marshalJSON(%#v) = %s, %v; json.Marshal %s, %v", v, got, err, want, errWant)
		}
	}
}

// TestBadChar compares badChar with the plain loop for a bad byte at every
// position of values of every length up to 40.
func TestBadChar(t *testing.T) {
	for n := 0; n <= 40; n++ {
		clean := strings.Repeat("aZ09-_.", 6)[:n]
		if got := badChar(clean); got != -1 {
			t.Fatalf("badChar(%q) = %d", clean, got)
		}
		for pos := 0; pos < n; pos++ {
			for _, c := range []byte{0, ' ', '+', '/', '=', '~', 0x7f, 0x80, 0xff} {
				b := []byte(clean)
				b[pos] = c
				if got := badChar(string(b)); got != pos {
					t.Fatalf("badChar(%q) = %d, want %d", b, got, pos)
				}
			}
		}
	}
	for c := range 256 {
		want := !(isBase64URL(byte(c)) || c == '.')
		if got := badChar(fmt.Sprintf("abcdefgh%c", c)) == 8; got != want && c < 0x80 {
			t.Errorf("byte %#x: bad %v", c, got)
		}
	}
}

// FuzzParsePayload checks the two payload parsers against each other and
// against encoding/json: what parseWritten (the layout this package writes)
// accepts, parseAny (any layout) accepts with the same claims and members;
// whatever parsePayload accepts is a JSON object whose "v" encoding/json
// reads to the same names and values, sorted and each once.
func FuzzParsePayload(f *testing.F) {
	base := `{"sid":"abc","iat":100,"lat":150,"exp":200,"v":{"a":1,"b":"x","c":[true,null]}}`
	for _, s := range []string{
		base,
		`{"sid":"abc","iat":100,"lat":100,"exp":101,"rm":true,"v":{}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"rm":false,"v":{"\u00e9":1,"z":{"y":2}}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"v":{"b":1,"a":2}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"v":{"a":1,"a":2}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"v":{"b":1,"\u0061":2,"a":3}}`,
		` {"v":{"a":1},"exp":200,"lat":150,"iat":100,"sid":"abc"} `,
		`{"sid":"abc","iat":0100,"lat":150,"exp":200,"v":{}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200.0,"v":{}}`,
		`{"sid":"abc","iat":200,"lat":150,"exp":100,"v":{}}`,
		`{"sid":"a/c","iat":100,"lat":150,"exp":200,"v":{}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"v":{}}x`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"rm":truee,"v":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = slices.Clip(data)
		var fp, ap, p Payload
		fms, fok := parseWritten(data, &fp)
		ams, aerr := parseAny(data, &ap)
		ms, err := parsePayload(data, &p)
		if fok {
			if aerr != nil {
				t.Fatalf("parseWritten accepts what parseAny refuses (%v): %q", aerr, data)
			}
			sameClaims := fp.ID == ap.ID && fp.IssuedAt.Equal(ap.IssuedAt) && fp.LastActivity.Equal(ap.LastActivity) &&
				fp.Expiry.Equal(ap.Expiry) && fp.RememberMe == ap.RememberMe
			if !sameClaims || !slices.EqualFunc(fms, ams, func(x, y member) bool { return x.name == y.name && bytes.Equal(x.value, y.value) }) {
				t.Fatalf("parsers disagree on %q:\n%+v %q\n%+v %q", data, fp, fms, ap, ams)
			}
		}
		if (err == nil) != (fok || aerr == nil) {
			t.Fatalf("parsePayload: %v, parseWritten %v, parseAny %v", err, fok, aerr)
		}
		if err != nil {
			return
		}
		if p.Values != nil {
			t.Fatal("parsePayload filled Values")
		}
		var doc struct {
			V map[string]json.RawMessage `json:"v"`
		}
		if e := json.Unmarshal(data, &doc); e != nil {
			t.Fatalf("accepted what encoding/json refuses (%v): %q", e, data)
		}
		if len(doc.V) != len(ms) {
			t.Fatalf("%d members, encoding/json reads %d: %q", len(ms), len(doc.V), data)
		}
		for i, m := range ms {
			if i > 0 && ms[i-1].name >= m.name {
				t.Fatalf("members not sorted or repeated: %q", ms)
			}
			if want, ok := doc.V[m.name]; !ok || !bytes.Equal(bytes.TrimSpace(want), m.value) {
				t.Fatalf("member %q = %s, encoding/json reads %s", m.name, m.value, want)
			}
		}
		if !(p.IssuedAt.Unix() <= p.LastActivity.Unix() && p.LastActivity.Unix() < p.Expiry.Unix()) || !validSID(p.ID) {
			t.Fatalf("claims out of rule: %+v", p)
		}
		// What was read writes back to bytes that read the same.
		out := writePayload(nil, &p, ms)
		var q Payload
		qms, qerr := parsePayload(out, &q)
		if qerr != nil || q.ID != p.ID || !slices.EqualFunc(qms, ms, func(x, y member) bool { return x.name == y.name && bytes.Equal(x.value, y.value) }) {
			t.Fatalf("written back %q: %v", out, qerr)
		}
	})
}

// TestAppendInt compares appendInt with strconv.AppendInt.
func TestAppendInt(t *testing.T) {
	for _, n := range []int64{0, 1, 9, 10, 99, 100, 1764160000, 1<<53 + 1, math.MaxInt64, -1, -10, math.MinInt64} {
		if got, want := string(appendInt([]byte("x"), n)), "x"+strconv.FormatInt(n, 10); got != want {
			t.Errorf("appendInt(%d) = %q, want %q", n, got, want)
		}
	}
}
