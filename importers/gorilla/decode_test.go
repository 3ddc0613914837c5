package gorilla

import (
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/importers/gorilla/internal/forge"
)

func TestDecodeValues(t *testing.T) {
	since := time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)
	values := map[interface{}]interface{}{
		"user":   fxUser{Name: "ada", Roles: []string{"admin"}, Since: since},
		"visits": 41,
		"big":    int64(1) << 60,
		"ratio":  0.25,
		"ok":     true,
		"token":  []byte{0, 1, 2, 0xff},
		"_flash": []interface{}{"saved", "welcome back"},
		"empty":  "",
	}
	want := map[string]string{
		"user":   `{"Name":"ada","Roles":["admin"],"Since":"2024-03-01T09:30:00Z"}`,
		"visits": `41`,
		"big":    `1152921504606846976`,
		"ratio":  `0.25`,
		"ok":     `true`,
		"token":  `"AAEC/w=="`,
		"_flash": `["saved","welcome back"]`,
		"empty":  `""`,
	}
	saved := fxNow.Add(-time.Hour)
	for _, tc := range []struct {
		name  string
		block []byte
	}{{"signed", nil}, {"AES-128", fxBlock2}, {"AES-192", fxBlock3}, {"AES-256", fxBlock1}} {
		t.Run(tc.name, func(t *testing.T) {
			d := fxImporter(t, Config{KeyPairs: []KeyPair{{Hash: fxHash1, Block: tc.block}}})
			s, err := d.Open(encodeCookie("gsess", unix(saved), fxHash1, tc.block, gobSession(t, values)), fxNow)
			checkErr(t, err, nil)
			checkValues(t, s.Values, want)
			if !s.IssuedAt.Equal(saved) || !s.Expiry.Equal(saved.Add(DefaultMaxAge+time.Second)) {
				t.Fatalf("IssuedAt %v Expiry %v", s.IssuedAt, s.Expiry)
			}
			// The values read back into the application's type.
			var u fxUser
			if err := json.Unmarshal(s.Values["user"], &u); err != nil || u.Name != "ada" || !u.Since.Equal(since) {
				t.Fatalf("user: %+v, %v", u, err)
			}
		})
	}
}

