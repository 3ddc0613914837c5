package cookiesession

// Revocation without a store: the subject claim, revocation lists and their
// sources, the Validate hook, end to end through Manager.Handler with a
// cookie jar per user and the injected clock.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// revView is what the revocation routes report about the session they saw.
type revView struct {
	ID       string    `json:"id"`
	New      bool      `json:"new"`
	User     string    `json:"user"`
	Subject  string    `json:"subject"`
	IssuedAt time.Time `json:"iat"`
	LoadErr  string    `json:"loadErr"`
}

// revRoutes are the routes of the revocation tests:
//
//	/login?user=U   Renew, SetSubject(U), and "user" = U
//	/read           reports the session, changes nothing
//	/everywhere     revokes the session's subject at now in revs, then Renew:
//	                "log out everywhere else"
func revRoutes(revs *Revocations) func(m *Manager, mux *http.ServeMux) {
	return func(m *Manager, mux *http.ServeMux) {
		view := func(w http.ResponseWriter, s *Session) {
			v := revView{ID: s.ID(), New: s.IsNew(), User: s.GetString("user"), Subject: s.Subject(), IssuedAt: s.IssuedAt()}
			if err := s.LoadError(); err != nil {
				v.LoadErr = err.Error()
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(v)
		}
		mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			user := r.URL.Query().Get("user")
			s.Renew()
			if err := s.SetSubject(user); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			s.Set("user", user)
			if err := s.Save(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			view(w, s)
		})
		mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) { view(w, m.Session(r)) })
		mux.HandleFunc("/everywhere", func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			if err := revs.Revoke(s.Subject(), m.now()); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			s.Renew()
			if err := s.Save(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			view(w, s)
		})
	}
}

// revUser is one browser: its own cookie jar on the test server.
type revUser struct {
	env    *e2eEnv
	client *http.Client
}

func (e *e2eEnv) newUser() *revUser {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c := *e.srv.Client()
	c.Jar, c.Timeout = jar, 30*time.Second
	return &revUser{env: e, client: &c}
}

func (u *revUser) get(path string) (*e2eResp, revView) {
	u.env.t.Helper()
	resp := u.env.do(u.client, http.MethodGet, path, "")
	var v revView
	if err := json.Unmarshal([]byte(resp.body), &v); err != nil {
		u.env.t.Fatalf("GET %s: status %d, body %q: %v", path, resp.status, resp.body, err)
	}
	return resp, v
}

// expectRevoked checks one ErrorLog entry: a *RevokedError of subject.
func expectRevoked(t *testing.T, lg *e2eLog, subject string) *RevokedError {
	t.Helper()
	err := lg.expectOne(t, ErrRevoked)
	var re *RevokedError
	if !errors.As(err, &re) || re.Subject != subject {
		t.Fatalf("ErrorLog got %v, want a *RevokedError of %q", err, subject)
	}
	if errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) {
		t.Fatalf("%v also matches ErrInvalid or ErrExpired", err)
	}
	return re
}

// TestMiddlewareRevokedSubject: a revoked subject's sessions are refused on
// their next request with ErrRevoked, a fresh session and expired cookies;
// other subjects keep theirs; a login after the revocation is kept.
func TestMiddlewareRevokedSubject(t *testing.T) {
	revs := NewRevocations(nil)
	env := newE2E(t, Config{Revocations: revs}, func(m *Manager, mux *http.ServeMux) {
		revRoutes(revs)(m, mux)
		mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			s.Set("visits", s.GetInt("visits")+1)
			fmt.Fprint(w, s.GetInt("visits"))
		})
	})
	alice1, alice2, bob, anon := env.newUser(), env.newUser(), env.newUser(), env.newUser()
	alice1.get("/login?user=alice")
	env.clock.Advance(time.Minute)
	alice2.get("/login?user=alice")
	bob.get("/login?user=bob")
	env.do(anon.client, http.MethodGet, "/count", "")
	env.clock.Advance(time.Minute)
	env.log.expectNone(t)

	if err := revs.Revoke("alice", env.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*revUser{alice1, alice2} {
		resp, v := u.get("/read")
		if !v.New || v.User != "" || v.Subject != "" || !strings.Contains(v.LoadErr, "session revoked") {
			t.Fatalf("revoked alice: %+v", v)
		}
		checkSession(t, resp, 0, "session")
		re := expectRevoked(t, env.log, "alice")
		if !re.NotBefore.Equal(env.clock.Now()) || !re.IssuedAt.Before(re.NotBefore) {
			t.Fatalf("RevokedError %+v", re)
		}
		if got := u.client.Jar.Cookies(env.u); len(got) != 0 {
			t.Fatalf("the jar still holds %v", got)
		}
	}
	resp, v := bob.get("/read")
	if v.New || v.User != "bob" || v.Subject != "bob" {
		t.Fatalf("bob: %+v", v)
	}
	checkReadOnly(t, resp)
	if resp := env.do(anon.client, http.MethodGet, "/count", ""); resp.body != "2" {
		t.Fatalf("a session without subject: count %q, want 2", resp.body)
	}
	env.log.expectNone(t)

	// Logged in again, a second later: after the not-before, kept.
	env.clock.Advance(time.Second)
	alice1.get("/login?user=alice")
	env.clock.Advance(time.Minute)
	if _, v := alice1.get("/read"); v.New || v.Subject != "alice" {
		t.Fatalf("alice after logging in again: %+v", v)
	}
	env.log.expectNone(t)
}

