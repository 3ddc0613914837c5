package cookiesession

// Tests of the import mechanism (import.go): a session of an earlier
// configuration, or of another system, becomes the request's session and is
// sealed in the current format, never for longer than its source allowed.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// migration is one client (a cookie jar) and one TLS server whose handler is
// swapped from the old system's to the new one's, on one injected clock.
type migration struct {
	t       *testing.T
	clock   *e2eClock
	log     *e2eLog
	handler atomic.Pointer[http.Handler]
	srv     *httptest.Server
	u       *url.URL
	client  *http.Client
}

func newMigration(t *testing.T) *migration {
	t.Helper()
	mg := &migration{t: t, clock: newE2EClock(), log: &e2eLog{}}
	mg.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*mg.handler.Load()).ServeHTTP(w, r)
	}))
	mg.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	mg.srv.StartTLS()
	t.Cleanup(mg.srv.Close)
	var err error
	if mg.u, err = url.Parse(mg.srv.URL); err != nil {
		t.Fatal(err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := *mg.srv.Client()
	c.Jar, c.Timeout = jar, 30*time.Second
	mg.client = &c
	return mg
}

// serve makes the server answer with a Manager of cfg (on the migration's
// clock and log) and returns it. Its routes: /login sets user=alice, /whoami
// prints the user, where the session came from and its claims, /touch adds a
// value, /logout destroys the session.
func (mg *migration) serve(cfg Config) *Manager {
	mg.t.Helper()
	cfg.Now, cfg.ErrorLog = mg.clock.Now, mg.log.record
	m, err := New(cfg)
	if err != nil {
		mg.t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		s.Renew()
		s.Set("user", "alice")
		s.Set("cart", []int{1, 2, 3})
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		fmt.Fprintf(w, "%s from=%s iat=%d exp=%d", s.GetString("user"), s.ImportedFrom(),
			s.IssuedAt().Unix(), s.ExpiresAt().Unix())
	})
	mux.HandleFunc("/touch", func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		s.Set("seen", s.GetInt("seen")+1)
		fmt.Fprintf(w, "%s exp=%d", s.GetString("user"), s.ExpiresAt().Unix())
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) { m.Session(r).Destroy() })
	h := m.Handler(mux)
	mg.handler.Store(&h)
	return m
}

// get requests path with the jar and returns the status, the body and the
// Set-Cookie lines.
func (mg *migration) get(path string) (int, string, []string) {
	mg.t.Helper()
	resp, err := mg.client.Get(mg.srv.URL + path)
	if err != nil {
		mg.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		mg.t.Fatal(err)
	}
	if lines := resp.Header.Values("Set-Cookie"); len(lines) > 0 {
		e2eCheckUncacheable(mg.t, resp.Header)
	}
	return resp.StatusCode, string(body), resp.Header.Values("Set-Cookie")
}

// jar returns the jar's cookies for the server, name to value.
func (mg *migration) jar() map[string]string {
	out := make(map[string]string)
	for _, c := range mg.client.Jar.Cookies(mg.u) {
		out[c.Name] = c.Value
	}
	return out
}

// expectImport checks that the log holds exactly one report: an import from
// source.
func (mg *migration) expectImport(source string) {
	mg.t.Helper()
	err := mg.log.expectOne(mg.t, ErrImported)
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Source != source {
		mg.t.Fatalf("import reported as %v, want from %s", err, source)
	}
}

