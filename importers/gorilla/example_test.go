package gorilla_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/importers/gorilla"
)

// An application moves from gorilla/sessions to cookiesession without
// logging anybody out: the first response to each user seals the gorilla
// session here and expires the gorilla cookie.
func Example() {
	// A cookie the real gorilla/sessions made with the older pair of a
	// rotated store, the store's keys, and an instant when it is valid.
	gorillaCookie, k, now := exampleGorillaCookie()

	fromGorilla, err := gorilla.New(gorilla.Config{
		Name: "app", // store.Get(r, "app")
		KeyPairs: []gorilla.KeyPair{ // sessions.NewCookieStore(hash2, block2, hash1, block1)
			{Hash: k.hash2, Block: k.block2},
			{Hash: k.hash1, Block: k.block1},
		},
		MaxAge: 30 * 24 * time.Hour, // store.MaxAge (30 days by default)
	})
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := cookiesession.New(cookiesession.Config{
		Keys:      exampleRing,
		Lifetime:  30 * 24 * time.Hour, // at least the store's MaxAge
		Importers: []cookiesession.Importer{fromGorilla},
		Now:       func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	home := func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		fmt.Fprintln(w, "user", s.GetString("user"), "visits", s.GetInt("visits"), "flashes", s.Flashes())
	}

	req := httptest.NewRequest("GET", "https://example.com/", nil)
	req.Header.Set("Cookie", "app="+gorillaCookie)
	rec := httptest.NewRecorder()
	sessions.Handler(http.HandlerFunc(home)).ServeHTTP(rec, req)
	fmt.Print(rec.Body.String())
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			fmt.Println("expires", c.Name)
		} else {
			fmt.Println("sets", c.Name)
		}
	}
	// Output:
	// user ada visits 41 flashes [welcome back]
	// sets session
	// expires app
}

var exampleRing = func() *cookiesession.KeyRing {
	ring, err := cookiesession.ParseKeyRing([]byte(`{"keys":[
		{"kty":"oct","kid":"2026-11","k":"q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA"}]}`))
	if err != nil {
		panic(err)
	}
	return ring
}()

type exampleKeys struct{ hash1, block1, hash2, block2 []byte }

// exampleGorillaCookie returns the rotated store's cookie of
// testdata/gorilla-cookies.json, the store's keys and an instant when the
// cookie is valid.
func exampleGorillaCookie() (cookie string, k exampleKeys, now time.Time) {
	data, err := os.ReadFile("testdata/gorilla-cookies.json")
	if err != nil {
		log.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Name      string
			Cookie    string
			KeyPairs  [][]string `json:"key_pairs"`
			Timestamp int64
		}
	}
	if err := json.Unmarshal(data, &file); err != nil {
		log.Fatal(err)
	}
	for _, c := range file.Cases {
		if c.Name == "encrypted, an older pair of a rotation" {
			key := func(i, j int) []byte {
				b, err := hex.DecodeString(c.KeyPairs[i][j])
				if err != nil {
					log.Fatal(err)
				}
				return b
			}
			k = exampleKeys{hash2: key(0, 0), block2: key(0, 1), hash1: key(1, 0), block1: key(1, 1)}
			return c.Cookie, k, time.Unix(c.Timestamp+60, 0)
		}
	}
	log.Fatal("no rotated case")
	return
}