// TestMiddlewareLogOutEverywhere: the session that revokes its own subject
// at now (a fraction into a second) is re-issued and survives its own
// revocation; the same subject's other session, issued within that same
// second just before, does not. Instants round up, so the re-issued session
// is issued at the next second, the not-before.
func TestMiddlewareLogOutEverywhere(t *testing.T) {
	revs := NewRevocations(nil)
	env := newE2E(t, Config{Revocations: revs}, revRoutes(revs))
	env.clock.Advance(400 * time.Millisecond)
	here, there := env.newUser(), env.newUser()
	here.get("/login?user=carol")
	there.get("/login?user=carol") // the same second as the revocation below
	env.clock.Advance(300 * time.Millisecond)

	_, v := here.get("/everywhere")
	second := e2eStart.Add(time.Second)
	if !v.IssuedAt.Equal(second) {
		t.Fatalf("re-issued at %v, want the not-before %v", v.IssuedAt, second)
	}
	if nb, _ := revs.RevocationList().NotBefore("carol"); !nb.Equal(second) {
		t.Fatalf("not-before %v, want %v", nb, second)
	}
	for _, step := range []time.Duration{0, 200 * time.Millisecond, time.Hour} {
		env.clock.Advance(step)
		if _, got := here.get("/read"); got.New || got.Subject != "carol" || got.ID != v.ID {
			t.Fatalf("the current session %v later: %+v", step, got)
		}
	}
	env.log.expectNone(t)
	if _, got := there.get("/read"); !got.New {
		t.Fatalf("the other session: %+v", got)
	}
	expectRevoked(t, env.log, "carol")
}

// TestLogOutEverywhereNoSkew: without a clock-skew allowance a session
// cannot be issued ahead of now, so the one that revokes its own subject
// falls under the revocation until the second has passed (documented on
// Config.Revocations).
func TestLogOutEverywhereNoSkew(t *testing.T) {
	revs := NewRevocations(nil)
	env := newE2E(t, Config{Revocations: revs, Limits: Limits{ClockSkew: -1}}, revRoutes(revs))
	env.clock.Advance(500 * time.Millisecond)
	u := env.newUser()
	u.get("/login?user=dan")
	if _, v := u.get("/everywhere"); !v.IssuedAt.Equal(e2eStart) {
		t.Fatalf("issued at %v, want %v (no skew: never ahead)", v.IssuedAt, e2eStart)
	}
	if _, v := u.get("/read"); !v.New {
		t.Fatalf("want the session refused: %+v", v)
	}
	expectRevoked(t, env.log, "dan")
}