func checkValues(t *testing.T, got map[string]json.RawMessage, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d values, want %d: %s", len(got), len(want), got)
	}
	for k, w := range want {
		if string(got[k]) != w {
			t.Fatalf("value %q = %s, want %s", k, got[k], w)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	d := fxImporter(t, Config{Serializer: JSON, KeyPairs: []KeyPair{{Hash: fxHash1, Block: fxBlock1}}})
	// JSONEncoder.Serialize ends with a newline; numbers keep their digits.
	plain := []byte(`{"user":{"name":"ada","id":9007199254740993},"n":1.50,"s":"<a>"}` + "\n")
	s, err := d.Open(encodeCookie("gsess", unix(fxNow), fxHash1, fxBlock1, plain), fxNow)
	checkErr(t, err, nil)
	checkValues(t, s.Values, map[string]string{
		"user": `{"id":9007199254740993,"name":"ada"}`,
		"n":    `1.50`,
		"s":    `"\u003ca\u003e"`,
	})

	// null is an empty session, as json.Decode leaves the map alone.
	s, err = d.Open(encodeCookie("gsess", unix(fxNow), fxHash1, fxBlock1, []byte("null\n")), fxNow)
	checkErr(t, err, nil)
	if s.Values == nil || len(s.Values) != 0 {
		t.Fatalf("values %v", s.Values)
	}
	for plain, want := range map[string]error{
		`["a"]`:    cookiesession.ErrInvalid,
		`"s"`:      cookiesession.ErrInvalid,
		`{"a":`:    cookiesession.ErrInvalid,
		``:         cookiesession.ErrInvalid,
		`{"a":1}x`: nil, // a json.Decoder reads the first value only, as gorilla's does
	} {
		_, err := d.Open(encodeCookie("gsess", unix(fxNow), fxHash1, fxBlock1, []byte(plain)), fxNow)
		checkErr(t, err, want)
	}
}

func TestDecodeRefusals(t *testing.T) {
	gs := gobSession(t, map[interface{}]interface{}{"user": "ada"})
	now := unix(fxNow)
	good := encodeCookie("gsess", now, fxHash1, fxBlock1, gs)
	raw, _ := base64.URLEncoding.DecodeString(good)
	reencode := func(f func(b []byte) []byte) string {
		return base64.URLEncoding.EncodeToString(f(append([]byte(nil), raw...)))
	}
	flip := func(i int) string {
		return reencode(func(b []byte) []byte {
			if i < 0 {
				i += len(b)
			}
			b[i] ^= 1
			return b
		})
	}
	bar1 := strings.IndexByte(string(raw), '|')
	for _, tc := range []struct {
		name  string
		value string
		want  error
	}{
		{"good", good, nil},
		{"empty", "", cookiesession.ErrInvalid},
		{"not base64", good[:len(good)-1] + "!", cookiesession.ErrInvalid},
		{"unpadded", base64.RawURLEncoding.EncodeToString(append(raw, 'x')), cookiesession.ErrInvalid},
		{"padding added", good + "====", cookiesession.ErrInvalid},
		{"standard alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(good), cookiesession.ErrInvalid},
		{"no separators", base64.URLEncoding.EncodeToString([]byte("abc")), cookiesession.ErrInvalid},
		{"one separator", base64.URLEncoding.EncodeToString([]byte("1|abc")), cookiesession.ErrInvalid},
		{"date tampered", flip(0), cookiesession.ErrInvalid},
		{"value tampered", flip(bar1 + 3), cookiesession.ErrInvalid},
		{"mac tampered", flip(-1), cookiesession.ErrInvalid},
		{"mac truncated", reencode(func(b []byte) []byte { return b[:len(b)-1] }), cookiesession.ErrInvalid},
		{"mac extended", reencode(func(b []byte) []byte { return append(b, 0) }), cookiesession.ErrInvalid},
		{"other name", encodeCookie("other", now, fxHash1, fxBlock1, gs), cookiesession.ErrInvalid},
		{"other hash key", encodeCookie("gsess", now, fxHash2, fxBlock1, gs), cookiesession.ErrInvalid},
		{"other block key", encodeCookie("gsess", now, fxHash1, fxBlock2, gs), cookiesession.ErrInvalid},
		{"not encrypted", encodeCookie("gsess", now, fxHash1, nil, gs), cookiesession.ErrInvalid},
		{"IV only", encodeCookie("gsess", now, fxHash1, nil, fxIV), cookiesession.ErrInvalid},
		{"date not a number", encodeCookie("gsess", "12ab", fxHash1, fxBlock1, gs), cookiesession.ErrInvalid},
		{"date empty", encodeCookie("gsess", "", fxHash1, fxBlock1, gs), cookiesession.ErrInvalid},
		{"date overflows", encodeCookie("gsess", "99999999999999999999", fxHash1, fxBlock1, gs), cookiesession.ErrInvalid},
		{"date with a sign", encodeCookie("gsess", "+"+now, fxHash1, fxBlock1, gs), nil}, // strconv.ParseInt takes it, as gorilla does
		{"date with zeros", encodeCookie("gsess", "000"+now, fxHash1, fxBlock1, gs), nil},
		{"date far ahead", encodeCookie("gsess", "9000000000", fxHash1, fxBlock1, gs), nil}, // gorilla sets no MinAge
		{"expired by a second", encodeCookie("gsess", unix(fxNow.Add(-DefaultMaxAge-time.Second)), fxHash1, fxBlock1, gs), cookiesession.ErrExpired},
		{"exactly MaxAge old", encodeCookie("gsess", unix(fxNow.Add(-DefaultMaxAge)), fxHash1, fxBlock1, gs), nil},
		{"inner value not base64", reencode(func(b []byte) []byte {
			return []byte(strings.Replace(string(b), "|", "|!", 1))
		}), cookiesession.ErrInvalid}, // tampering, caught by the MAC first
		{"garbage under a valid MAC", encodeCookie("gsess", now, fxHash1, fxBlock1, []byte("not gob")), cookiesession.ErrInvalid},
		{"gob of another type", encodeCookie("gsess", now, fxHash1, fxBlock1, gobValue(t, []string{"a"})), cookiesession.ErrInvalid},
		{"unregistered type", encodeCookie("gsess", now, fxHash1, fxBlock1, unregisteredGob(t)), cookiesession.ErrInvalid},
		{"over MaxLength", strings.Repeat("A", 4097), cookiesession.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := fxImporter(t, Config{KeyPairs: []KeyPair{{Hash: fxHash1, Block: fxBlock1}}})
			s, err := d.Open(tc.value, fxNow)
			checkErr(t, err, tc.want)
			if err == nil && string(s.Values["user"]) != `"ada"` {
				t.Fatalf("values %s", s.Values)
			}
		})
	}
}

// unregisteredGob is a session holding a type registered under a name this
// program does not know, as a gorilla application's own type is before
// gob.Register runs.
func unregisteredGob(t testing.TB) []byte {
	// A gob stream names an interface value's concrete type; rename the
	// fixture's type in the encoded bytes (same length) to one nobody
	// registered.
	b := gobSession(t, map[interface{}]interface{}{"u": fxUser{Name: "x"}})
	name := "github.com/cookiesession/cookiesession/importers/gorilla.fxUser"
	return []byte(strings.Replace(string(b), name, strings.Replace(name, "fxUser", "fxUseR", 1), 1))
}

// gobValue is the gob of any value: a stream gorilla/sessions never writes.
func gobValue(t testing.TB, v any) []byte {
	t.Helper()
	b, err := forge.Gob(v)
	if err != nil {
		t.Fatalf("gob: %v", err)
	}
	return b
}

func TestDecodeKeyPairs(t *testing.T) {
	gs := gobSession(t, map[interface{}]interface{}{"user": "ada"})
	now := unix(fxNow)
	old := unix(fxNow.Add(-DefaultMaxAge - time.Second))
	// NewCookieStore(new hash, new block, old hash, old block, older hash):
	// the last pair has no block key.
	pairs := []KeyPair{{Hash: fxHash1, Block: fxBlock1}, {Hash: fxHash2, Block: fxBlock2}, {Hash: fxHash1}}
	d := fxImporter(t, Config{KeyPairs: pairs})
	for _, tc := range []struct {
		name  string
		value string
		pair  int
		want  error
	}{
		{"first pair", encodeCookie("gsess", now, fxHash1, fxBlock1, gs), 0, nil},
		{"second pair", encodeCookie("gsess", now, fxHash2, fxBlock2, gs), 1, nil},
		// The first pair authenticates it but does not decrypt it to a
		// session: gorilla moves on, and so does the decoder.
		{"third pair, same hash key as the first", encodeCookie("gsess", now, fxHash1, nil, gs), 2, nil},
		{"hash key of one pair, block key of another", encodeCookie("gsess", now, fxHash2, fxBlock1, gs), 0, cookiesession.ErrInvalid},
		// Past MaxAge under the first pair that authenticates it: expired,
		// whatever the other pairs say.
		{"expired", encodeCookie("gsess", old, fxHash2, fxBlock2, gs), 0, cookiesession.ErrExpired},
		{"no pair", encodeCookie("gsess", now, []byte("another hash key"), nil, gs), 0, cookiesession.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := d.Open(tc.value, fxNow)
			checkErr(t, err, tc.want)
			if err != nil {
				return
			}
			if _, _, pair, _ := d.decode(tc.value, fxNow); pair != tc.pair || string(s.Values["user"]) != `"ada"` {
				t.Fatalf("pair %d values %s", pair, s.Values)
			}
		})
	}
	// A forged MAC under no key gives the one opaque error.
	_, err := d.Open(encodeCookie("gsess", now, []byte("x"), nil, gs), fxNow)
	if err != errAuth {
		t.Fatalf("err = %v, want the opaque authentication error", err)
	}
}

