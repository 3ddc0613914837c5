// Command hello is the README's complete program: a visit counter whose
// session lives in an encrypted cookie.
package main

import (
	"fmt"
	"log"
	"net/http"

	"github.com/cookiesession/cookiesession"
)

var sessions *cookiesession.Manager

func visits(w http.ResponseWriter, r *http.Request) {
	s := sessions.Session(r)
	s.Set("visits", s.GetInt("visits")+1)
	fmt.Fprintln(w, "visits:", s.GetInt("visits"))
}

func main() {
	keys, err := cookiesession.KeyRingFromEnv("COOKIESESSION_KEYS")
	if err != nil {
		log.Fatal(err) // make a ring with: go run ./cmd/cookiesession keygen
	}
	sessions, err = cookiesession.New(cookiesession.Config{Keys: keys})
	if err != nil {
		log.Fatal(err)
	}
	// Cross-origin POSTs get a 403 (CSRF; SameSite=Lax is not enough).
	protect := http.NewCrossOriginProtection()
	http.Handle("/", protect.Handler(sessions.Handler(http.HandlerFunc(visits))))
	log.Fatal(http.ListenAndServe("localhost:8080", nil))
}
