package interop

import (
	"encoding/gob"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/importers/gorilla"
	"github.com/cookiesession/cookiesession/importers/gorilla/internal/forge"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// fillLoggedIn is a logged-in user's session, with every kind of value a
// gorilla application keeps: its registered types (a value and a pointer),
// Go's basic ones, a time and a flash message.
func fillLoggedIn(s *sessions.Session) {
	s.Values["user"] = User{Name: "ada", Roles: []string{"admin", "ops"}, Since: time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)}
	s.Values["prefs"] = &Prefs{Theme: "dark", Size: 14}
	s.Values["visits"] = 41
	s.Values["id"] = int64(1) << 60
	s.Values["ratio"] = 0.25
	s.Values["admin"] = true
	s.Values["csrf"] = []byte{0, 1, 2, 0xfe, 0xff}
	s.Values["tags"] = []string{"a", "b"}
	s.Values["login"] = time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	s.Values["greeting"] = "héllo <world> & \"you\""
	s.AddFlash("saved")
}

// TestRealCookiesImport: every cookie the real CookieStore writes, signed or
// encrypted with each AES size, under the current pair or an older one of a
// rotation, opens with the values gorilla reads from it.
func TestRealCookiesImport(t *testing.T) {
	for _, tc := range []struct {
		name    string
		writer  [][]byte // the pairs of the store that wrote the cookie
		readers [][]byte // the pairs of the store that reads it
	}{
		{"signed", [][]byte{hash1}, [][]byte{hash1}},
		{"AES-128", [][]byte{hash1, block16}, [][]byte{hash1, block16}},
		{"AES-192", [][]byte{hash1, block24}, [][]byte{hash1, block24}},
		{"AES-256", [][]byte{hash1, block32}, [][]byte{hash1, block32}},
		{"rotated: new pair", [][]byte{hash2, block32}, [][]byte{hash2, block32, hash1, block16}},
		{"rotated: old pair", [][]byte{hash1, block16}, [][]byte{hash2, block32, hash1, block16}},
		{"rotated: old signed pair", [][]byte{hash1}, [][]byte{hash2, block32, hash1}},
		{"block key rotated, hash key kept", [][]byte{hash1, block16}, [][]byte{hash1, block32, hash1, block16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			value := gorillaSave(t, sessions.NewCookieStore(tc.writer...), "app", fillLoggedIn)
			reader := sessions.NewCookieStore(tc.readers...)
			im := newImporter(t, gorilla.Config{Name: "app", KeyPairs: pairs(tc.readers...)})
			if !agreeGob(t, reader, im, "app", value) {
				t.Fatal("the cookie did not open")
			}
			s, err := im.Open(value, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			// The application reads its types back from the JSON.
			var u User
			if err := json.Unmarshal(s.Values["user"], &u); err != nil || u.Name != "ada" || len(u.Roles) != 2 {
				t.Fatalf("user %+v, %v", u, err)
			}
			if got := string(s.Values["_flash"]); got != `["saved"]` {
				t.Fatalf("flashes %s", got)
			}
			// Saved is gorilla's stamp: within the test's run.
			if d := time.Since(s.IssuedAt); d < 0 || d > time.Minute {
				t.Fatalf("saved %v", s.IssuedAt)
			}
			if !s.Expiry.Equal(s.IssuedAt.Add(gorilla.DefaultMaxAge + time.Second)) {
				t.Fatalf("expiry %v, saved %v", s.Expiry, s.IssuedAt)
			}
		})
	}
}

// TestRealCookiesRefused: what the real CookieStore refuses, the importer
// refuses: another store's keys, another cookie name, every one-character
// change and truncation of a real cookie.
func TestRealCookiesRefused(t *testing.T) {
	store := sessions.NewCookieStore(hash1, block32)
	im := newImporter(t, gorilla.Config{Name: "app", KeyPairs: pairs(hash1, block32)})
	for name, value := range map[string]string{
		"another hash key":  gorillaSave(t, sessions.NewCookieStore(hash2, block32), "app", fillLoggedIn),
		"another block key": gorillaSave(t, sessions.NewCookieStore(hash1, block16), "app", fillLoggedIn),
		"not encrypted":     gorillaSave(t, sessions.NewCookieStore(hash1), "app", fillLoggedIn),
		"another name":      gorillaSave(t, store, "other", fillLoggedIn),
		"empty":             "",
		"not base64":        "%%%%",
		"over 4096 bytes":   strings.Repeat("QUFB", 1025),
	} {
		t.Run(name, func(t *testing.T) {
			if agreeGob(t, store, im, "app", value) {
				t.Fatal("opened")
			}
		})
	}

	value := gorillaSave(t, store, "app", fillLoggedIn)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="
	opened := 0
	for i := range len(value) {
		for _, c := range []byte{alphabet[(strings.IndexByte(alphabet, value[i])+1)%len(alphabet)], '='} {
			if c == value[i] {
				continue
			}
			tampered := value[:i] + string(c) + value[i+1:]
			if agreeGob(t, store, im, "app", tampered) {
				opened++ // a change in the last character's unused bits
			}
		}
		agreeGob(t, store, im, "app", value[:i])
	}
	if opened > 2 {
		t.Fatalf("%d one-character changes opened", opened)
	}
}

// TestRealExpiry: a real cookie under a store's MaxAge opens until exactly
// MaxAge after its save and is expired from the next second; the importer
// judges dates around the boundary as the real securecookie does.
func TestRealExpiry(t *testing.T) {
	store := sessions.NewCookieStore(hash1, block32)
	store.MaxAge(3600)
	value := gorillaSave(t, store, "app", fillLoggedIn)
	im := newImporter(t, gorilla.Config{Name: "app", KeyPairs: pairs(hash1, block32), MaxAge: time.Hour})
	s, err := im.Open(value, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Open(value, s.IssuedAt.Add(time.Hour)); err != nil {
		t.Fatalf("exactly MaxAge old: %v", err)
	}
	if _, err := im.Open(value, s.IssuedAt.Add(time.Hour+time.Second)); !errors.Is(err, cookiesession.ErrExpired) {
		t.Fatalf("one second past MaxAge: %v", err)
	}
	if !s.Expiry.Equal(s.IssuedAt.Add(time.Hour + time.Second)) {
		t.Fatalf("expiry %v for a save at %v", s.Expiry, s.IssuedAt)
	}

	// Dates around the boundary, forged with the store's keys, judged by
	// gorilla and the importer at the same second.
	gs := gobBytes(t, map[interface{}]interface{}{"user": "ada"})
	unlimited := sessions.NewCookieStore(hash1, block32)
	unlimited.MaxAge(0)
	imUnlimited := newImporter(t, gorilla.Config{Name: "app", KeyPairs: pairs(hash1, block32), MaxAge: -1})
	for _, date := range []func(now time.Time) string{
		func(now time.Time) string { return unixText(now.Add(-time.Hour - time.Second)) },
		func(now time.Time) string { return unixText(now.Add(-time.Hour)) },
		func(now time.Time) string { return unixText(now.Add(-time.Hour + time.Second)) },
		func(now time.Time) string { return unixText(now.Add(1000 * time.Hour)) },
		func(now time.Time) string { return "+" + unixText(now) },
		func(now time.Time) string { return "00" + unixText(now) },
		func(now time.Time) string { return " " + unixText(now) },
		func(time.Time) string { return "-1" },
		func(time.Time) string { return "0" },
		func(time.Time) string { return "9223372036854775807" },
		func(time.Time) string { return "9223372036854775808" },
		func(time.Time) string { return "" },
		func(time.Time) string { return "12ab" },
	} {
		value := forge.Cookie("app", date(time.Now()), hash1, block32, iv, gs)
		agreeGob(t, store, im, "app", value)
		agreeGob(t, unlimited, imUnlimited, "app", value)
	}
}

// TestRealValuesNotJSON: sessions that gorilla opens but whose keys or
// values have no JSON are refused with ErrInvalid, naming the key's type,
// never a 500 and never a silent loss.
func TestRealValuesNotJSON(t *testing.T) {
	type key int
	gob.Register(key(0))
	gob.Register(map[interface{}]interface{}{})
	store := sessions.NewCookieStore(hash1)
	im := newImporter(t, gorilla.Config{Name: "app", KeyPairs: pairs(hash1)})
	for name, fill := range map[string]func(s *sessions.Session){
		"an int key":          func(s *sessions.Session) { s.Values[1] = "one" },
		"a typed key":         func(s *sessions.Session) { s.Values[key(1)] = "one" },
		"NaN":                 func(s *sessions.Session) { s.Values["ratio"] = math.NaN() },
		"a map of interfaces": func(s *sessions.Session) { s.Values["m"] = map[interface{}]interface{}{"a": 1} },
		"a complex number":    func(s *sessions.Session) { s.Values["z"] = complex(1, 2) },
	} {
		t.Run(name, func(t *testing.T) {
			value := gorillaSave(t, store, "app", fill)
			if _, err := gorillaLoad(store, "app", value); err != nil {
				t.Fatalf("gorilla refuses its own cookie: %v", err)
			}
			if agreeGob(t, store, im, "app", value) {
				t.Fatal("imported")
			}
		})
	}
}

// TestRealJSONSerializer: cookies of securecookie's JSONEncoder, the way
// applications use it (securecookie directly, a map or a struct), open with
// the values gorilla reads; gorilla/sessions itself cannot save a session
// with it, as the package documentation says.
func TestRealJSONSerializer(t *testing.T) {
	type profile struct {
		Name  string  `json:"name"`
		ID    int64   `json:"id"`
		Score float64 `json:"score"`
	}
	codecs := securecookie.CodecsFromPairs(hash2, block32, hash1, block16, hash1)
	for _, c := range codecs {
		c.(*securecookie.SecureCookie).SetSerializer(securecookie.JSONEncoder{})
	}
	old := securecookie.New(hash1, block16).SetSerializer(securecookie.JSONEncoder{})
	signed := securecookie.New(hash1, nil).SetSerializer(securecookie.JSONEncoder{})
	im := newImporter(t, gorilla.Config{Name: "app", Serializer: gorilla.JSON, KeyPairs: pairs(hash2, block32, hash1, block16, hash1)})
	for name, src := range map[string]struct {
		codec securecookie.Codec
		value any
	}{
		"a map, current pair":  {codecs[0], map[string]any{"user": "ada", "n": 3, "cart": []int{1, 2}, "nested": map[string]any{"a": nil}}},
		"a struct, old pair":   {old, profile{Name: "ada", ID: 9007199254740993, Score: 0.5}},
		"a map, signed pair":   {signed, map[string]string{"user": "ada"}},
		"an empty map":         {codecs[0], map[string]any{}},
		"not an object: array": {codecs[0], []string{"a"}},
		"not an object: null":  {codecs[0], nil},
	} {
		t.Run(name, func(t *testing.T) {
			value, err := src.codec.Encode("app", src.value)
			if err != nil {
				t.Fatal(err)
			}
			atOneInstant(t, func(now time.Time) {
				var want map[string]json.RawMessage
				gerr := securecookie.DecodeMulti("app", value, &want, codecs...)
				got, err := im.Open(value, now)
				if (gerr == nil) != (err == nil) {
					t.Fatalf("gorilla: %v; importer: %v", gerr, err)
				}
				if err != nil {
					if !errors.Is(err, cookiesession.ErrInvalid) {
						t.Fatalf("importer: %v", err)
					}
					return
				}
				if len(got.Values) != len(want) {
					t.Fatalf("values %s, gorilla %s", got.Values, want)
				}
				for k, v := range want {
					if !sameJSON(v, got.Values[k]) {
						t.Fatalf("value %q: %s, gorilla %s", k, got.Values[k], v)
					}
				}
			})
		})
	}
	// The big integer keeps its digits (gorilla's float64 would not).
	value, _ := old.Encode("app", profile{ID: 9007199254740993})
	s, err := im.Open(value, time.Now())
	if err != nil || string(s.Values["id"]) != "9007199254740993" {
		t.Fatalf("id %s, %v", s.Values["id"], err)
	}

	store := sessions.NewCookieStore(hash1)
	store.Codecs[0].(*securecookie.SecureCookie).SetSerializer(securecookie.JSONEncoder{})
	r, w := httptestRequest()
	s2, _ := store.Get(r, "app")
	s2.Values["user"] = "ada"
	if err := s2.Save(r, w); err == nil {
		t.Fatal("gorilla/sessions saved a session with JSONEncoder: the package documentation says it cannot")
	}
}