func TestDecodeMaxAge(t *testing.T) {
	gs := gobSession(t, map[interface{}]interface{}{"n": 1})
	for _, tc := range []struct {
		maxAge time.Duration
		age    time.Duration
		want   error
		expiry time.Duration // from the save; 0: none
	}{
		{time.Hour, time.Hour, nil, time.Hour + time.Second},
		{time.Hour, time.Hour + time.Second, cookiesession.ErrExpired, 0},
		{time.Hour, -time.Hour, nil, time.Hour + time.Second}, // ahead: no MinAge
		{-1, 50 * 365 * 24 * time.Hour, nil, 0},               // store.MaxAge(0): no check
		{0, DefaultMaxAge, nil, DefaultMaxAge + time.Second},
		{0, DefaultMaxAge + time.Second, cookiesession.ErrExpired, 0},
	} {
		t.Run(fmt.Sprint(tc.maxAge, tc.age), func(t *testing.T) {
			d := fxImporter(t, Config{MaxAge: tc.maxAge})
			saved := fxNow.Add(-tc.age)
			s, err := d.Open(encodeCookie("gsess", unix(saved), fxHash1, nil, gs), fxNow)
			checkErr(t, err, tc.want)
			if err != nil {
				return
			}
			want := time.Time{}
			if tc.expiry != 0 {
				want = saved.Add(tc.expiry)
			}
			issued := saved // never after now
			if saved.After(fxNow) {
				issued = fxNow
			}
			if !s.IssuedAt.Equal(issued) || !s.Expiry.Equal(want) {
				t.Fatalf("IssuedAt %v Expiry %v, want %v and %v", s.IssuedAt, s.Expiry, issued, want)
			}
		})
	}
	// A date near the end of int64 does not wrap the expiry around.
	s, err := fxImporter(t, Config{}).Open(encodeCookie("gsess", fmt.Sprint(int64(math.MaxInt64)), fxHash1, nil, gs), fxNow)
	checkErr(t, err, nil)
	if s.Expiry.Before(fxNow) {
		t.Fatalf("expiry %v", s.Expiry)
	}
}