func oldCodec(t *testing.T, cfg Config) *Codec {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	c, err := NewCodec(CodecConfig{Name: cfg.Name, Purpose: cfg.Purpose, Keys: cfg.Keys, Mode: cfg.Mode, Lifetime: cfg.Lifetime})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Renaming the cookie to __Host-session logs nobody out: the first request
// to the new configuration imports the old cookie, seals it under the new
// name and expires the old one; the request after it is not an import.
func TestImportRenameEndToEnd(t *testing.T) {
	mg := newMigration(t)
	before := Config{Keys: e2eRing(t, "A")}
	mg.serve(before)
	mg.get("/login")
	if names := slices.Sorted(maps.Keys(mg.jar())); !slices.Equal(names, []string{"session"}) {
		t.Fatalf("jar after login: %q", names)
	}
	iat := mg.clock.Now().Unix()
	mg.clock.Advance(time.Hour)

	mg.serve(Config{Name: "__Host-session", Keys: before.Keys, Importers: []Importer{oldCodec(t, before)}})
	status, body, lines := mg.get("/whoami")
	if want := fmt.Sprintf("alice from=cookiesession iat=%d exp=%d", iat, iat+int64(DefaultLifetime/time.Second)); status != 200 || body != want {
		t.Fatalf("first request after the rename: %d %q, want %q", status, body, want)
	}
	byName := e2eCookieMap(t, lines)
	if len(lines) != 2 || !e2eExpired(t, byName["session"]) || e2eExpired(t, byName["__Host-session"]) {
		t.Fatalf("Set-Cookie %q: want __Host-session sealed and session expired", lines)
	}
	mg.expectImport("cookiesession")
	if names := slices.Sorted(maps.Keys(mg.jar())); !slices.Equal(names, []string{"__Host-session"}) {
		t.Fatalf("jar after the import: %q", names)
	}
	_, body, lines = mg.get("/whoami")
	if !strings.HasPrefix(body, "alice from= ") || len(lines) != 0 {
		t.Fatalf("second request: %q, Set-Cookie %q", body, lines)
	}
	mg.log.expectNone(t)
}

// Switching from Signed to Encrypted under the same cookie name: the new
// codec refuses the signed cookie, the old configuration's imports it, and
// the response replaces it (one Set-Cookie for the name, no expiry line).
func TestImportModeSwitchEndToEnd(t *testing.T) {
	mg := newMigration(t)
	before := Config{Keys: e2eRing(t, "A"), Mode: Signed}
	mg.serve(before)
	mg.get("/login")
	if segs := strings.Count(mg.jar()["session"], "."); segs != 2 {
		t.Fatalf("signed cookie with %d dots", segs)
	}

	mg.serve(Config{Keys: before.Keys, Importers: []Importer{oldCodec(t, before)}})
	_, body, lines := mg.get("/whoami")
	if !strings.HasPrefix(body, "alice from=cookiesession ") {
		t.Fatalf("after the switch: %q", body)
	}
	if byName := e2eCookieMap(t, lines); len(lines) != 1 || e2eExpired(t, byName["session"]) {
		t.Fatalf("Set-Cookie %q: want session re-sealed, once", lines)
	}
	mg.expectImport("cookiesession")
	if segs := strings.Count(mg.jar()["session"], "."); segs != 4 {
		t.Fatalf("cookie after the switch has %d dots, want an encrypted one", segs)
	}
	if _, body, lines = mg.get("/whoami"); !strings.HasPrefix(body, "alice from= ") || len(lines) != 0 {
		t.Fatalf("second request: %q, Set-Cookie %q", body, lines)
	}
	mg.log.expectNone(t)
}

// An import never extends a session: with a longer Lifetime than the
// source's, the new session ends when the source's would have, and keeps that
// bound through later re-seals; the session is refused past it.
func TestImportNeverExtends(t *testing.T) {
	mg := newMigration(t)
	before := Config{Keys: e2eRing(t, "A"), Lifetime: 24 * time.Hour}
	mg.serve(before)
	mg.get("/login")
	end := mg.clock.Now().Add(24 * time.Hour).Unix()
	mg.clock.Advance(20 * time.Hour)

	mg.serve(Config{Name: "sid", Keys: before.Keys, Lifetime: 30 * 24 * time.Hour, Importers: []Importer{oldCodec(t, before)}})
	_, body, _ := mg.get("/whoami")
	if want := fmt.Sprintf("exp=%d", end); !strings.HasPrefix(body, "alice from=cookiesession ") || !strings.HasSuffix(body, want) {
		t.Fatalf("import: %q, want expiry %s", body, want)
	}
	mg.expectImport("cookiesession")
	for _, step := range []time.Duration{time.Hour, 2*time.Hour + 59*time.Minute} {
		mg.clock.Advance(step)
		if _, body, lines := mg.get("/touch"); body != fmt.Sprintf("alice exp=%d", end) || len(lines) != 1 {
			t.Fatalf("re-seal %v later: %q, Set-Cookie %q", step, body, lines)
		}
	}
	mg.clock.Advance(time.Minute) // the source's end
	if _, body, _ := mg.get("/whoami"); !strings.HasPrefix(body, " from= ") {
		t.Fatalf("past the source's end: %q", body)
	}
	mg.log.expectOne(t, ErrExpired)
}

// What the source would refuse is refused: an expired or tampered cookie of
// the earlier configuration gives an empty session, a report naming the
// source, and leaves the cookie alone.
func TestImportRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		spoil  func(mg *migration)
		want   error
		cookie func(string) string
	}{
		{"expired", func(mg *migration) { mg.clock.Advance(2 * time.Hour) }, ErrExpired, nil},
		{"tampered", func(*migration) {}, ErrInvalid, func(v string) string {
			return v[:len(v)-3] + map[bool]string{true: "AAA", false: "BBB"}[!strings.HasSuffix(v, "AAA")]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mg := newMigration(t)
			before := Config{Keys: e2eRing(t, "A"), Lifetime: time.Hour}
			mg.serve(before)
			mg.get("/login")
			tc.spoil(mg)
			if tc.cookie != nil {
				old := mg.jar()["session"]
				mg.client.Jar.SetCookies(mg.u, []*http.Cookie{{Name: "session", Value: tc.cookie(old), Path: "/"}})
			}
			mg.serve(Config{Name: "sid", Keys: before.Keys, Importers: []Importer{oldCodec(t, before)}})
			status, body, lines := mg.get("/whoami")
			if status != 200 || !strings.HasPrefix(body, " from= ") || len(lines) != 0 {
				t.Fatalf("refused import: %d %q, Set-Cookie %q", status, body, lines)
			}
			err := mg.log.expectOne(t, tc.want)
			var ie *ImportError
			if !errors.As(err, &ie) || ie.Source != "cookiesession" || errors.Is(err, ErrImported) {
				t.Fatalf("reported as %v", err)
			}
		})
	}
}

