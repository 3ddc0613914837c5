package django_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/importers/django"
)

// A Go service beside a Django application reads its users' sessions from
// the first request: the strangler pattern. Django keeps serving its pages
// with its cookie (KeepImported); the Go service seals its own.
func Example() {
	// A cookie made by Django 3.2's signed_cookies backend for user 42.
	djangoCookie, secretKey, now := exampleDjangoCookie()

	imp, err := django.New(django.Config{
		SecretKey: secretKey, // settings.SECRET_KEY
	})
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := cookiesession.New(cookiesession.Config{
		Name:         "__Host-session",
		Keys:         exampleRing,
		Lifetime:     14 * 24 * time.Hour, // SESSION_COOKIE_AGE
		Importers:    []cookiesession.Importer{imp},
		KeepImported: true, // Django still serves the site with its cookie
		Now:          func() time.Time { return now },
	})
	if err != nil {
		log.Fatal(err)
	}
	account := func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		userID := s.GetString("_auth_user_id") // set by django.contrib.auth's login()
		if userID == "" {
			http.Redirect(w, r, "/accounts/login/", http.StatusFound)
			return
		}
		fmt.Fprintln(w, "user", userID)
	}

	req := httptest.NewRequest("GET", "https://example.com/account", nil)
	req.Header.Set("Cookie", "csrftoken=abc; sessionid="+djangoCookie)
	rec := httptest.NewRecorder()
	sessions.Handler(http.HandlerFunc(account)).ServeHTTP(rec, req)
	fmt.Print(rec.Body.String())
	for _, c := range rec.Result().Cookies() {
		fmt.Println("sets", c.Name)
	}
	// Output:
	// user 42
	// sets __Host-session
}

var exampleRing = func() *cookiesession.KeyRing {
	ring, err := cookiesession.ParseKeyRing([]byte(`{"keys":[
		{"kty":"oct","kid":"2026-11","k":"q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA"}]}`))
	if err != nil {
		panic(err)
	}
	return ring
}()

// exampleDjangoCookie returns the first cookie of testdata/django-cookies.json,
// its secret key and an instant when it is valid.
func exampleDjangoCookie() (cookie, secretKey string, now time.Time) {
	data, err := os.ReadFile("testdata/django-cookies.json")
	if err != nil {
		log.Fatal(err)
	}
	var file struct {
		Cases []struct {
			Cookie string `json:"cookie"`
			Config struct {
				SecretKey string `json:"secret_key"`
			} `json:"config"`
			At int64 `json:"at"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		log.Fatal(err)
	}
	c := file.Cases[0]
	return c.Cookie, c.Config.SecretKey, time.Unix(c.At, 0)
}