func TestDecodeUnusable(t *testing.T) {
	type key int
	gob.Register(key(0))
	gob.Register(map[interface{}]interface{}{})
	for name, values := range map[string]map[interface{}]interface{}{
		"int key":        {"user": "ada", 7: "seven"},
		"typed key":      {key(1): "x"},
		"NaN":            {"ratio": math.NaN()},
		"infinity":       {"ratio": math.Inf(1)},
		"interface map":  {"nested": map[interface{}]interface{}{"a": 1}},
		"complex number": {"z": complex(1, 2)},
	} {
		t.Run(name, func(t *testing.T) {
			d := fxImporter(t, Config{})
			_, err := d.Open(encodeCookie("gsess", unix(fxNow), fxHash1, nil, gobSession(t, values)), fxNow)
			checkErr(t, err, cookiesession.ErrInvalid)
			if strings.Contains(err.Error(), "ada") || strings.Contains(err.Error(), "seven") {
				t.Fatalf("error shows a value: %v", err)
			}
		})
	}
}

func TestNewRefusesMisconfiguration(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no name":            {KeyPairs: []KeyPair{{Hash: fxHash1}}},
		"no key pair":        {Name: "s"},
		"empty hash key":     {Name: "s", KeyPairs: []KeyPair{{Hash: fxHash1}, {Hash: []byte{}}}},
		"block key of 31":    {Name: "s", KeyPairs: []KeyPair{{Hash: fxHash1, Block: fxBlock1[:31]}}},
		"empty block key":    {Name: "s", KeyPairs: []KeyPair{{Hash: fxHash1, Block: []byte{}}}},
		"MaxAge in ms":       {Name: "s", KeyPairs: []KeyPair{{Hash: fxHash1}}, MaxAge: 1500 * time.Millisecond},
		"unknown serializer": {Name: "s", KeyPairs: []KeyPair{{Hash: fxHash1}}, Serializer: 2},
		"negative length":    {Name: "s", KeyPairs: []KeyPair{{Hash: fxHash1}}, MaxLength: -1},
	} {
		t.Run(name, func(t *testing.T) {
			d, err := New(cfg)
			checkErr(t, err, cookiesession.ErrConfig)
			if d != nil {
				t.Fatal("a decoder with an error")
			}
		})
	}
}