// fakeImporter recognises the cookie "legacy" and returns what get makes of
// its value.
type fakeImporter struct {
	source string
	get    func(value string) (*Imported, error)
}

func (f fakeImporter) Source() string { return f.source }

func (f fakeImporter) Import(lookup func(string) []string, now time.Time) (*Imported, error) {
	v := lookup("legacy")
	if len(v) == 0 {
		return nil, nil
	}
	return f.get(v[0])
}

func legacyValues(user string) *Imported {
	return &Imported{Values: map[string]json.RawMessage{"user": json.RawMessage(`"` + user + `"`)}, Cookies: []string{"legacy"}}
}

// loadWith runs one request with Cookie header cookie through m's Handler
// and returns its body ("user from=source") and Set-Cookie lines.
func loadWith(t *testing.T, m *Manager, cookie string, h func(s *Session)) (string, []string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Cookie", cookie)
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		if h != nil {
			h(s)
		}
		fmt.Fprintf(w, "%s from=%s", s.GetString("user"), s.ImportedFrom())
	})).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	return rec.Body.String(), rec.Result().Header.Values("Set-Cookie")
}

// The importer's cookie may share the current cookie's name (a gorilla
// cookie named "session"): the current codec refuses it first, the import
// still happens, and the response seals the name once.
func TestImportSharedName(t *testing.T) {
	imp := fakeImporter{"legacy", func(v string) (*Imported, error) {
		got := legacyValues(v)
		got.Cookies = []string{"session"}
		return got, nil
	}}
	m, _, lg := e2eManager(t, Config{Importers: []Importer{fakeImporter{"none", func(string) (*Imported, error) { return nil, nil }}, importerOn("session", imp)}})
	body, lines := loadWith(t, m, "session=bob", nil)
	if body != "bob from=legacy" || len(lines) != 1 || e2eExpired(t, lines[0]) || !strings.HasPrefix(lines[0], "session=") {
		t.Fatalf("%q, Set-Cookie %q", body, lines)
	}
	lg.expectOne(t, ErrImported)
}

// importerOn is f reading the cookie name instead of "legacy".
func importerOn(name string, f fakeImporter) Importer {
	return lookupRenamed{name, f}
}

