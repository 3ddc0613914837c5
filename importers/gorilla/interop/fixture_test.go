package interop

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession/importers/gorilla"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

var update = flag.Bool("update", false, "rewrite ../testdata/gorilla-cookies.json with cookies the real gorilla makes now")

const fixturePath = "../testdata/gorilla-cookies.json"

// fixtureCase is one cookie of ../testdata/gorilla-cookies.json, which the
// command line tool's tests (root module, no gorilla) read: a cookie the real
// gorilla made, the store's configuration, its timestamp and the values an
// import gives, or the refusal it gives without the application's types.
type fixtureCase struct {
	Name       string         `json:"name"`
	Cookie     string         `json:"cookie"`
	CookieName string         `json:"cookie_name"`
	KeyPairs   [][]string     `json:"key_pairs"` // hex, hash key then block key if any
	Serializer string         `json:"serializer"`
	Timestamp  int64          `json:"timestamp"`
	Values     map[string]any `json:"values,omitempty"`
	Refusal    string         `json:"refusal,omitempty"`
}

func hexPairs(keyPairs ...[]byte) [][]string {
	var out [][]string
	for _, p := range pairs(keyPairs...) {
		pair := []string{hex.EncodeToString(p.Hash)}
		if p.Block != nil {
			pair = append(pair, hex.EncodeToString(p.Block))
		}
		out = append(out, pair)
	}
	return out
}

// makeFixture makes the fixture's cookies with the real gorilla, now.
func makeFixture(t *testing.T) []fixtureCase {
	basic := func(s *sessions.Session) {
		s.Values["user"] = "ada"
		s.Values["visits"] = 41
		s.Values["roles"] = []string{"admin", "ops"}
		s.AddFlash("welcome back")
	}
	rotated := [][]byte{hash2, block32, hash1, block16}
	jsonCodec := securecookie.New(hash1, block32).SetSerializer(securecookie.JSONEncoder{})
	jsonCookie, err := jsonCodec.Encode("app", map[string]any{"user": "ada", "cart": []int{1, 2}, "id": int64(9007199254740993)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []fixtureCase{
		{Name: "signed, gob", Cookie: gorillaSave(t, sessions.NewCookieStore(hash1), "app", basic), KeyPairs: hexPairs(hash1)},
		{Name: "encrypted, an older pair of a rotation", Cookie: gorillaSave(t, sessions.NewCookieStore(hash1, block16), "app", basic), KeyPairs: hexPairs(rotated...)},
		{Name: "JSON serializer", Cookie: jsonCookie, KeyPairs: hexPairs(hash1, block32), Serializer: "json"},
		{Name: "an application type", Cookie: gorillaSave(t, sessions.NewCookieStore(hash1), "app", func(s *sessions.Session) {
			s.Values["user"] = User{Name: "ada"}
		}), KeyPairs: hexPairs(hash1), Refusal: `name not registered for interface: "github.com/cookiesession/cookiesession/importers/gorilla/interop.User"`},
	}
	for i := range cases {
		c := &cases[i]
		c.CookieName = "app"
		if c.Serializer == "" {
			c.Serializer = "gob"
		}
		raw, _ := base64.URLEncoding.DecodeString(c.Cookie)
		c.Timestamp, _ = strconv.ParseInt(strings.SplitN(string(raw), "|", 2)[0], 10, 64)
	}
	return cases
}

// TestFixtureCookies: every cookie of the fixture is what the real gorilla
// reads with the fixture's configuration, and imports with the fixture's
// values (or refusal); -update makes the cookies anew.
func TestFixtureCookies(t *testing.T) {
	if *update {
		cases := makeFixture(t)
		for i := range cases {
			c := &cases[i]
			if c.Refusal != "" {
				continue
			}
			s, err := newImporter(t, fixtureConfig(t, *c)).Open(c.Cookie, time.Unix(c.Timestamp, 0))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(s.Values)
			if err := json.Unmarshal(raw, &c.Values); err != nil {
				t.Fatal(err)
			}
		}
		out, err := json.MarshalIndent(map[string]any{
			"about": "Cookies made by the real github.com/gorilla/sessions v1.4.0 and securecookie v1.1.2 " +
				"(importers/gorilla/interop, go test -run TestFixtureCookies -update), for the tests of the " +
				"command line tool, which has no gorilla to make them.",
			"cases": cases,
		}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fixturePath, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var file struct{ Cases []fixtureCase }
	data, err := os.ReadFile(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) == 0 {
		t.Fatal("no case")
	}
	for _, c := range file.Cases {
		t.Run(c.Name, func(t *testing.T) {
			cfg := fixtureConfig(t, c)
			// The real gorilla, without MaxAge (the cookie ages in the file).
			var keys [][]byte
			for _, p := range cfg.KeyPairs {
				keys = append(keys, p.Hash, p.Block)
			}
			codecs := securecookie.CodecsFromPairs(keys...)
			for _, codec := range codecs {
				codec.(*securecookie.SecureCookie).MaxAge(0)
				if c.Serializer == "json" {
					codec.(*securecookie.SecureCookie).SetSerializer(securecookie.JSONEncoder{})
				}
			}
			got, err := newImporter(t, cfg).Open(c.Cookie, time.Unix(c.Timestamp+60, 0))
			if c.Serializer == "json" {
				var want map[string]json.RawMessage
				if err := securecookie.DecodeMulti(c.CookieName, c.Cookie, &want, codecs...); err != nil {
					t.Fatalf("gorilla: %v", err)
				}
				if err != nil || len(got.Values) != len(want) {
					t.Fatalf("importer: %v %v", got, err)
				}
				for k, v := range want {
					if !sameJSON(v, got.Values[k]) {
						t.Fatalf("value %q: %s, gorilla %s", k, got.Values[k], v)
					}
				}
			} else {
				var want map[interface{}]interface{}
				if err := securecookie.DecodeMulti(c.CookieName, c.Cookie, &want, codecs...); err != nil {
					t.Fatalf("gorilla: %v", err)
				}
				agree(t, want, nil, got, err)
			}
			if c.Refusal != "" {
				return // this program has the type registered; the tool has not
			}
			raw, _ := json.Marshal(got.Values)
			var values map[string]any
			_ = json.Unmarshal(raw, &values)
			if !reflect.DeepEqual(values, c.Values) {
				t.Fatalf("values %v, the file says %v", values, c.Values)
			}
		})
	}
}

func fixtureConfig(t *testing.T, c fixtureCase) gorilla.Config {
	cfg := gorilla.Config{Name: c.CookieName}
	if c.Serializer == "json" {
		cfg.Serializer = gorilla.JSON
	}
	for _, p := range c.KeyPairs {
		var pair gorilla.KeyPair
		var err error
		if pair.Hash, err = hex.DecodeString(p[0]); err != nil {
			t.Fatal(err)
		}
		if len(p) > 1 {
			if pair.Block, err = hex.DecodeString(p[1]); err != nil {
				t.Fatal(err)
			}
		}
		cfg.KeyPairs = append(cfg.KeyPairs, pair)
	}
	return cfg
}
