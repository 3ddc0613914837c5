package interop

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/cookiesessiontest"
	"github.com/cookiesession/cookiesession/importers/gorilla"
	"github.com/gorilla/sessions"
)

// site is one TLS server whose handler is swapped, from the gorilla
// application to the cookiesession one, and one browser (a cookie jar).
type site struct {
	t       *testing.T
	handler atomic.Pointer[http.Handler]
	srv     *httptest.Server
	u       *url.URL
	jar     *cookiejar.Jar
	client  *http.Client
}

func newSite(t *testing.T) *site {
	st := &site{t: t}
	st.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*st.handler.Load()).ServeHTTP(w, r)
	}))
	st.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	st.srv.StartTLS()
	t.Cleanup(st.srv.Close)
	st.u, _ = url.Parse(st.srv.URL)
	st.jar, _ = cookiejar.New(nil)
	c := *st.srv.Client()
	c.Jar, c.Timeout = st.jar, 30*time.Second
	st.client = &c
	return st
}

func (st *site) serve(h http.Handler) { st.handler.Store(&h) }

// get returns the status, the body and the Set-Cookie lines of GET path.
func (st *site) get(path string) (int, string, []string) {
	st.t.Helper()
	resp, err := st.client.Get(st.srv.URL + path)
	if err != nil {
		st.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header["Set-Cookie"]
}

// cookieNames are the names of the cookies the browser holds for the site.
func (st *site) cookieNames() []string {
	var names []string
	for _, c := range st.jar.Cookies(st.u) {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}

// gorillaApp is the application before the move: gorilla/sessions with a
// rotated pair of keys, the user logged in with its own registered types.
func gorillaApp(store *sessions.CookieStore) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s, _ := store.Get(r, "app")
		s.Values["user"] = User{Name: "ada", Roles: []string{"admin"}, Since: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}
		s.Values["prefs"] = &Prefs{Theme: "dark", Size: 14}
		s.Values["visits"] = 1
		s.AddFlash("welcome back")
		if err := s.Save(r, w); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		s, _ := store.Get(r, "app")
		u, ok := s.Values["user"].(User)
		fmt.Fprintf(w, "logged in: %v, user %q", ok, u.Name)
	})
	return mux
}

// cookiesessionApp is the application after the move: the same routes on
// cookiesession, with the gorilla importer.
func cookiesessionApp(t *testing.T, now func() time.Time, imported *atomic.Int32) (http.Handler, *cookiesession.Manager) {
	t.Helper()
	fromGorilla, err := gorilla.New(gorilla.Config{Name: "app", KeyPairs: pairs(hash2, block32, hash1, block16)})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := cookiesessiontest.NewManager(t, cookiesession.Config{
		Lifetime:  90 * 24 * time.Hour,
		Importers: []cookiesession.Importer{fromGorilla},
		Now:       now,
		ErrorLog: func(_ *http.Request, err error) {
			if errors.Is(err, cookiesession.ErrImported) {
				imported.Add(1)
			}
		},
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		u, ok := cookiesession.Get[User](s, "user")
		prefs, _ := cookiesession.Get[Prefs](s, "prefs")
		fmt.Fprintf(w, "logged in: %v, user %q, roles %v, since %s, theme %s, visits %d, flashes %v, from %q",
			ok, u.Name, u.Roles, u.Since.Format(time.DateOnly), prefs.Theme, s.GetInt("visits"), s.Flashes(), s.ImportedFrom())
	})
	return m.Handler(mux), m
}

