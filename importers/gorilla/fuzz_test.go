package gorilla

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/cookiesession/cookiesession"
)

// fuzzImporters read cookies under fxHash1 (signed), fxHash2 + fxBlock1
// (encrypted), gob and JSON.
func fuzzImporters(t testing.TB) []*Importer {
	pairs := []KeyPair{{Hash: fxHash2, Block: fxBlock1}, {Hash: fxHash1}}
	return []*Importer{
		fxImporter(t, Config{KeyPairs: pairs}),
		fxImporter(t, Config{KeyPairs: pairs, Serializer: JSON}),
		fxImporter(t, Config{KeyPairs: pairs, MaxAge: -1}),
	}
}

// checkFuzzResult fails unless err is nil or matches exactly one sentinel
// with no key in its text, and a session's values are valid JSON.
func checkFuzzResult(t *testing.T, s *cookiesession.Imported, err error) {
	t.Helper()
	if err != nil {
		n := 0
		for _, e := range fxSentinels {
			if errors.Is(err, e) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("error %q matches %d sentinels", err, n)
		}
		noKeys(t, err.Error())
		return
	}
	if s.Values == nil {
		t.Fatal("nil values")
	}
	for k, v := range s.Values {
		if !json.Valid(v) {
			t.Fatalf("value %q is not JSON: %q", k, v)
		}
	}
}

func fuzzSeeds(t testing.TB) [][]byte {
	return [][]byte{
		gobSession(t, map[interface{}]interface{}{"user": fxUser{Name: "ada"}, "n": 1, "_flash": []interface{}{"hi"}}),
		gobSession(t, map[interface{}]interface{}{}),
		gobSession(t, map[interface{}]interface{}{"f": 1.5, "b": []byte("x"), "s": []string{"a"}}),
		[]byte(`{"a":1,"b":{"c":[true,null]}}` + "\n"),
		[]byte("null"),
	}
}

// FuzzDecode feeds hostile cookie values: never a panic, only documented
// errors.
func FuzzDecode(f *testing.F) {
	ds := fuzzImporters(f)
	for _, plain := range fuzzSeeds(f) {
		f.Add(encodeCookie("gsess", unix(fxNow), fxHash1, nil, plain))
		f.Add(encodeCookie("gsess", unix(fxNow), fxHash2, fxBlock1, plain))
	}
	f.Add("")
	f.Add("MTIzfGFiY3w=")
	f.Fuzz(func(t *testing.T, value string) {
		for _, d := range ds {
			s, err := d.Open(value, fxNow)
			checkFuzzResult(t, s, err)
		}
	})
}

// FuzzDecodeAuthenticated feeds hostile serialized sessions and dates under
// a valid MAC, which hostile cookies cannot reach: the gob and JSON
// decoders and the conversion to JSON never panic and give only documented
// errors.
func FuzzDecodeAuthenticated(f *testing.F) {
	ds := fuzzImporters(f)
	for _, plain := range fuzzSeeds(f) {
		f.Add(unix(fxNow), plain, false)
		f.Add(unix(fxNow.Add(-DefaultMaxAge)), plain, true)
	}
	f.Add("-9223372036854775808", []byte{}, true)
	f.Fuzz(func(t *testing.T, ts string, plain []byte, encrypted bool) {
		value := encodeCookie("gsess", ts, fxHash1, nil, plain)
		if encrypted {
			value = encodeCookie("gsess", ts, fxHash2, fxBlock1, plain)
		}
		for _, d := range ds {
			s, err := d.Open(value, fxNow)
			checkFuzzResult(t, s, err)
			if err == nil && (s.Expiry.Before(s.IssuedAt) && !s.Expiry.IsZero() || s.IssuedAt.After(fxNow)) {
				t.Fatalf("issued at %v, expiry %v, now %v", s.IssuedAt, s.Expiry, fxNow)
			}
		}
	})
}