// TestRevocationBoundaries: a session issued one second before the
// not-before is refused, one issued at it is kept; a fraction rounds the
// instant up; entries a lifetime old are pruned at the exact second their
// last possible session expires.
func TestRevocationBoundaries(t *testing.T) {
	revs := NewRevocations(nil)
	env := newE2E(t, Config{Revocations: revs, Lifetime: time.Hour}, revRoutes(revs))
	early, onTime := env.newUser(), env.newUser()
	early.get("/login?user=erin") // issued at e2eStart
	env.clock.Advance(time.Second)
	onTime.get("/login?user=erin") // issued at e2eStart+1s
	nb := e2eStart.Add(time.Second)

	// A fraction of a second before nb rounds up to nb.
	if err := revs.Revoke("erin", nb.Add(-time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if got, _ := revs.RevocationList().NotBefore("erin"); !got.Equal(nb) {
		t.Fatalf("not-before %v, want %v", got, nb)
	}
	if _, v := early.get("/read"); !v.New {
		t.Fatalf("issued 1s before the not-before: %+v", v)
	}
	expectRevoked(t, env.log, "erin")
	if _, v := onTime.get("/read"); v.New {
		t.Fatalf("issued at the not-before: %+v", v)
	}
	env.log.expectNone(t)
	// An earlier instant does not move the not-before back.
	if err := revs.Revoke("erin", e2eStart.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := revs.RevocationList().NotBefore("erin"); !got.Equal(nb) {
		t.Fatalf("not-before moved back to %v", got)
	}

	// Pruning: a session issued at nb-1s, the latest the entry refuses,
	// expires at nb-1s+1h; the entry matters until then and is dropped at
	// nb+1h, a lifetime after its instant.
	list := revs.RevocationList()
	if got := list.Prune(nb.Add(time.Hour-time.Second), time.Hour); got != list || got.Len() != 1 {
		t.Fatalf("pruned a second early: %v", got)
	}
	if got := list.Prune(nb.Add(time.Hour), time.Hour); got.Len() != 0 || list.Len() != 1 {
		t.Fatalf("not pruned at nb+lifetime: %v (the original: %v)", got, list)
	}
	// The Manager prunes a list when it puts it in force, by its own clock
	// and lifetime.
	env.clock.Advance(time.Hour - time.Second) // e2eStart+1h: nb+1h-1s
	if err := revs.Revoke("frank", env.clock.Now()); err != nil {
		t.Fatal(err)
	}
	env.newUser().get("/login?user=gina") // a session with a subject looks the list up
	env.newUser().get("/read")
	u := env.newUser()
	u.get("/login?user=gina")
	u.get("/read")
	if idx := env.m.revocations.Load(); idx == nil || idx.pruned.Len() != 2 {
		t.Fatalf("index at nb+1h-1s: %+v", idx)
	}
	env.clock.Advance(time.Second)
	if err := revs.Revoke("hal", env.clock.Now()); err != nil { // a new list, put in force on the next lookup
		t.Fatal(err)
	}
	u.get("/read")
	idx := env.m.revocations.Load()
	if _, ok := idx.pruned.nb["erin"]; ok || idx.pruned.Len() != 2 || idx.src.Len() != 3 {
		t.Fatalf("index at nb+1h: %v of %v", idx.pruned, idx.src)
	}
	env.log.expectNone(t)
}

// TestValidateHook: Validate refuses a session as a revocation does (fresh
// session, expired cookies, an error matching ErrRevoked and the hook's
// own), keeps the others, is not called when no cookie opened, and gets a
// nil request from LoadHeader.
func TestValidateHook(t *testing.T) {
	errDisabled := errors.New("account disabled")
	var disabled sync.Map
	var calls atomic.Int32
	validate := func(r *http.Request, s *Session) error {
		calls.Add(1)
		if _, off := disabled.Load(s.Subject()); off {
			return fmt.Errorf("user %s: %w", s.Subject(), errDisabled)
		}
		return nil
	}
	revs := NewRevocations(nil)
	env := newE2E(t, Config{Validate: validate}, revRoutes(revs))
	hana, ivan := env.newUser(), env.newUser()
	hana.get("/login?user=hana")
	ivan.get("/login?user=ivan")
	if n := calls.Load(); n != 0 {
		t.Fatalf("Validate called %d times for requests without a cookie", n)
	}
	hana.get("/read")
	if n := calls.Load(); n != 1 {
		t.Fatalf("Validate called %d times, want 1", n)
	}
	disabled.Store("hana", true)
	resp, v := hana.get("/read")
	if !v.New || v.User != "" || v.Subject != "" {
		t.Fatalf("disabled hana: %+v", v)
	}
	checkSession(t, resp, 0, "session")
	err := env.log.expectOne(t, ErrRevoked)
	var re *RevokedError
	if !errors.Is(err, errDisabled) || !errors.As(err, &re) || re.Subject != "hana" || !re.NotBefore.IsZero() || re.IssuedAt.IsZero() {
		t.Fatalf("ErrorLog got %v (%+v)", err, re)
	}
	if _, v := ivan.get("/read"); v.New || v.Subject != "ivan" {
		t.Fatalf("ivan: %+v", v)
	}
	env.log.expectNone(t)

	// The low-level calls: LoadHeader gives Validate no request.
	m, _, _ := e2eManager(t, Config{Validate: func(r *http.Request, s *Session) error {
		if r != nil {
			t.Errorf("LoadHeader passed a request")
		}
		return errDisabled
	}})
	s, _ := m.LoadHeader()
	s.SetSubject("jo")
	s.Set("k", 1)
	got, err := m.LoadHeader(e2eCookieHeader(t, mustLines(t, m, s)))
	if !errors.Is(err, ErrRevoked) || !errors.Is(err, errDisabled) || got.Len() != 0 || got.Subject() != "" || !got.IsNew() {
		t.Fatalf("LoadHeader: %v, session %v", err, got.Keys())
	}
	if lines, err := m.SetCookies(got); err != nil || len(lines) != 1 || !e2eExpired(t, lines[0]) {
		t.Fatalf("SetCookies after a refusal: %q, %v", lines, err)
	}
}

// e2eServe serves GET path with the Cookie header cookie ("" for none)
// straight through h.
func e2eServe(h http.Handler, path, cookie string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "https://example.com"+path, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func mustLines(t testing.TB, m *Manager, s *Session) []string {
	t.Helper()
	lines, err := m.SetCookies(s)
	if err != nil || len(lines) == 0 {
		t.Fatalf("SetCookies: %q, %v", lines, err)
	}
	return lines
}

// TestSessionSubject: the subject is sealed and read back; Renew and Clear
// keep it, Destroy drops it; a session with only a subject is worth a
// cookie; a subject the package would not seal is refused, unchanged.
func TestSessionSubject(t *testing.T) {
	m, _, _ := e2eManager(t, Config{})
	s, _ := m.LoadHeader()
	if err := s.SetSubject("user-1"); err != nil {
		t.Fatal(err)
	}
	got := e2eRoundTrip(t, m, s)
	if got.Subject() != "user-1" || got.Len() != 0 {
		t.Fatalf("a subject-only session: subject %q, %d values", got.Subject(), got.Len())
	}
	got.Renew()
	got.Clear()
	if got = e2eRoundTrip(t, m, got); got.Subject() != "user-1" {
		t.Fatalf("after Renew and Clear: subject %q", got.Subject())
	}
	for _, bad := range []string{strings.Repeat("x", MaxSubjectBytes+1), "a\xffb"} {
		if err := got.SetSubject(bad); err == nil || got.Subject() != "user-1" {
			t.Fatalf("SetSubject(%.20q): %v, subject now %q", bad, err, got.Subject())
		}
	}
	if err := got.SetSubject(strings.Repeat("é", MaxSubjectBytes/2)); err != nil {
		t.Fatalf("a subject of MaxSubjectBytes: %v", err)
	}
	if got = e2eRoundTrip(t, m, got); got.Subject() != strings.Repeat("é", MaxSubjectBytes/2) {
		t.Fatalf("long subject read back as %q", got.Subject())
	}
	got.SetSubject("")
	got.Set("k", 1)
	if got = e2eRoundTrip(t, m, got); got.Subject() != "" {
		t.Fatalf("removed subject read back as %q", got.Subject())
	}
	got.SetSubject("user-2")
	got.Destroy()
	if got.Subject() != "" {
		t.Fatalf("Destroy kept the subject %q", got.Subject())
	}
}

// TestPayloadSubject: the "sub" claim as written, and what the strict
// readers accept and refuse.
func TestPayloadSubject(t *testing.T) {
	p := &Payload{ID: "abc", IssuedAt: time.Unix(100, 0), LastActivity: time.Unix(150, 0), Expiry: time.Unix(200, 0),
		RememberMe: RememberYes, Subject: `a<"b"> é`}
	out := string(appendPayload(nil, p))
	want := `{"sid":"abc","iat":100,"lat":150,"exp":200,"rm":true,"sub":"a\u003c\"b\"\u003e é","v":{}}`
	if out != want {
		t.Fatalf("payload %s, want %s", out, want)
	}
	var q Payload
	if _, ok := parseWritten([]byte(out), &q); !ok || q.Subject != p.Subject {
		t.Fatalf("parseWritten: %v, subject %q", ok, q.Subject)
	}
	for _, good := range []string{
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"sub":"u1","v":{}}`,
		`{"v":{}, "sub":"u1", "exp":200, "lat":150, "iat":100, "sid":"abc"}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"sub":"\u0075\u0031","v":{}}`,
	} {
		ms, err := parsePayload([]byte(good), &q)
		if err != nil || q.Subject != "u1" || len(ms) != 0 {
			t.Fatalf("%s: %v, subject %q", good, err, q.Subject)
		}
	}
	long := strings.Repeat("x", MaxSubjectBytes+1)
	for _, bad := range []string{
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"sub":"","v":{}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"sub":"` + long + `","v":{}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"sub":42,"v":{}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"sub":null,"v":{}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"sub":"a","sub":"b","v":{}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"sub":"a\x01","v":{}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"sub":"a\q","v":{}}`,
		`{"sid":"abc","iat":100,"lat":150,"exp":200,"v":{},"sub":"a","sub":"a"}`,
	} {
		if _, ok := parseWritten([]byte(bad), &q); ok {
			t.Errorf("parseWritten accepted %s", bad)
		}
		if _, err := parseAny([]byte(bad), &q); !errors.Is(err, ErrInvalid) {
			t.Errorf("parseAny: %s: %v", bad, err)
		}
	}
	// Seal refuses what it could not open again.
	c := fxCodec(t, CodecConfig{})
	for _, bad := range []string{long, "a\xffb"} {
		p := fxPayload(t, nil)
		p.Subject = bad
		if _, err := c.Seal(p); err == nil {
			t.Errorf("Seal accepted subject %.20q", bad)
		}
	}
}

// revWrite replaces path with data as an operator's tool does: a temporary
// file renamed over it.
func revWrite(t testing.TB, path string, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func revListJSON(entries ...string) string {
	var parts []string
	for i := 0; i+1 < len(entries); i += 2 {
		parts = append(parts, `{"subject":"`+entries[i]+`","not_before":"`+entries[i+1]+`"}`)
	}
	return `{"revocations":[` + strings.Join(parts, ",") + `]}`
}

// TestRevocationFile: a followed file is re-read once the interval passed
// (injected clock), a malformed one keeps the previous list and is reported
// once, Reload puts a new one in force at once, and the Manager follows it.
func TestRevocationFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "revoked.json")
	revWrite(t, path, revListJSON())
	var mu sync.Mutex
	var errs []error
	var changes []int
	rf, err := OpenRevocationFile(path, &RevocationFileOptions{
		Interval: time.Minute,
		OnError:  func(err error) { mu.Lock(); errs = append(errs, err); mu.Unlock() },
		OnChange: func(l *RevocationList) { mu.Lock(); changes = append(changes, l.Len()); mu.Unlock() },
	})
	if err != nil {
		t.Fatal(err)
	}
	clock := e2eStart
	rf.f.now = func() time.Time { return clock }
	rf.f.next.Store(clock.Add(time.Minute).UnixNano())

	revWrite(t, path, revListJSON("kim", "2026-03-01T10:00:00Z"))
	clock = clock.Add(30 * time.Second)
	if n := rf.RevocationList().Len(); n != 0 {
		t.Fatalf("re-read before the interval: %d entries", n)
	}
	clock = clock.Add(31 * time.Second)
	if nb, ok := rf.RevocationList().NotBefore("kim"); !ok || !nb.Equal(e2eStart) {
		t.Fatalf("after the interval: %v %v", nb, ok)
	}
	// Malformed: the previous list stays, reported once per content.
	revWrite(t, path, revListJSON("kim", "2026-03-01T10:00:00Z")[:20])
	for range 3 {
		clock = clock.Add(2 * time.Minute)
		if rf.RevocationList().Len() != 1 {
			t.Fatal("a malformed file replaced the list")
		}
	}
	mu.Lock()
	if len(errs) != 1 || !errors.Is(errs[0], ErrConfig) || len(changes) != 1 {
		t.Fatalf("OnError %v, OnChange %v", errs, changes)
	}
	mu.Unlock()
	if err := rf.Reload(); !errors.Is(err, ErrConfig) {
		t.Fatalf("Reload of a malformed file: %v", err)
	}
	revWrite(t, path, revListJSON("kim", "2026-03-01T10:00:00Z", "lee", "2026-03-01T10:00:00Z"))
	if err := rf.Reload(); err != nil || rf.RevocationList().Len() != 2 {
		t.Fatalf("Reload: %v, %v", err, rf.RevocationList())
	}
	if s := fmt.Sprint(rf); !strings.Contains(s, "2 subjects") || strings.Contains(s, "kim") {
		t.Fatalf("String = %s", s)
	}
	// A deleted file keeps the list, reported once.
	os.Remove(path)
	for range 2 {
		clock = clock.Add(2 * time.Minute)
		if rf.RevocationList().Len() != 2 {
			t.Fatal("a deleted file emptied the list")
		}
	}
	mu.Lock()
	if len(errs) != 2 {
		t.Fatalf("OnError %v, want the read failure once", errs)
	}
	mu.Unlock()
	// Opening needs a file that parses.
	if _, err := OpenRevocationFile(path, nil); !errors.Is(err, ErrConfig) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestRevocationListHostile: what ParseRevocationList refuses, each with an
// error wrapping ErrConfig; and what it accepts round-trips.
func TestRevocationListHostile(t *testing.T) {
	ok := `{"revocations":[{"subject":"a","not_before":"2026-03-01T10:00:00.5+01:00"},{"subject":"Zoë <z>","not_before":"2026-03-01T10:00:00Z"}]}`
	l, err := ParseRevocationList([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if nb, _ := l.NotBefore("a"); !nb.Equal(time.Date(2026, 3, 1, 9, 0, 1, 0, time.UTC)) {
		t.Fatalf("fraction and offset: %v", nb)
	}
	b, _ := l.MarshalJSON()
	back, err := ParseRevocationList(b)
	if err != nil || fmt.Sprint(back.Revocations()) != fmt.Sprint(l.Revocations()) {
		t.Fatalf("round trip %s: %v", b, err)
	}
	if empty, err := ParseRevocationList([]byte(" {\"revocations\": []}\n")); err != nil || empty.Len() != 0 {
		t.Fatalf("empty list: %v", err)
	}
	keys := `{"keys":[{"kty":"oct","kid":"k","k":"` + fxB64(fxSecret1) + `"}]}`
	big := `{"revocations":[` + strings.Repeat(`{"subject":"x","not_before":"2026-03-01T10:00:00Z"},`, MaxRevocationFileBytes/50) + `]}`
	for name, text := range map[string]string{
		"empty":             "",
		"not JSON":          "revoked: alice",
		"a key ring":        keys,
		"no revocations":    `{}`,
		"null":              `{"revocations":null}`,
		"object not array":  `{"revocations":{"alice":"2026-03-01T10:00:00Z"}}`,
		"unknown member":    `{"revocations":[{"subject":"a","not-before":"2026-03-01T10:00:00Z"}]}`,
		"unknown top":       `{"revocations":[],"extra":1}`,
		"missing time":      `{"revocations":[{"subject":"a"}]}`,
		"missing subject":   `{"revocations":[{"not_before":"2026-03-01T10:00:00Z"}]}`,
		"empty subject":     revListJSON("", "2026-03-01T10:00:00Z"),
		"long subject":      revListJSON(strings.Repeat("s", MaxSubjectBytes+1), "2026-03-01T10:00:00Z"),
		"bad UTF-8":         revListJSON("a\xff", "2026-03-01T10:00:00Z"),
		"subject a number":  `{"revocations":[{"subject":1,"not_before":"2026-03-01T10:00:00Z"}]}`,
		"not RFC 3339":      revListJSON("a", "yesterday"),
		"Unix seconds":      `{"revocations":[{"subject":"a","not_before":1772359200}]}`,
		"twice":             revListJSON("a", "2026-03-01T10:00:00Z", "a", "2026-03-02T10:00:00Z"),
		"trailing data":     revListJSON("a", "2026-03-01T10:00:00Z") + `{}`,
		"over the bound":    big,
		"deeply nested":     `{"revocations":[` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `]}`,
		"truncated":         ok[:len(ok)-3],
		"NUL inside":        revListJSON("a", "2026-03-01T10:00:00Z\x00"),
		"array at the root": `[` + revListJSON("a", "2026-03-01T10:00:00Z") + `]`,
	} {
		if len(text) > MaxRevocationFileBytes != (name == "over the bound") {
			t.Fatalf("%s: %d bytes", name, len(text))
		}
		l, err := ParseRevocationList([]byte(text))
		if !errors.Is(err, ErrConfig) || l != nil {
			t.Errorf("%s: %v, %v", name, l, err)
			continue
		}
		fxNoSecrets(t, name, err.Error())
	}
	if _, err := NewRevocationList(Revocation{Subject: "", NotBefore: e2eStart}); !errors.Is(err, ErrConfig) {
		t.Fatalf("NewRevocationList with an empty subject: %v", err)
	}
	if _, err := l.Revoke(strings.Repeat("s", MaxSubjectBytes+1), e2eStart); !errors.Is(err, ErrConfig) {
		t.Fatalf("Revoke of a long subject: %v", err)
	}
}

// TestRevocationFileReplacedUnderLoad (run it with -race): users of two
// subjects make requests through Handler while the followed file is
// rewritten again and again; once a rewrite revokes "victim", every one of
// its sessions is refused on its next request after the reload and every
// other user's is kept throughout.
func TestRevocationFileReplacedUnderLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "revoked.json")
	revWrite(t, path, revListJSON())
	rf, err := OpenRevocationFile(path, &RevocationFileOptions{Interval: time.Millisecond, OnError: func(err error) { t.Errorf("OnError: %v", err) }})
	if err != nil {
		t.Fatal(err)
	}
	revs := NewRevocations(nil)
	m, _, lg := e2eManager(t, Config{Revocations: rf, Now: time.Now})
	mux := http.NewServeMux()
	revRoutes(revs)(m, mux)
	h := m.Handler(mux)

	// Log in a few users of each subject. The revocation below rounds up to
	// the next second: every victim session is issued before it.
	login := func(user string) string {
		rec := e2eServe(h, "/login?user="+user, "")
		return e2eCookieHeader(t, rec.Header().Values("Set-Cookie"))
	}
	var victims, others []string
	for range 4 {
		victims = append(victims, login("victim"))
		others = append(others, login(fmt.Sprintf("other-%d", len(others))))
	}
	revokeAt := time.Now()

	var stop atomic.Bool
	var wg sync.WaitGroup
	var refused, kept atomic.Int64
	failures := make(chan string, 64)
	// Under GOOS=js a file operation (the writer's, or a reload) completes
	// only when every goroutine is blocked: one worker, which sleeps between
	// requests, lets it; elsewhere eight run at once.
	workers := 8
	if runtime.GOOS == "js" {
		workers = 1
	}
	for i := range workers {
		wg.Go(func() {
			for n := 0; !stop.Load(); n++ {
				cookie := others[(i+n)%len(others)]
				rec := e2eServe(h, "/read", cookie)
				var v revView
				if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v.New {
					failures <- fmt.Sprintf("another user's session lost: %d %s", rec.Code, rec.Body)
					return
				}
				kept.Add(1)
				if rec := e2eServe(h, "/read", victims[(i+n)%len(victims)]); rec.Code != http.StatusOK {
					failures <- fmt.Sprintf("victim: status %d", rec.Code)
					return
				}
				// Block a moment: under GOOS=js a file operation of the
				// writer completes only once every goroutine is blocked.
				time.Sleep(100 * time.Microsecond)
			}
		})
	}
	// Rewrite the file over and over: unrelated subjects, then the victim.
	for i := range 10 {
		revWrite(t, path, revListJSON(fmt.Sprintf("nobody-%d", i), "2026-03-01T10:00:00Z"))
	}
	revWrite(t, path, revListJSON("victim", revokeAt.UTC().Format(time.RFC3339Nano), "nobody", "2026-03-01T10:00:00Z"))
	deadline := time.Now().Add(5 * time.Second)
	for refused.Load() < int64(len(victims)) && time.Now().Before(deadline) {
		refused.Store(0)
		for _, c := range victims {
			var v revView
			json.Unmarshal(e2eServe(h, "/read", c).Body.Bytes(), &v)
			if v.New && strings.Contains(v.LoadErr, "session revoked") {
				refused.Add(1)
			}
		}
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	if refused.Load() != int64(len(victims)) {
		t.Fatalf("%d of %d victim sessions refused within 5s", refused.Load(), len(victims))
	}
	for _, err := range lg.take() {
		var re *RevokedError
		if !errors.As(err, &re) || re.Subject != "victim" {
			t.Fatalf("ErrorLog: %v", err)
		}
	}
	t.Logf("%d requests of other users kept while the file was rewritten 11 times", kept.Load())
}

// TestImportedSubject: an import from an earlier configuration keeps the
// subject, and a revoked subject's session is not imported.
func TestImportedSubject(t *testing.T) {
	old := fxCodec(t, CodecConfig{Name: "old", Keys: e2eRing(t, "A")})
	revs := NewRevocations(nil)
	m, _, _ := e2eManager(t, Config{Importers: []Importer{old}, Revocations: revs})
	p := &Payload{ID: "b2xk", IssuedAt: e2eStart.Add(-time.Hour), LastActivity: e2eStart.Add(-time.Hour),
		Expiry: e2eStart.Add(time.Hour), Subject: "mia", Values: fxValues(t, map[string]any{"k": 1})}
	cookie := "old=" + fxSeal(t, old, p)
	s, err := m.LoadHeader(cookie)
	if err != nil || s.Subject() != "mia" || s.GetInt("k") != 1 {
		t.Fatalf("import: %v, subject %q", err, s.Subject())
	}
	if err := revs.Revoke("mia", e2eStart); err != nil {
		t.Fatal(err)
	}
	s, err = m.LoadHeader(cookie)
	var ie *ImportError
	if !errors.Is(err, ErrRevoked) || !errors.As(err, &ie) || s.Subject() != "" || s.Len() != 0 {
		t.Fatalf("import of a revoked subject: %v, subject %q", err, s.Subject())
	}
}

// BenchmarkRevocation measures what a revocation list costs a request whose
// session has a subject (the one case that looks it up): the read-modify
// request of BenchmarkMiddleware, for a session with a subject, with
//
//	none     no Config.Revocations
//	file     a followed file of 50,000 other subjects (its interval not
//	         due: the lookup, not the re-read)
//
// and the lookup alone (lookup-file), the check an opened payload goes
// through.
func BenchmarkRevocation(b *testing.B) {
	var entries []string
	for i := range 50_000 {
		entries = append(entries, fmt.Sprintf("user-%08d", i), "2026-03-01T10:00:00Z")
	}
	path := filepath.Join(b.TempDir(), "revoked.json")
	revWrite(b, path, revListJSON(entries...))
	rf, err := OpenRevocationFile(path, &RevocationFileOptions{Interval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		src  RevocationSource
	}{{"none", nil}, {"file", rf}} {
		m, _, lg := e2eManager(b, Config{Revocations: c.src, Now: time.Now})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			s.Set("n", s.GetInt("n")+1)
		}))
		s, _ := m.LoadHeader()
		s.SetSubject("user-42")
		s.Set("user", "alice")
		s.Set("n", 1)
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Cookie", e2eCookieHeader(b, mustLines(b, m, s)))
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
		if errs := lg.take(); len(errs) != 0 {
			b.Fatalf("ErrorLog: %v", errs)
		}
		if c.src == nil {
			continue
		}
		p := &Payload{Subject: "user-42", IssuedAt: time.Now()}
		b.Run("lookup-"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if m.checkRevoked(p) != nil {
					b.Fatal("revoked")
				}
			}
		})
	}
}

