package cookiesession_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// A fixed ring for the examples. Real applications load theirs with
// KeyRingFromEnv, OpenKeyFile or ParseKeyRing, and generate keys with
// "cookiesession keygen".
var exampleRing = func() *cookiesession.KeyRing {
	ring, err := cookiesession.ParseKeyRing([]byte(`{"keys":[
		{"kty":"oct","kid":"2026-11","k":"q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA"}]}`))
	if err != nil {
		panic(err)
	}
	return ring
}()

// The visit counter: three lines of handler.
func Example() {
	sessions, err := cookiesession.New(cookiesession.Config{Keys: exampleRing})
	if err != nil {
		log.Fatal(err)
	}
	visits := func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		s.Set("visits", s.GetInt("visits")+1)
		fmt.Fprintln(w, "visits:", s.GetInt("visits"))
	}
	handler := sessions.Handler(http.HandlerFunc(visits))

	// Three requests from one browser, carrying the cookie along.
	var cookies []string
	for range 3 {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		for _, c := range cookies {
			req.Header.Add("Cookie", c)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Print(rec.Body.String())
		if set := rec.Result().Cookies(); len(set) > 0 {
			cookies = []string{set[0].Name + "=" + set[0].Value}
		}
	}
	// Output:
	// visits: 1
	// visits: 2
	// visits: 3
}

// Configuration with the usual production choices. Every field not set keeps
// its safe default (Secure, HttpOnly, SameSite=Lax, Path "/", encrypted).
func ExampleNew() {
	keys, err := cookiesession.OpenKeyFile("testdata/example-keys.json", nil)
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := cookiesession.New(cookiesession.Config{
		Name:        "__Host-session",
		Keys:        keys,
		Lifetime:    14 * 24 * time.Hour, // like Django's SESSION_COOKIE_AGE
		IdleTimeout: 2 * time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sessions.Config().Name, sessions.Config().TouchInterval)
	// Output: __Host-session 12m0s
}

// Mistakes are found when the Manager is built, not on the first request.
func ExampleNew_misconfiguration() {
	_, err := cookiesession.New(cookiesession.Config{
		Name:   "__Host-session",
		Keys:   exampleRing,
		Domain: "example.com",
	})
	fmt.Println(errors.Is(err, cookiesession.ErrConfig))
	fmt.Println(err)
	// Output:
	// true
	// cookiesession: bad configuration: cookie name "__Host-session": the __Host- prefix needs Secure, Path "/" and no Domain
}

// Login: Renew gives the session a new identity, so a cookie planted before
// login (session fixation) is not the logged-in session.
func ExampleSession_Renew() {
	sessions, _ := cookiesession.New(cookiesession.Config{Keys: exampleRing})
	login := func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		before := s.ID()
		s.Renew()
		s.Set("user_id", int64(1)<<53+1) // int64 values survive exactly
		s.AddFlash("Welcome back.")
		fmt.Println("new identity:", s.ID() != before)
		id, _ := cookiesession.Get[int64](s, "user_id")
		fmt.Println("user:", id)
	}
	sessions.Handler(http.HandlerFunc(login)).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil))
	// Output:
	// new identity: true
	// user: 9007199254740993
}

// A session that outgrows its cookies is an error the handler sees; Save
// restores the previous values, so the client keeps its previous cookie.
func ExampleSession_Save() {
	sessions, _ := cookiesession.New(cookiesession.Config{Keys: exampleRing})
	addToCart := func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		s.Set("cart", []string{"book"})
		if err := s.Save(); err != nil {
			log.Fatal(err)
		}
		s.Set("cart", []string{"book", strings.Repeat("x", 20000)})
		var size *cookiesession.SizeError
		if err := s.Save(); errors.As(err, &size) {
			fmt.Println("too large:", size.What, size.Size > size.Budget)
			cart, _ := cookiesession.Get[[]string](s, "cart")
			fmt.Println("cart kept as before:", cart)
		}
	}
	rec := httptest.NewRecorder()
	sessions.Handler(http.HandlerFunc(addToCart)).ServeHTTP(rec, httptest.NewRequest("POST", "/cart", nil))
	fmt.Println("Set-Cookie lines:", len(rec.Result().Cookies()))
	// Output:
	// too large: chunks true
	// cart kept as before: [book]
	// Set-Cookie lines: 1
}

