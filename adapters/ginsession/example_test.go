package ginsession_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/adapters/ginsession"
	"github.com/gin-gonic/gin"
)

// The visit counter on gin.
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
	r := gin.New()
	r.Use(ginsession.Middleware(sessions))
	r.GET("/", func(c *gin.Context) {
		s := ginsession.Session(c)
		s.Set("visits", s.GetInt("visits")+1)
		c.String(http.StatusOK, "visits: %d\n", s.GetInt("visits"))
	})

	// Two requests from one browser.
	var cookie string
	for range 2 {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		fmt.Print(rec.Body.String())
		set := rec.Result().Cookies()[0]
		cookie = set.Name + "=" + set.Value
	}
	// Output:
	// visits: 1
	// visits: 2
}