type lookupRenamed struct {
	name string
	f    fakeImporter
}

func (l lookupRenamed) Source() string { return l.f.Source() }
func (l lookupRenamed) Import(lookup func(string) []string, now time.Time) (*Imported, error) {
	return l.f.Import(func(n string) []string {
		if n == "legacy" {
			n = l.name
		}
		return lookup(n)
	}, now)
}

// A session the application could not use is a clear refusal, never a 500:
// values that are not JSON, too deep, under a name that is not UTF-8, Go
// values that do not marshal; an importer's error outside the contract is
// made to match ErrInvalid.
func TestImportUnusableValues(t *testing.T) {
	deep := strings.Repeat("[", MaxNesting+1) + strings.Repeat("]", MaxNesting+1) // one past what opening accepts
	_, chanErr := MarshalValues(map[string]any{"c": make(chan int)})
	_, panicErr := MarshalValues(map[string]any{"p": panicky{}})
	for _, tc := range []struct {
		name string
		got  *Imported
		err  error
		msg  string
	}{
		{"not JSON", &Imported{Values: map[string]json.RawMessage{"a": json.RawMessage(`{"x":`)}}, nil, `value "a" is not JSON`},
		{"too deep", &Imported{Values: map[string]json.RawMessage{"a": json.RawMessage(deep)}}, nil, "nested deeper than 64"},
		{"name not UTF-8", &Imported{Values: map[string]json.RawMessage{"\xff": json.RawMessage(`1`)}}, nil, "not valid UTF-8"},
		{"chan", nil, chanErr, `value "c" of type chan int does not marshal`},
		{"MarshalJSON panics", nil, panicErr, "of type cookiesession.panicky does not marshal"},
		{"foreign error", nil, errors.New("legacy store: broken"), "legacy store: broken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got == nil && tc.err == nil {
				t.Fatal("MarshalValues accepted a value that does not marshal")
			}
			m, _, lg := e2eManager(t, Config{Importers: []Importer{fakeImporter{"legacy", func(string) (*Imported, error) { return tc.got, tc.err }}}})
			body, lines := loadWith(t, m, "legacy=1", nil)
			if body != " from=" || len(lines) != 0 {
				t.Fatalf("%q, Set-Cookie %q", body, lines)
			}
			err := lg.expectOne(t, ErrInvalid)
			if fxNoSecrets(t, "log", err.Error()); !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "import from legacy") {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
	if vals, err := MarshalValues(map[string]any{"n": 1, "s": []string{"a"}}); err != nil || string(vals["n"]) != "1" || string(vals["s"]) != `["a"]` {
		t.Errorf("MarshalValues: %q, %v", vals, err)
	}
}

type panicky struct{}

func (panicky) MarshalJSON() ([]byte, error) { panic("boom") }

// The times of an import: the source's issue time is kept, an expired or
// future one refused, NotBefore applies, and a source without times gets a
// session issued now.
func TestImportTimes(t *testing.T) {
	now := e2eStart
	for _, tc := range []struct {
		name      string
		iat, exp  time.Time
		notBefore time.Time
		want      error
		wantIAT   time.Time
		wantExp   time.Time
	}{
		{"no times", time.Time{}, time.Time{}, time.Time{}, nil, now, now.Add(DefaultLifetime)},
		{"issue time kept", now.Add(-time.Hour), time.Time{}, time.Time{}, nil, now.Add(-time.Hour), now.Add(23 * time.Hour)},
		{"shorter source", now.Add(-time.Hour), now.Add(time.Hour), time.Time{}, nil, now.Add(time.Hour - DefaultLifetime), now.Add(time.Hour)},
		{"longer source", now.Add(-time.Hour), now.Add(99 * time.Hour), time.Time{}, nil, now.Add(-time.Hour), now.Add(23 * time.Hour)},
		{"expired", now.Add(-time.Hour), now, time.Time{}, ErrExpired, time.Time{}, time.Time{}},
		{"past our lifetime", now.Add(-DefaultLifetime), time.Time{}, time.Time{}, ErrExpired, time.Time{}, time.Time{}},
		{"future within skew", now.Add(10 * time.Second), time.Time{}, time.Time{}, nil, now.Add(10 * time.Second), now.Add(10*time.Second + DefaultLifetime)},
		{"future beyond skew", now.Add(time.Hour), time.Time{}, time.Time{}, ErrInvalid, time.Time{}, time.Time{}},
		{"before NotBefore", now.Add(-time.Hour), time.Time{}, now.Add(-time.Minute), ErrExpired, time.Time{}, time.Time{}},
		{"after NotBefore", now.Add(-time.Hour), time.Time{}, now.Add(-2 * time.Hour), nil, now.Add(-time.Hour), now.Add(23 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imp := fakeImporter{"legacy", func(v string) (*Imported, error) {
				got := legacyValues(v)
				got.IssuedAt, got.Expiry = tc.iat, tc.exp
				return got, nil
			}}
			m, _, _ := e2eManager(t, Config{NotBefore: tc.notBefore, Importers: []Importer{imp}})
			s, err := m.LoadHeader("legacy=ann")
			if tc.want != nil {
				if !errors.Is(err, tc.want) || s.Len() != 0 {
					t.Fatalf("err %v, %d values; want %v", err, s.Len(), tc.want)
				}
				return
			}
			if err != nil || s.GetString("user") != "ann" || !s.IssuedAt().Equal(tc.wantIAT) || !s.ExpiresAt().Equal(tc.wantExp) {
				t.Fatalf("err %v, user %q, iat %v exp %v; want iat %v exp %v", err, s.GetString("user"), s.IssuedAt(), s.ExpiresAt(), tc.wantIAT, tc.wantExp)
			}
			lines, err := m.SetCookies(s)
			if err != nil || len(lines) != 2 || !e2eExpired(t, lines[1]) {
				t.Fatalf("SetCookies %q, %v", lines, err)
			}
			again, err := m.LoadHeader(lines[0])
			if err != nil || again.GetString("user") != "ann" || !again.ExpiresAt().Equal(tc.wantExp) || !again.IssuedAt().Equal(tc.wantIAT) {
				t.Fatalf("sealed import reopens with %v: iat %v exp %v", err, again.IssuedAt(), again.ExpiresAt())
			}
		})
	}
}

// KeepImported leaves the source's cookies in place; Destroy of an import
// expires them unless kept; an empty import expires them and seals nothing.
func TestImportCookiesExpiry(t *testing.T) {
	imp := fakeImporter{"legacy", func(v string) (*Imported, error) {
		got := legacyValues(v)
		if v == "empty" {
			got.Values = nil
		}
		got.Cookies = append(got.Cookies, "legacy.extra", "legacy", "bad name")
		return got, nil
	}}
	for _, tc := range []struct {
		name  string
		keep  bool
		value string
		h     func(*Session)
		want  []string // cookie names set, then "-name" for expired
	}{
		{"sealed", false, "ann", nil, []string{"session", "-legacy", "-legacy.extra"}},
		{"sealed, kept", true, "ann", nil, []string{"session"}},
		{"destroyed", false, "ann", (*Session).Destroy, []string{"-session", "-legacy", "-legacy.extra"}},
		{"destroyed, kept", true, "ann", (*Session).Destroy, []string{"-session"}},
		{"empty", false, "empty", nil, []string{"-legacy", "-legacy.extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _, lg := e2eManager(t, Config{KeepImported: tc.keep, Importers: []Importer{imp}})
			_, lines := loadWith(t, m, "legacy="+tc.value, tc.h)
			var got []string
			for _, l := range lines {
				name, _, _, _ := e2eLine(t, l)
				if e2eExpired(t, l) {
					name = "-" + name
				}
				got = append(got, name)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Set-Cookie names %q, want %q", got, tc.want)
			}
			lg.expectOne(t, ErrImported)
		})
	}
}

// An import too large for the current cookies is not a 500: the response
// sets nothing, the client keeps the source's cookie, the handler saw the
// values.
func TestImportTooLarge(t *testing.T) {
	big := json.RawMessage(`"` + e2eRandomHex(1, 3*MaxCookieBytes) + `"`)
	imp := fakeImporter{"legacy", func(v string) (*Imported, error) {
		got := legacyValues(v)
		got.Values["big"] = big
		return got, nil
	}}
	m, _, lg := e2eManager(t, Config{Limits: Limits{MaxChunks: 1}, Importers: []Importer{imp}})
	body, lines := loadWith(t, m, "legacy=ann", nil)
	if body != "ann from=legacy" || len(lines) != 0 {
		t.Fatalf("%q, Set-Cookie %q", body, lines)
	}
	errs := lg.take()
	if len(errs) != 2 || !errors.Is(errs[0], ErrImported) || !errors.Is(errs[1], ErrTooLarge) {
		t.Fatalf("logged %v", errs)
	}
}

// Importers run in order: a refusal by one does not stop the next; a request
// with a valid current session runs none; a request with nothing importable
// logs nothing.
func TestImportOrderAndScope(t *testing.T) {
	var calls atomic.Int32
	refuse := fakeImporter{"first", func(string) (*Imported, error) { calls.Add(1); return nil, invalidf("bad signature") }}
	accept := fakeImporter{"second", func(v string) (*Imported, error) { calls.Add(1); return legacyValues(v), nil }}
	m, _, lg := e2eManager(t, Config{Importers: []Importer{refuse, accept}})
	body, lines := loadWith(t, m, "legacy=ann", nil)
	if body != "ann from=second" || calls.Load() != 2 {
		t.Fatalf("%q after %d calls", body, calls.Load())
	}
	lg.expectOne(t, ErrImported)

	calls.Store(0)
	body, _ = loadWith(t, m, "legacy=bob; "+strings.Split(lines[0], ";")[0], nil)
	if body != "ann from=" || calls.Load() != 0 {
		t.Fatalf("with a current session: %q after %d importer calls", body, calls.Load())
	}
	if body, lines = loadWith(t, m, "other=1", nil); body != " from=" || len(lines) != 0 {
		t.Fatalf("nothing importable: %q, %q", body, lines)
	}
	lg.expectNone(t)
}

// Concurrent imports under -race: the importers and the Manager are shared.
func TestImportConcurrent(t *testing.T) {
	m, _, _ := e2eManager(t, Config{Importers: []Importer{oldCodec(t, Config{Name: "old", Keys: e2eRing(t, "A")})}})
	old := oldCodec(t, Config{Name: "old", Keys: e2eRing(t, "A")})
	chunks, err := old.Encode(&Payload{ID: "x", IssuedAt: e2eStart, LastActivity: e2eStart, Expiry: e2eStart.Add(time.Hour),
		Values: map[string]json.RawMessage{"user": json.RawMessage(`"ann"`)}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				s, err := m.LoadHeader(fxCookieHeader(chunks))
				if err != nil || s.GetString("user") != "ann" || s.ImportedFrom() != "cookiesession" {
					t.Errorf("%v %q", err, s.GetString("user"))
					return
				}
			}
		}()
	}
	wg.Wait()
}