func TestImporterPrintsNoKey(t *testing.T) {
	d := fxImporter(t, Config{KeyPairs: []KeyPair{{Hash: fxHash1, Block: fxBlock1}, {Hash: fxHash2}}})
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		noKeys(t, fmt.Sprintf(verb, d))
		noKeys(t, fmt.Sprintf(verb, *d))
	}
}

func TestMaxLength(t *testing.T) {
	gs := gobSession(t, map[interface{}]interface{}{"pad": strings.Repeat("x", 5000)})
	value := encodeCookie("gsess", unix(fxNow), fxHash1, nil, gs)
	_, err := fxImporter(t, Config{}).Open(value, fxNow)
	checkErr(t, err, cookiesession.ErrInvalid)
	_, err = fxImporter(t, Config{MaxLength: len(value)}).Open(value, fxNow)
	checkErr(t, err, nil)
}

// TestImportPicksGorillasCookie: Import reads the cookie gorilla reads (the
// first of its name that net/http accepts) and names it for expiry.
func TestImportPicksGorillasCookie(t *testing.T) {
	d := fxImporter(t, Config{})
	if d.Source() != "gorilla" {
		t.Fatalf("Source %q", d.Source())
	}
	good := encodeCookie("gsess", unix(fxNow), fxHash1, nil, gobSession(t, map[interface{}]interface{}{"user": "ada"}))
	other := encodeCookie("gsess", unix(fxNow), fxHash2, nil, gobSession(t, map[interface{}]interface{}{"user": "eve"}))
	for _, tc := range []struct {
		name   string
		header string
		want   error
		user   string
	}{
		{"alone", "a=1; gsess=" + good + "; b=2", nil, `"ada"`},
		{"quoted", `gsess="` + good + `"`, nil, `"ada"`},
		{"the first of two", "gsess=" + good + "; gsess=" + other, nil, `"ada"`},
		{"the first is refused", "gsess=" + other + "; gsess=" + good, cookiesession.ErrInvalid, ""},
		{"one net/http skips first", `gsess=x\y; gsess=` + good, nil, `"ada"`},
		{"expired", "gsess=" + encodeCookie("gsess", unix(fxNow.Add(-DefaultMaxAge-time.Second)), fxHash1, nil, gobSession(t, map[interface{}]interface{}{})), cookiesession.ErrExpired, ""},
		{"none", "a=1; gsess.1=" + good, nil, ""},
		{"only skipped ones", `gsess=a"b`, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := d.Import(cookiesession.CookieLookup("", tc.header), fxNow)
			checkErr(t, err, tc.want)
			switch {
			case err != nil:
				if s != nil {
					t.Fatal("a session with an error")
				}
			case tc.user == "":
				if s != nil {
					t.Fatalf("imported %v", s.Values)
				}
			case string(s.Values["user"]) != tc.user || len(s.Cookies) != 1 || s.Cookies[0] != "gsess":
				t.Fatalf("values %s cookies %v", s.Values, s.Cookies)
			}
		})
	}
}
