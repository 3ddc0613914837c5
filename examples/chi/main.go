// Command chi serves a shopping cart kept in the session, routed by chi
// (github.com/go-chi/chi/v5): chi takes Manager.Handler as it is, as
// middleware of the whole router, of a group or of one route.
//
//	COOKIESESSION_KEYS="$(cookiesession keygen)" go run .
package main

import (
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/cookiesession/cookiesession"
	"github.com/go-chi/chi/v5"
)

func routes(sessions *cookiesession.Manager) http.Handler {
	r := chi.NewRouter()
	r.Use(sessions.Handler)
	r.Post("/cart/{item}", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		cart, _ := cookiesession.Get[[]string](s, "cart")
		s.Set("cart", append(cart, chi.URLParam(r, "item")))
		w.WriteHeader(http.StatusNoContent)
	})
	r.Get("/cart", func(w http.ResponseWriter, r *http.Request) {
		cart, _ := cookiesession.Get[[]string](sessions.Session(r), "cart")
		fmt.Fprintln(w, "cart:", strings.Join(cart, ", "))
	})
	return r
}

func main() {
	keys, err := cookiesession.KeyRingFromEnv("COOKIESESSION_KEYS")
	if err != nil {
		log.Fatal(err) // generate a ring with: cookiesession keygen
	}
	sessions, err := cookiesession.New(cookiesession.Config{Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("localhost:8080", routes(sessions)))
}