// TestEndToEndMoveFromGorilla: a user logs in on the gorilla application;
// the server is replaced by the cookiesession one with the gorilla
// importer; the same browser is still logged in with its values intact, the
// gorilla cookie is gone after the first response, and the session does
// not outlive what gorilla allowed.
func TestEndToEndMoveFromGorilla(t *testing.T) {
	st := newSite(t)
	// The gorilla application has rotated its keys: the user's cookie is
	// sealed with the older pair, which the store still reads.
	old := sessions.NewCookieStore(hash1, block16)
	st.serve(gorillaApp(old))
	loggedIn := time.Now()
	st.get("/login")
	st.serve(gorillaApp(sessions.NewCookieStore(hash2, block32, hash1, block16)))
	if _, body, _ := st.get("/whoami"); body != `logged in: true, user "ada"` {
		t.Fatalf("gorilla: %s", body)
	}
	if got := st.cookieNames(); !slices.Equal(got, []string{"app"}) {
		t.Fatalf("cookies before the move: %v", got)
	}

	var imported atomic.Int32
	h, m := cookiesessionApp(t, time.Now, &imported)
	st.serve(h)
	const want = `logged in: true, user "ada", roles [admin], since 2024-03-01, theme dark, visits 1, flashes [welcome back], from "gorilla"`
	code, body, setCookies := st.get("/whoami")
	if code != 200 || body != want {
		t.Fatalf("first request after the move: %d %s", code, body)
	}
	if !slices.ContainsFunc(setCookies, func(l string) bool { return strings.HasPrefix(l, "app=; Max-Age=0") }) {
		t.Fatalf("the gorilla cookie is not expired: %q", setCookies)
	}
	if got := st.cookieNames(); !slices.Equal(got, []string{"session"}) {
		t.Fatalf("cookies after the first response: %v", got)
	}
	if imported.Load() != 1 {
		t.Fatalf("%d imports reported", imported.Load())
	}

	// Still logged in from cookiesession's own cookie; the flash was shown.
	want2 := strings.Replace(strings.Replace(want, "[welcome back]", "[]", 1), `from "gorilla"`, `from ""`, 1)
	if _, body, _ := st.get("/whoami"); body != want2 {
		t.Fatalf("second request: %s", body)
	}
	if imported.Load() != 1 {
		t.Fatalf("%d imports reported", imported.Load())
	}

	// The session ends when gorilla's would have (its MaxAge, 30 days,
	// after the login), not 90 days (Lifetime) later: the import moved its
	// issue time earlier to make it so.
	var cookie string
	for _, c := range st.jar.Cookies(st.u) {
		cookie = c.Name + "=" + c.Value
	}
	s, err := m.LoadHeader(cookie)
	if err != nil {
		t.Fatal(err)
	}
	end := loggedIn.Truncate(time.Second).Add(gorilla.DefaultMaxAge + time.Second)
	if d := s.ExpiresAt().Sub(end); d < 0 || d > 5*time.Second {
		t.Fatalf("expires at %v, gorilla's session at %v", s.ExpiresAt(), end)
	}
}

// TestEndToEndExpiredGorillaSession: a gorilla session past its MaxAge is
// not imported: the browser gets a fresh session and a 200, never a 500,
// and its stale gorilla cookie stays for gorilla's own expiry.
func TestEndToEndExpiredGorillaSession(t *testing.T) {
	st := newSite(t)
	st.serve(gorillaApp(sessions.NewCookieStore(hash1, block16)))
	st.get("/login")

	var imported atomic.Int32
	later := func() time.Time { return time.Now().Add(gorilla.DefaultMaxAge + time.Minute) }
	h, _ := cookiesessionApp(t, later, &imported)
	st.serve(h)
	code, body, _ := st.get("/whoami")
	if code != 200 || !strings.HasPrefix(body, "logged in: false") || imported.Load() != 0 {
		t.Fatalf("%d %s, %d imports", code, body, imported.Load())
	}
}

// TestImportReadsTheCookieGorillaReads: with several cookies of the name,
// the importer reads the one net/http hands gorilla.
func TestImportReadsTheCookieGorillaReads(t *testing.T) {
	store := sessions.NewCookieStore(hash1)
	ada := gorillaSave(t, store, "app", func(s *sessions.Session) { s.Values["user"] = "ada" })
	eve := gorillaSave(t, store, "app", func(s *sessions.Session) { s.Values["user"] = "eve" })
	im := newImporter(t, gorilla.Config{Name: "app", KeyPairs: pairs(hash1)})
	for _, header := range []string{
		"app=" + ada + "; app=" + eve,
		"app=" + eve + "; app=" + ada,
		`app="` + ada + `"`,
		`app=x\y; app=` + eve,
		`app=x"y; app=` + ada,
		"app=; app=" + ada,
		"other=1; app=" + eve,
		"app.1=" + ada,
		"app=garbage; app=" + ada,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", header)
		gs, gerr := store.New(r, "app")
		got, err := im.Import(cookiesession.CookieLookup("", header), time.Now())
		switch {
		case gerr != nil:
			if err == nil {
				t.Errorf("%q: gorilla refuses (%v), the importer: %v", header, gerr, got)
			}
		case gs.IsNew:
			if got != nil || err != nil {
				t.Errorf("%q: gorilla reads nothing, the importer: %v %v", header, got, err)
			}
		default:
			want := fmt.Sprintf("%q", gs.Values["user"])
			if err != nil || got == nil || string(got.Values["user"]) != want {
				t.Errorf("%q: gorilla reads %s, the importer: %v %v", header, want, got, err)
			}
		}
	}
}