// Serverless handlers that build their own response use the low-level calls:
// LoadHeader takes raw Cookie header values (or API Gateway's list of
// "name=value" cookies) and SetCookies returns the Set-Cookie values.
func ExampleManager_LoadHeader() {
	sessions, _ := cookiesession.New(cookiesession.Config{Keys: exampleRing})

	handle := func(cookies []string) (body string, setCookies []string) {
		s, err := sessions.LoadHeader(cookies...)
		if err != nil {
			log.Printf("session refused: %v", err) // for the logs; s is a fresh session
		}
		s.Set("n", s.GetInt("n")+1)
		setCookies, err = sessions.SetCookies(s)
		if err != nil {
			return "session too large", nil
		}
		return fmt.Sprint("n=", s.GetInt("n")), setCookies
	}

	body, set := handle(nil)
	fmt.Println(body, len(set))
	// The client sends back the name=value part of each Set-Cookie.
	next := strings.SplitN(set[0], ";", 2)[0]
	body, _ = handle([]string{next})
	fmt.Println(body)
	// Output:
	// n=1 1
	// n=2
}

// Rotation: a new primary key in front; cookies sealed with the old key still
// open, and are re-sealed with the new one on their next response.
func ExampleKeyRing_Rotate() {
	next, _ := cookiesession.GenerateKey("2026-12")
	ring, _ := exampleRing.Rotate(next, -1)
	fmt.Println(ring)
	fmt.Printf("%v\n", next) // keys never print their secret
	// Output:
	// KeyRing(2026-12, 2026-11)
	// Key(2026-12)
}

// The codec seals and opens a payload directly, as the command line tool does.
func ExampleCodec() {
	codec, _ := cookiesession.NewCodec(cookiesession.CodecConfig{Name: "session", Keys: exampleRing})
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	sealed, _ := codec.Seal(&cookiesession.Payload{
		ID:       "b3BhcXVlLXNlc3Npb24taWQ",
		IssuedAt: now, LastActivity: now, Expiry: codec.Expiry(now, now),
		Values: map[string]json.RawMessage{"user": json.RawMessage(`"ada"`)},
	})
	fmt.Println(strings.Count(sealed, "."), "dots: JWE compact")
	p, info, err := codec.Open(sealed, now.Add(time.Hour))
	fmt.Println(string(p.Values["user"]), info.KeyID, err)
	_, _, err = codec.Open(sealed, now.Add(25*time.Hour))
	fmt.Println(errors.Is(err, cookiesession.ErrExpired))
	// Output:
	// 4 dots: JWE compact
	// "ada" 2026-11 <nil>
	// true
}

// Renaming the cookie to __Host-session and moving from Signed to Encrypted
// at once, without logging anybody out: a Codec of the configuration before
// imports the cookies it sealed.
func ExampleCodec_Import() {
	before, err := cookiesession.NewCodec(cookiesession.CodecConfig{
		Name: "session",
		Keys: exampleRing,
		Mode: cookiesession.Signed,
	})
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := cookiesession.New(cookiesession.Config{
		Name:      "__Host-session",
		Keys:      exampleRing,
		Importers: []cookiesession.Importer{before},
	})
	if err != nil {
		log.Fatal(err)
	}

	// A cookie of the configuration before, as a browser still holds it.
	now := time.Now()
	old, err := before.Encode(&cookiesession.Payload{
		ID: "s1", IssuedAt: now, LastActivity: now, Expiry: now.Add(time.Hour),
		Values: map[string]json.RawMessage{"user": json.RawMessage(`"alice"`)},
	}, 0)
	if err != nil {
		log.Fatal(err)
	}
	handler := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		fmt.Fprintln(w, s.GetString("user"), "imported from", s.ImportedFrom())
	}))
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	req.Header.Set("Cookie", old[0].Name+"="+old[0].Value)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	fmt.Print(rec.Body.String())
	for _, c := range rec.Result().Cookies() {
		fmt.Println(c.Name, "expired:", c.MaxAge < 0)
	}
	// Output:
	// alice imported from cookiesession
	// __Host-session expired: false
	// session expired: true
}

// Revoking one user's sessions everywhere, without a store: the session
// carries its subject, and a revocation list refuses that subject's sessions
// issued before an instant. Here the list is replaced from code; a fleet
// follows a file with OpenRevocationFile, written by "cookiesession revoke".
func ExampleRevocations() {
	revoked := cookiesession.NewRevocations(nil)
	sessions, _ := cookiesession.New(cookiesession.Config{
		Keys:        exampleRing,
		Revocations: revoked,
		ErrorLog:    func(r *http.Request, err error) { fmt.Println("refused:", errors.Is(err, cookiesession.ErrRevoked)) },
	})
	login := func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		s.Renew()
		s.SetSubject("user-42") // the user's id, sealed with the session
		s.Set("name", "Ada")
	}
	home := func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		fmt.Printf("subject %q, name %q\n", s.Subject(), s.GetString("name"))
	}
	cookie := func(h http.HandlerFunc, cookie string) string {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		req.Header.Set("Cookie", cookie)
		rec := httptest.NewRecorder()
		sessions.Handler(h).ServeHTTP(rec, req)
		if set := rec.Result().Cookies(); len(set) > 0 {
			return set[0].Name + "=" + set[0].Value
		}
		return cookie
	}
	laptop := cookie(login, "")
	cookie(home, laptop)

	// A password change: every session of user-42 issued until now is void.
	if err := revoked.Revoke("user-42", time.Now()); err != nil {
		log.Fatal(err)
	}
	cookie(home, laptop)
	// Output:
	// subject "user-42", name "Ada"
	// refused: true
	// subject "", name ""
}