// TestRevokedNotReimported: a request whose current cookie is revoked is
// not given the session of an importer's cookie instead (an earlier
// configuration's cookie the client kept): the refusal stands.
func TestRevokedNotReimported(t *testing.T) {
	old := fxCodec(t, CodecConfig{Name: "old", Keys: e2eRing(t, "A")})
	revs := NewRevocations(nil)
	m, _, _ := e2eManager(t, Config{Importers: []Importer{old}, Revocations: revs})
	p := &Payload{ID: "b2xk", IssuedAt: e2eStart.Add(-time.Hour), LastActivity: e2eStart.Add(-time.Hour),
		Expiry: e2eStart.Add(time.Hour), Values: fxValues(t, map[string]any{"k": 1})}
	oldCookie := "old=" + fxSeal(t, old, p)
	s, _ := m.LoadHeader()
	s.SetSubject("ned")
	s.Set("k", 2)
	current := e2eCookieHeader(t, mustLines(t, m, s))
	if err := revs.Revoke("ned", e2eStart.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err := m.LoadHeader(current + "; " + oldCookie)
	if !errors.Is(err, ErrRevoked) || got.Len() != 0 || got.ImportedFrom() != "" {
		t.Fatalf("revoked current cookie beside an importable one: %v, %d values, imported %q", err, got.Len(), got.ImportedFrom())
	}
	// Without the revoked cookie the import goes ahead.
	if got, err := m.LoadHeader(oldCookie); err != nil || got.GetInt("k") != 1 {
		t.Fatalf("import alone: %v, k=%d", err, got.GetInt("k"))
	}
}