// An earlier configuration's session keeps its subject and its remember-me
// choice: a browser-session cookie stays one, a persistent one persistent.
func TestImportKeepsSubjectAndRememberMe(t *testing.T) {
	before := oldCodec(t, Config{Name: "old", Keys: e2eRing(t, "A")})
	for _, tc := range []struct {
		remember RememberMe
		browser  bool // the new Config.BrowserSession
		maxAge   bool // whether the new cookie has Max-Age
	}{
		{RememberNo, false, false},
		{RememberYes, true, true},
		{RememberDefault, true, false},
		{RememberDefault, false, true},
	} {
		chunks, err := before.Encode(&Payload{ID: "x", IssuedAt: e2eStart, LastActivity: e2eStart, Expiry: e2eStart.Add(time.Hour),
			RememberMe: tc.remember, Subject: "user-7", Values: map[string]json.RawMessage{"n": json.RawMessage(`1`)}}, 0)
		if err != nil {
			t.Fatal(err)
		}
		m, _, _ := e2eManager(t, Config{BrowserSession: tc.browser, Importers: []Importer{before}})
		s, err := m.LoadHeader(fxCookieHeader(chunks))
		if err != nil || s.Subject() != "user-7" || s.ImportedFrom() != "cookiesession" {
			t.Fatalf("%+v: %v, subject %q", tc, err, s.Subject())
		}
		lines, err := m.SetCookies(s)
		if err != nil || len(lines) != 2 {
			t.Fatalf("%+v: %q, %v", tc, lines, err)
		}
		if _, _, maxAge, _ := e2eLine(t, lines[0]); (maxAge != "") != tc.maxAge {
			t.Errorf("%+v: Max-Age %q", tc, maxAge)
		}
		again, err := m.LoadHeader(strings.Split(lines[0], ";")[0])
		if err != nil || again.Subject() != "user-7" {
			t.Errorf("%+v: reopened with %v, subject %q", tc, err, again.Subject())
		}
	}
}