// Validate refuses what a revocation list cannot express, here an account
// disabled since the session was issued: the request gets a fresh session,
// as for a revocation.
func ExampleConfig_validate() {
	errDisabled := errors.New("account disabled")
	disabled := map[string]bool{"user-7": true} // the application's own cache
	sessions, _ := cookiesession.New(cookiesession.Config{
		Keys: exampleRing,
		Validate: func(r *http.Request, s *cookiesession.Session) error {
			if disabled[s.Subject()] {
				return errDisabled
			}
			return nil
		},
	})
	for _, user := range []string{"user-42", "user-7"} {
		s, _ := sessions.LoadHeader()
		s.SetSubject(user)
		lines, _ := sessions.SetCookies(s)
		s, err := sessions.LoadHeader(strings.Split(lines[0], ";")[0])
		fmt.Printf("%s: subject %q, revoked %v, disabled %v\n", user, s.Subject(),
			errors.Is(err, cookiesession.ErrRevoked), errors.Is(err, errDisabled))
	}
	// Output:
	// user-42: subject "user-42", revoked false, disabled false
	// user-7: subject "", revoked true, disabled true
}

// Code below the handler has a context, not a request: SessionFrom reaches
// the request's session from it, or from any context derived from it.
func ExampleManager_SessionFrom() {
	sessions, err := cookiesession.New(cookiesession.Config{Keys: exampleRing})
	if err != nil {
		log.Fatal(err)
	}
	// A service function: it only has ctx.
	greeting := func(ctx context.Context) string {
		s, err := sessions.SessionFrom(ctx)
		if err != nil {
			return "hello, stranger" // ErrNoSession: ctx did not come through sessions.Handler
		}
		return "hello, " + s.GetString("user")
	}
	handler := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sessions.Session(r).Set("user", "ada")
		fmt.Fprintln(w, greeting(r.Context()))
	}))

	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	fmt.Print(rec.Body.String())
	fmt.Println(greeting(context.Background()))
	// Output:
	// hello, ada
	// hello, stranger
}

// Counters counts the sessions' events; publish it with expvar.Publish
// (examples/visits serves it on /debug/vars).
func ExampleCounters() {
	counters := new(cookiesession.Counters)
	sessions, err := cookiesession.New(cookiesession.Config{Keys: exampleRing, Observer: counters.Observe})
	if err != nil {
		log.Fatal(err)
	}
	handler := sessions.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		s.Set("n", s.GetInt("n")+1)
	}))
	for _, cookie := range []string{"", "session=forged"} {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		handler.ServeHTTP(httptest.NewRecorder(), req)
	}
	var vars struct{ Load, Save, Seals map[string]int }
	json.Unmarshal([]byte(counters.String()), &vars)
	fmt.Println("load:", vars.Load)
	fmt.Println("save:", vars.Save)
	fmt.Println("seals:", vars.Seals)
	// Output:
	// load: map[invalid.format:1 no-cookie:1]
	// save: map[sealed.changed:2]
	// seals: map[2026-11:2]
}

// The standard ServeMux, with its method and wildcard patterns, behind one
// Handler; Handler also wraps a single route.
func ExampleManager_Handler_serveMux() {
	sessions, err := cookiesession.New(cookiesession.Config{Keys: exampleRing})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cart/{item}", func(w http.ResponseWriter, r *http.Request) {
		s := sessions.Session(r)
		cart, _ := cookiesession.Get[[]string](s, "cart")
		s.Set("cart", append(cart, r.PathValue("item")))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		cart, _ := cookiesession.Get[[]string](sessions.Session(r), "cart")
		fmt.Fprintln(w, "cart:", strings.Join(cart, ", "))
	})
	handler := sessions.Handler(mux)

	// One browser adds two items and reads its cart.
	var cookie string
	for _, req := range []*http.Request{
		httptest.NewRequest("POST", "https://example.com/cart/tea", nil),
		httptest.NewRequest("POST", "https://example.com/cart/milk", nil),
		httptest.NewRequest("GET", "https://example.com/cart", nil),
	} {
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Print(rec.Body.String())
		if set := rec.Result().Cookies(); len(set) > 0 {
			cookie = set[0].Name + "=" + set[0].Value
		}
	}
	// Output:
	// cart: tea, milk
}
