package django

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// The cookies of testdata/django-cookies.json were made by real Django
// (testdata/make_cookies.py, through its signed_cookies SessionStore and
// signing module), each with what Django's own signing.loads says of it. CI
// makes them afresh with the Django it installs and points DJANGO_COOKIES at
// the new file.

type djangoCase struct {
	Name   string `json:"name"`
	Cookie string `json:"cookie"`
	Config struct {
		SecretKey    string   `json:"secret_key"`
		FallbackKeys []string `json:"fallback_keys"`
		MaxAge       int64    `json:"max_age"`
		LegacySHA1   bool     `json:"legacy_sha1"`
	} `json:"config"`
	Timestamp  int64           `json:"timestamp"`
	At         int64           `json:"at"`
	Expect     string          `json:"expect"`
	Django     string          `json:"django"`
	Compressed bool            `json:"compressed"`
	Values     json.RawMessage `json:"values"`
	Note       *string         `json:"note"`
}

func (c *djangoCase) importer(t testing.TB) *Importer {
	t.Helper()
	imp, err := New(Config{
		SecretKey:    c.Config.SecretKey,
		FallbackKeys: c.Config.FallbackKeys,
		MaxAge:       time.Duration(c.Config.MaxAge) * time.Second,
		LegacySHA1:   c.Config.LegacySHA1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return imp
}

func loadCases(t testing.TB) []djangoCase {
	t.Helper()
	path := os.Getenv("DJANGO_COOKIES")
	if path == "" {
		path = "testdata/django-cookies.json"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Django string       `json:"django"`
		Cases  []djangoCase `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Cases) == 0 || file.Django == "" {
		t.Fatalf("%s: no cases or no Django version", path)
	}
	t.Logf("cookies made by Django %s (%s)", file.Django, path)
	return file.Cases
}

var sentinels = map[string]error{"expired": cookiesession.ErrExpired, "invalid": cookiesession.ErrInvalid}

// jsonEqual reports whether a and b hold the same JSON, numbers compared as
// written (so an integer beyond 2^53 must survive exactly).
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	decode := func(data []byte) any {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}

func TestDjangoCookies(t *testing.T) {
	cases := loadCases(t)
	compressed := 0
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if c.Note == nil && c.Django != c.Expect {
				t.Fatalf("Django says %s, the case expects %s without a note", c.Django, c.Expect)
			}
			got, err := c.importer(t).Open(c.Cookie, time.Unix(c.At, 0))
			if c.Expect != "ok" {
				if !errors.Is(err, sentinels[c.Expect]) || got != nil {
					t.Fatalf("got %v, %v; want an error matching %v", got, err, sentinels[c.Expect])
				}
				checkNoSecret(t, err.Error(), c.Config.SecretKey)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			values, err := json.Marshal(got.Values)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, values, c.Values) {
				t.Errorf("values %s, want %s", values, c.Values)
			}
			wantExp := c.Timestamp + c.Config.MaxAge
			if raw, ok := got.Values["_session_expiry"]; ok {
				var n int64
				json.Unmarshal(raw, &n)
				wantExp = c.Timestamp + n
			}
			if got.IssuedAt.Unix() != c.Timestamp || got.Expiry.Unix() != wantExp {
				t.Errorf("issued %d, expiry %d; want %d, %d", got.IssuedAt.Unix(), got.Expiry.Unix(), c.Timestamp, wantExp)
			}
		})
		if c.Compressed && c.Expect == "ok" {
			compressed++
		}
	}
	if compressed == 0 {
		t.Error("no compressed cookie opened")
	}
}

func checkNoSecret(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(text, s) {
			t.Fatalf("%q shows a secret key", text)
		}
	}
}

// A user logged in to Django reaches the Go service with their Django
// cookie: the Manager imports the session, seals it in its own cookie,
// expires sessionid, and the new cookie ends when Django's would have.
func TestDjangoThroughManager(t *testing.T) {
	var c *djangoCase
	for _, x := range loadCases(t) {
		if x.Name == "store, logged in" {
			c = &x
		}
	}
	if c == nil {
		t.Fatal("no case \"store, logged in\"")
	}
	now := time.Unix(c.At, 0)
	key, err := cookiesession.GenerateKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	var logged []error
	m, err := cookiesession.New(cookiesession.Config{
		Name:      "__Host-session",
		Keys:      ring,
		Lifetime:  30 * 24 * time.Hour, // longer than Django's two weeks
		Now:       func() time.Time { return now },
		ErrorLog:  func(_ *http.Request, err error) { logged = append(logged, err) },
		Importers: []cookiesession.Importer{c.importer(t)},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", "csrftoken=abc; sessionid="+c.Cookie)
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		w.Write([]byte(s.GetString("_auth_user_id") + " " + s.ImportedFrom()))
	})).ServeHTTP(rec, req)
	if rec.Body.String() != "42 django" {
		t.Fatalf("body %q, logged %v", rec.Body.String(), logged)
	}
	lines := rec.Result().Header.Values("Set-Cookie")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "__Host-session=ey") || !strings.HasPrefix(lines[1], "sessionid=; Max-Age=0; Path=/;") {
		t.Fatalf("Set-Cookie %q", lines)
	}
	if len(logged) != 1 || !errors.Is(logged[0], cookiesession.ErrImported) {
		t.Fatalf("logged %v", logged)
	}
	s, err := m.LoadHeader(strings.Split(lines[0], ";")[0])
	if err != nil || s.GetString("_auth_user_id") != "42" || s.ImportedFrom() != "" {
		t.Fatalf("the sealed session: %v, %q", err, s.GetString("_auth_user_id"))
	}
	if end := c.Timestamp + c.Config.MaxAge; s.ExpiresAt().Unix() != end {
		t.Errorf("expires at %d, Django's session at %d", s.ExpiresAt().Unix(), end)
	}
	cart, _ := cookiesession.Get[[]int](s, "cart")
	if !reflect.DeepEqual(cart, []int{1, 2, 3}) || s.GetInt64("big") != 9007199254740993 {
		t.Errorf("cart %v, big %d", cart, s.GetInt64("big"))
	}
}

// Import takes the last cookie of the name, as Django does, and recognises
// nothing without one.
func TestDjangoImportLookup(t *testing.T) {
	c := loadCases(t)[0]
	imp := c.importer(t)
	now := time.Unix(c.At, 0)
	for _, tc := range []struct {
		header string
		want   error
		found  bool
	}{
		{"other=1", nil, false},
		{"sessionid=", nil, false},
		{"sessionid=" + c.Cookie, nil, true},
		{"sessionid=junk; sessionid=" + c.Cookie, nil, true},
		{"sessionid=" + c.Cookie + "; sessionid=junk", cookiesession.ErrInvalid, false},
		{`sessionid="` + c.Cookie + `"`, nil, true},
	} {
		got, err := imp.Import(cookiesession.CookieLookup("", tc.header), now)
		if !errors.Is(err, tc.want) || (got != nil) != tc.found || (tc.want == nil && err != nil) {
			t.Errorf("%.40q: %v, %v", tc.header, got, err)
		}
		if got != nil && !reflect.DeepEqual(got.Cookies, []string{"sessionid"}) {
			t.Errorf("cookies %q", got.Cookies)
		}
	}
}

// Configuration mistakes fail at New; String shows no key.
func TestDjangoConfig(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{SecretKey: "k", MaxAge: time.Millisecond},
		{SecretKey: "k", FallbackKeys: []string{""}},
		{SecretKey: "k", CookieName: "a;b"},
	} {
		if _, err := New(cfg); !errors.Is(err, cookiesession.ErrConfig) {
			t.Errorf("New(%+v): %v", cfg, err)
		}
	}
	imp, err := New(Config{SecretKey: "very-secret-value", FallbackKeys: []string{"older-secret-value"}})
	if err != nil {
		t.Fatal(err)
	}
	checkNoSecret(t, imp.String(), "very-secret-value", "older-secret-value")
	if imp.maxAge != DefaultMaxAge || imp.name != DefaultCookieName {
		t.Errorf("defaults: %v", imp)
	}
}

// A bomb: a zlib stream that inflates past the cap, signed with the key, is
// refused without inflating it all.
func TestDjangoDecompressionCap(t *testing.T) {
	imp, err := New(Config{SecretKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	big := `{"a":"` + strings.Repeat("x", cookiesession.MaxPlaintextBytes) + `"}`
	cookie := sign(t, imp, compress(t, []byte(big)), now)
	if len(cookie) > maxCookieBytes {
		t.Fatalf("bomb of %d bytes does not fit a cookie", len(cookie))
	}
	if _, err := imp.Open(cookie, now); !errors.Is(err, cookiesession.ErrInvalid) || !strings.Contains(err.Error(), "inflates past") {
		t.Fatalf("bomb: %v", err)
	}
	// Just under the cap opens.
	ok := `{"a":"` + strings.Repeat("x", cookiesession.MaxPlaintextBytes-8) + `"}`
	if _, err := imp.Open(sign(t, imp, compress(t, []byte(ok)), now), now); err != nil {
		t.Fatalf("at the cap: %v", err)
	}
}

// BenchmarkOpen opens Django's cookies: compressed (a logged-in session with
// a few values), uncompressed, and a forged one refused at the signature.
func BenchmarkOpen(b *testing.B) {
	cases := loadCases(b)
	for _, name := range []string{"store, logged in", "store, not compressed", "tampered signature"} {
		for _, c := range cases {
			if c.Name != name {
				continue
			}
			imp, now := c.importer(b), time.Unix(c.At, 0)
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.Cookie)))
				for range b.N {
					if _, err := imp.Open(c.Cookie, now); (err == nil) != (c.Expect == "ok") {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
