package interop

import (
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/importers/gorilla"
	"github.com/cookiesession/cookiesession/importers/gorilla/internal/forge"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// User and Prefs are the gorilla application's own types, registered with
// gob as gorilla requires.
type User struct {
	Name  string
	Roles []string
	Since time.Time
}

type Prefs struct {
	Theme string
	Size  int
}

func init() {
	gob.Register(User{})
	gob.Register(&Prefs{})
	gob.Register(time.Time{})
}

// Keys of the gorilla application: hash keys of 32 and 64 bytes, block keys
// of each AES size.
var (
	hash1   = []byte("gorilla-hash-key-1-of-32-bytes..")
	hash2   = []byte("gorilla-hash-key-2-of-64-bytes..................................")
	block16 = []byte("block-key-16-byt")
	block24 = []byte("block-key-24-bytes-long.")
	block32 = []byte("block-key-32-bytes-long.........")
	iv      = []byte("0123456789abcdef")
)

// pairs converts NewCookieStore's arguments to the importer's.
func pairs(keyPairs ...[]byte) []gorilla.KeyPair {
	var out []gorilla.KeyPair
	for i := 0; i < len(keyPairs); i += 2 {
		p := gorilla.KeyPair{Hash: keyPairs[i]}
		if i+1 < len(keyPairs) {
			p.Block = keyPairs[i+1]
		}
		out = append(out, p)
	}
	return out
}

func newImporter(t testing.TB, cfg gorilla.Config) *gorilla.Importer {
	t.Helper()
	im, err := gorilla.New(cfg)
	if err != nil {
		t.Fatalf("gorilla.New: %v", err)
	}
	return im
}

// gorillaSave returns the value of the cookie that the real CookieStore
// writes for a session of values, after fill has run on it.
func gorillaSave(t testing.TB, store *sessions.CookieStore, name string, fill func(s *sessions.Session)) string {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	s, err := store.Get(r, name)
	if err != nil {
		t.Fatalf("store.Get: %v", err)
	}
	fill(s)
	if err := s.Save(r, w); err != nil {
		t.Fatalf("session.Save: %v", err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != name {
		t.Fatalf("gorilla set %v", cookies)
	}
	return cookies[0].Value
}

// gorillaLoad is what the real CookieStore reads from a request carrying
// the cookie name=value.
func gorillaLoad(store *sessions.CookieStore, name, value string) (map[interface{}]interface{}, error) {
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", name+"="+value)
	s, err := store.New(r, name)
	if err != nil {
		return nil, err
	}
	if s.IsNew {
		return nil, errors.New("no cookie")
	}
	return s.Values, nil
}

// atOneInstant runs f with the current time until the second does not
// change while it runs, so that gorilla (which reads the clock itself) and
// the importer (given now) judge a cookie's age at the same second.
func atOneInstant(t testing.TB, f func(now time.Time)) {
	t.Helper()
	for range 10 {
		before := time.Now()
		f(before)
		if time.Now().Unix() == before.Unix() {
			return
		}
	}
	t.Fatal("the clock moved to another second in each of 10 tries")
}

// agreeGob asserts that the importer decides as the real CookieStore does
// on value at this instant: the same refusal (ErrExpired exactly when
// gorilla's first error past the MAC is its expired timestamp), or the same
// values, as JSON. A session that gorilla opens but whose keys or values do
// not become JSON is the one case where they differ: the importer refuses
// it with ErrInvalid.
func agreeGob(t testing.TB, store *sessions.CookieStore, im *gorilla.Importer, name, value string) (opened bool) {
	t.Helper()
	atOneInstant(t, func(now time.Time) {
		want, gerr := gorillaLoad(store, name, value)
		got, err := im.Open(value, now)
		opened = agree(t, want, gerr, got, err)
	})
	return opened
}

func agree(t testing.TB, want map[interface{}]interface{}, gerr error, got *cookiesession.Imported, err error) bool {
	t.Helper()
	if gerr != nil {
		if err == nil {
			t.Fatalf("gorilla refuses (%v), the importer opens: %s", gerr, got.Values)
		}
		wantExpired := firstPastMAC(gerr) == "securecookie: expired timestamp"
		if errors.Is(err, cookiesession.ErrExpired) != wantExpired || !errors.Is(err, cookiesession.ErrExpired) && !errors.Is(err, cookiesession.ErrInvalid) {
			t.Fatalf("gorilla refuses with %v, the importer with %v", gerr, err)
		}
		return false
	}
	jsonable := true
	wantJSON := map[string]string{}
	for k, v := range want {
		name, ok := k.(string)
		b, jerr := json.Marshal(v)
		if !ok || jerr != nil {
			jsonable = false
			break
		}
		wantJSON[name] = string(b)
	}
	if !jsonable {
		if !errors.Is(err, cookiesession.ErrInvalid) {
			t.Fatalf("gorilla opens values that are not JSON (%v), the importer: %v", want, err)
		}
		return false
	}
	if err != nil {
		t.Fatalf("gorilla opens %v, the importer refuses: %v", want, err)
	}
	gotJSON := map[string]string{}
	for k, v := range got.Values {
		gotJSON[k] = string(v)
	}
	if !reflect.DeepEqual(gotJSON, wantJSON) {
		t.Fatalf("values differ:\n gorilla:  %v\n importer: %v", wantJSON, gotJSON)
	}
	return true
}

// firstPastMAC returns the text of the first error of gorilla's DecodeMulti
// that is not a MAC failure: the one the importer reports.
func firstPastMAC(err error) string {
	var multi securecookie.MultiError
	if !errors.As(err, &multi) {
		return err.Error()
	}
	for _, e := range multi {
		if e != securecookie.ErrMacInvalid {
			return e.Error()
		}
	}
	return securecookie.ErrMacInvalid.Error()
}

// sameJSON reports whether a and b hold the same JSON value (numbers
// compared as float64, as gorilla's JSONEncoder decodes them).
func sameJSON(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func gobBytes(t testing.TB, v any) []byte {
	t.Helper()
	b, err := forge.Gob(v)
	if err != nil {
		t.Fatalf("gob: %v", err)
	}
	return b
}

func unixText(t time.Time) string { return fmt.Sprint(t.Unix()) }

func httptestRequest() (*http.Request, *httptest.ResponseRecorder) {
	return httptest.NewRequest("GET", "/", nil), httptest.NewRecorder()
}