// A remember-me import counts with RememberLifetime, both ways: a source
// that allows longer than Lifetime keeps its session, one that allows less
// than RememberLifetime is not extended by later re-seals.
func TestImportRememberLifetime(t *testing.T) {
	now := e2eStart
	for _, tc := range []struct {
		name     string
		iat, exp time.Time
		wantIAT  time.Time
	}{
		{"longer than Lifetime", now.Add(-2 * time.Hour), now.Add(10 * 24 * time.Hour), now.Add(-20 * 24 * time.Hour)},
		{"no source expiry", now.Add(-2 * time.Hour), time.Time{}, now.Add(-2 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			imp := fakeImporter{"legacy", func(v string) (*Imported, error) {
				got := legacyValues(v)
				got.IssuedAt, got.Expiry, got.RememberMe = tc.iat, tc.exp, RememberYes
				return got, nil
			}}
			m, clock, _ := e2eManager(t, Config{Lifetime: time.Hour, RememberLifetime: 30 * 24 * time.Hour, Importers: []Importer{imp}})
			s, err := m.LoadHeader("legacy=ann")
			wantExp := tc.wantIAT.Add(30 * 24 * time.Hour)
			if err != nil || !s.IssuedAt().Equal(tc.wantIAT) || !s.ExpiresAt().Equal(wantExp) {
				t.Fatalf("%v: iat %v exp %v; want %v, %v", err, s.IssuedAt(), s.ExpiresAt(), tc.wantIAT, wantExp)
			}
			lines, err := m.SetCookies(s)
			if err != nil || len(lines) != 2 {
				t.Fatalf("SetCookies %q, %v", lines, err)
			}
			clock.Advance(wantExp.Sub(now) - time.Second)
			again, err := m.LoadHeader(strings.Split(lines[0], ";")[0])
			if err != nil || again.GetString("user") != "ann" {
				t.Fatalf("a second before the end: %v", err)
			}
			again.Set("seen", 1)
			resealed, err := m.SetCookies(again)
			if err != nil || len(resealed) != 1 {
				t.Fatalf("re-seal: %q, %v", resealed, err)
			}
			clock.Advance(time.Second)
			if _, err := m.LoadHeader(strings.Split(resealed[0], ";")[0]); !errors.Is(err, ErrExpired) {
				t.Fatalf("at the source's end: %v", err)
			}
		})
	}
}

// Config.Observer hears of an import: a load imported, with the importer's
// Source as its reason, then a save sealed because of it; a refused import is
// a load refused with its reason.
func TestImportObserved(t *testing.T) {
	var mu sync.Mutex
	var events []Event
	observe := func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	imp := fakeImporter{"legacy", func(v string) (*Imported, error) {
		if v == "old" {
			return nil, expiredf(ReasonLifetime, "too old")
		}
		return legacyValues(v), nil
	}}
	m, _, _ := e2eManager(t, Config{Observer: observe, Importers: []Importer{imp}})
	for _, tc := range []struct {
		cookie string
		want   []string // op/outcome/reason of each event
	}{
		{"legacy=ann", []string{"load/imported/legacy", "save/sealed/imported"}},
		{"legacy=old", []string{"load/expired/lifetime"}},
	} {
		events = nil
		loadWith(t, m, tc.cookie, nil)
		var got []string
		for _, e := range events {
			if e.Op == OpSave && e.Outcome != OutcomeSealed {
				continue // nothing sealed: whatever the save found to do
			}
			got = append(got, e.Op+"/"+e.Outcome+"/"+e.Reason)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: events %q, want %q", tc.cookie, got, tc.want)
		}
	}
}
