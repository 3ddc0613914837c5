package echosession_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/echosession"
	"github.com/labstack/echo/v4"
)

// The visit counter on Echo.
func Example() {
	keys, err := cookiesession.ParseKeyRing([]byte(`{"keys":[
		{"kty":"oct","kid":"2026-11","k":"q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA"}]}`))
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := cookiesession.New(cookiesession.Config{Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	e.Use(echosession.Middleware(sessions))
	e.GET("/", func(c echo.Context) error {
		s := echosession.Session(c)
		s.Set("visits", s.GetInt("visits")+1)
		return c.String(http.StatusOK, fmt.Sprintf("visits: %d\n", s.GetInt("visits")))
	})

	// Two requests from one browser.
	var cookie string
	for range 2 {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		fmt.Print(rec.Body.String())
		set := rec.Result().Cookies()[0]
		cookie = set.Name + "=" + set.Value
	}
	// Output:
	// visits: 1
	// visits: 2
}
