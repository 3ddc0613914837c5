package cookiesession

// End-to-end tests of Manager.Handler: a TLS httptest server, a client with a
// cookie jar, and the injected clock of session_test.go's harness.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// e2eView is what the test handlers report about the session they saw.
type e2eView struct {
	ID           string    `json:"id"`
	New          bool      `json:"new"`
	IssuedAt     time.Time `json:"iat"`
	LastActivity time.Time `json:"lat"`
	User         string    `json:"user"`
	N            int       `json:"n"`
	Blob         int       `json:"blob"` // length of the "blob" value
	Flashes      []string  `json:"flashes"`
	Info         OpenInfo  `json:"info"`
	Keys         []string  `json:"keys"`
	LoadErr      bool      `json:"loadErr"`
}

// e2eViewOf reads s without changing it (Flashes is read only when asked).
func e2eViewOf(s *Session, flashes bool) e2eView {
	v := e2eView{
		ID: s.ID(), New: s.IsNew(), IssuedAt: s.IssuedAt(), LastActivity: s.LastActivity(),
		User: s.GetString("user"), N: s.GetInt("n"), Blob: len(s.GetString("blob")),
		Info: s.Info(), Keys: s.Keys(), LoadErr: s.LoadError() != nil,
	}
	if flashes {
		v.Flashes = s.Flashes()
	}
	return v
}

func e2eWriteView(w http.ResponseWriter, v e2eView) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (r *e2eResp) view(t testing.TB) e2eView {
	t.Helper()
	var v e2eView
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("status %d, body %q: %v", r.status, r.body, err)
	}
	return v
}

// e2eRoutes are the usual test routes:
//
//	/read        reports the session, changes nothing
//	/set?k=v&…   sets string values ("n" as an int)
//	/blob?n=N    sets "blob" to N incompressible characters
//	/count       the classic visit counter
//	/destroy     destroys the session
func e2eRoutes(m *Manager, mux *http.ServeMux) {
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		e2eWriteView(w, e2eViewOf(m.Session(r), false))
	})
	mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		for k, v := range r.URL.Query() {
			if k == "n" {
				n, _ := strconv.Atoi(v[0])
				s.Set(k, n)
			} else {
				s.Set(k, v[0])
			}
		}
		e2eWriteView(w, e2eViewOf(s, false))
	})
	mux.HandleFunc("/blob", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		s := m.Session(r)
		s.Set("blob", e2eRandomHex(uint64(n), n))
		e2eWriteView(w, e2eViewOf(s, false))
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		s.Set("visits", s.GetInt("visits")+1)
		fmt.Fprint(w, s.GetInt("visits"))
	})
	mux.HandleFunc("/destroy", func(w http.ResponseWriter, r *http.Request) {
		m.Session(r).Destroy()
		io.WriteString(w, "bye")
	})
}

// e2eExpiredLine is the Set-Cookie line that expires a cookie of the default
// configuration.
func e2eExpiredLine(name string) string {
	return name + "=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax"
}

// checkSession checks a response's Set-Cookie lines: live chunks 0..live-1
// (with the default attributes), then exactly the expired names.
func checkSession(t *testing.T, resp *e2eResp, live int, expired ...string) {
	t.Helper()
	byName := e2eCookieMap(t, resp.lines)
	if len(resp.lines) != live+len(expired) {
		var names []string
		for _, l := range resp.lines {
			name, value, _, _ := e2eLine(t, l)
			names = append(names, fmt.Sprintf("%s(%d bytes)", name, len(value)))
		}
		t.Errorf("Set-Cookie for %q, want %d live and %q expired", names, live, expired)
	}
	for i := 0; i < live; i++ {
		name := ChunkName(DefaultName, i)
		line, ok := byName[name]
		if !ok {
			t.Errorf("no Set-Cookie for %s", name)
			continue
		}
		_, value, maxAge, attrs := e2eLine(t, line)
		if value == "" || maxAge == "0" || !slices.Equal(attrs, []string{"Path=/", "HttpOnly", "Secure", "SameSite=Lax"}) {
			t.Errorf("live cookie %.80q…", line)
		}
		if len(line) > MaxCookieBytes {
			t.Errorf("Set-Cookie for %s is %d bytes, over %d", name, len(line), MaxCookieBytes)
		}
		if i == 0 && (live > 1) != strings.HasPrefix(value, strconv.Itoa(live)+"~") {
			t.Errorf("first cookie %.20q… does not announce %d chunks", value, live)
		}
	}
	for _, name := range expired {
		if got := byName[name]; got != e2eExpiredLine(name) {
			t.Errorf("Set-Cookie for %s = %q, want %q", name, got, e2eExpiredLine(name))
		}
	}
}

// checkNoCookieHeaders checks a response that must not touch the session.
func checkNoCookieHeaders(t *testing.T, resp *e2eResp) {
	t.Helper()
	if len(resp.lines) != 0 || len(resp.header.Values("Vary")) != 0 || resp.header.Get("Cache-Control") != "" {
		t.Errorf("want no Set-Cookie, Vary or Cache-Control; got %q, Vary %q, Cache-Control %q",
			resp.lines, resp.header.Values("Vary"), resp.header.Get("Cache-Control"))
	}
}

// checkReadOnly checks a response that loaded the session and wrote no
// cookie: Vary: Cookie (it depends on the cookie), and no Set-Cookie or
// Cache-Control of ours.
func checkReadOnly(t *testing.T, resp *e2eResp) {
	t.Helper()
	if len(resp.lines) != 0 || !slices.Equal(resp.header.Values("Vary"), []string{"Cookie"}) || resp.header.Get("Cache-Control") != "" {
		t.Errorf("want Vary: Cookie and no Set-Cookie or Cache-Control; got %q, Vary %q, Cache-Control %q",
			resp.lines, resp.header.Values("Vary"), resp.header.Get("Cache-Control"))
	}
}

// ---------------------------------------------------------------------------

func TestMiddlewareCounter(t *testing.T) {
	for _, mode := range []Mode{Encrypted, Signed} {
		t.Run(mode.String(), func(t *testing.T) {
			env := newE2E(t, Config{Mode: mode}, e2eRoutes)
			for want := 1; want <= 3; want++ {
				resp := env.get("/count")
				if resp.status != http.StatusOK || resp.body != strconv.Itoa(want) {
					t.Fatalf("visit %d: %d %q", want, resp.status, resp.body)
				}
				checkSession(t, resp, 1)
			}
			if got := env.jarNames(); !slices.Equal(got, []string{"session"}) {
				t.Errorf("jar holds %q", got)
			}
			// Another client starts from one.
			if resp := env.getWith("/count", ""); resp.body != "1" {
				t.Errorf("new client: %q", resp.body)
			}
			env.log.expectNone(t)
		})
	}
}

func TestMiddlewareInsecureOverHTTP(t *testing.T) {
	env := newE2E(t, Config{Insecure: true}, e2eRoutes)
	if !strings.HasPrefix(env.srv.URL, "http://") {
		t.Fatal("want a plain HTTP server")
	}
	for want := 1; want <= 2; want++ {
		resp := env.get("/count")
		if resp.body != strconv.Itoa(want) {
			t.Fatalf("visit %d: %q", want, resp.body)
		}
		if c, _ := http.ParseSetCookie(resp.lines[0]); c.Secure {
			t.Errorf("Insecure cookie has Secure: %q", resp.lines[0])
		}
	}
}

func TestMiddlewareLoginRenewsAndFlash(t *testing.T) {
	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			s.Renew()
			s.Set("user", "alice")
			s.AddFlash("welcome, alice")
			e2eWriteView(w, e2eViewOf(s, false))
		})
		mux.HandleFunc("/show", func(w http.ResponseWriter, r *http.Request) {
			e2eWriteView(w, e2eViewOf(m.Session(r), true))
		})
	})
	env.get("/set?n=7")
	before := env.get("/show").view(t)
	if before.New || before.ID == "" || !before.IssuedAt.Equal(e2eStart) || before.N != 7 || before.Flashes != nil {
		t.Fatalf("before login: %+v", before)
	}
	anonymous := env.jarHeader()

	env.clock.Advance(5 * time.Minute)
	login := env.get("/login")
	checkSession(t, login, 1)
	if v := login.view(t); v.ID == before.ID || len(v.ID) != 22 {
		t.Errorf("Renew kept the identity %q", v.ID)
	}
	after := env.get("/show")
	v := after.view(t)
	if v.ID != login.view(t).ID || v.ID == before.ID {
		t.Errorf("after login: ID %q, login's %q, before %q", v.ID, login.view(t).ID, before.ID)
	}
	if !v.IssuedAt.Equal(e2eStart.Add(5*time.Minute)) || v.User != "alice" || v.N != 7 {
		t.Errorf("after login: %+v; want IssuedAt moved, values kept", v)
	}
	if !slices.Equal(v.Flashes, []string{"welcome, alice"}) {
		t.Errorf("flashes %q", v.Flashes)
	}
	checkSession(t, after, 1) // the flash was taken: written back
	again := env.get("/show").view(t)
	if again.Flashes != nil || again.User != "alice" {
		t.Errorf("flash shown twice: %+v", again)
	}
	// The cookie from before login holds the old, anonymous identity.
	if old := env.getWith("/show", anonymous).view(t); old.ID != before.ID || old.User != "" {
		t.Errorf("pre-login cookie: %+v", old)
	}
	env.log.expectNone(t)
}

func TestMiddlewareChunksGrowAndShrink(t *testing.T) {
	env := newE2E(t, Config{Limits: Limits{HeaderBudget: 16384}}, e2eRoutes)
	steps := []struct {
		blob    int
		live    int
		expired []string
	}{
		{10, 1, nil},
		{7000, 3, nil},
		{9000, 4, nil},
		{7000, 3, []string{"session.3"}},
		{3500, 2, []string{"session.2"}},
		{10, 1, []string{"session.1"}},
		{9000, 4, nil},
		{20, 1, []string{"session.1", "session.2", "session.3"}},
	}
	for _, st := range steps {
		resp := env.get("/blob?n=" + strconv.Itoa(st.blob))
		checkSession(t, resp, st.live, st.expired...)
		want := []string{"session"}
		for i := 1; i < st.live; i++ {
			want = append(want, ChunkName(DefaultName, i))
		}
		if got := env.jarNames(); !slices.Equal(got, want) {
			t.Errorf("blob %d: jar holds %q, want %q", st.blob, got, want)
		}
		read := env.get("/read")
		checkSession(t, read, 0)
		if v := read.view(t); v.Blob != st.blob || v.Info.Chunks != st.live || v.LoadErr {
			t.Errorf("blob %d: read %+v", st.blob, v)
		}
	}
	env.log.expectNone(t)
}

func TestMiddlewareDestroyExpiresEveryChunk(t *testing.T) {
	env := newE2E(t, Config{Limits: Limits{HeaderBudget: 16384}}, e2eRoutes)
	env.get("/set?user=zed")
	checkSession(t, env.get("/blob?n=7000"), 3)
	resp := env.get("/destroy")
	checkSession(t, resp, 0, "session", "session.1", "session.2")
	if resp.body != "bye" || resp.status != http.StatusOK {
		t.Errorf("destroy: %d %q", resp.status, resp.body)
	}
	if got := env.jarNames(); len(got) != 0 {
		t.Errorf("jar holds %q after Destroy", got)
	}
	if v := env.get("/read").view(t); !v.New || v.User != "" || v.LoadErr {
		t.Errorf("after Destroy: %+v", v)
	}
	// A request carrying one cookie gets that one expired.
	env.get("/set?user=zed")
	checkSession(t, env.get("/destroy"), 0, "session")
	// A request carrying none still expires the cookie's name.
	checkSession(t, env.getWith("/destroy", ""), 0, "session")
	env.log.expectNone(t)
}

func TestMiddlewareIdleTimeout(t *testing.T) {
	env := newE2E(t, Config{Lifetime: time.Hour, IdleTimeout: 10 * time.Minute}, e2eRoutes)
	env.get("/set?user=ida")
	env.clock.Advance(9*time.Minute + 59*time.Second)
	resp := env.get("/read") // kept, and touched: 9m59s is over the 1m touch interval
	if v := resp.view(t); v.User != "ida" {
		t.Fatalf("before the idle timeout: %+v", v)
	}
	checkSession(t, resp, 1)
	env.clock.Advance(9 * time.Minute)
	if v := env.get("/read").view(t); v.User != "ida" || !v.LastActivity.Equal(e2eStart.Add(9*time.Minute+59*time.Second)) {
		t.Fatalf("touched session: %+v", v)
	}
	// The touch above was at 18m59s; idle for the whole window now.
	env.clock.Advance(10 * time.Minute)
	resp = env.get("/read")
	if v := resp.view(t); v.User != "" || !v.New || !v.LoadErr {
		t.Errorf("after the idle timeout: %+v", v)
	}
	checkSession(t, resp, 0, "session")
	env.log.expectOne(t, ErrExpired)
	if got := env.jarNames(); len(got) != 0 {
		t.Errorf("jar holds %q", got)
	}
}

func TestMiddlewareAbsoluteLifetime(t *testing.T) {
	env := newE2E(t, Config{Lifetime: time.Hour, SaveEveryRequest: true}, e2eRoutes)
	env.get("/set?user=abe")
	for _, step := range []time.Duration{20 * time.Minute, 20 * time.Minute, 19*time.Minute + 59*time.Second} {
		env.clock.Advance(step)
		resp := env.get("/read")
		v := resp.view(t)
		if v.User != "abe" || !v.IssuedAt.Equal(e2eStart) {
			t.Fatalf("within the lifetime: %+v", v)
		}
		// Re-issued on every request, the sealed expiry never moves.
		_, _, maxAge, _ := e2eLine(t, resp.lines[0])
		left := e2eStart.Add(time.Hour).Sub(env.clock.Now())
		if maxAge != strconv.Itoa(int(left/time.Second)) {
			t.Errorf("Max-Age %s, want %d", maxAge, int(left/time.Second))
		}
	}
	env.clock.Advance(time.Second)
	resp := env.get("/read")
	if v := resp.view(t); v.User != "" || !v.New {
		t.Errorf("past the lifetime: %+v", v)
	}
	checkSession(t, resp, 0, "session")
	env.log.expectOne(t, ErrExpired)
}

func TestMiddlewareTouchInterval(t *testing.T) {
	env := newE2E(t, Config{IdleTimeout: 10 * time.Minute, TouchInterval: 2 * time.Minute}, e2eRoutes)
	checkSession(t, env.get("/set?user=tom"), 1)
	env.clock.Advance(time.Minute)
	checkSession(t, env.get("/read"), 0)
	env.clock.Advance(59 * time.Second)
	checkSession(t, env.get("/read"), 0) // 1m59s: not yet
	env.clock.Advance(time.Second)
	resp := env.get("/read") // 2m: re-issued, unmodified
	checkSession(t, resp, 1)
	if v := resp.view(t); !v.LastActivity.Equal(e2eStart) {
		t.Errorf("the touching request saw LastActivity %v", v.LastActivity)
	}
	if _, _, maxAge, _ := e2eLine(t, resp.lines[0]); maxAge != "600" {
		t.Errorf("touched cookie Max-Age %s, want a whole idle window", maxAge)
	}
	env.clock.Advance(10 * time.Second)
	resp = env.get("/read")
	checkSession(t, resp, 0)
	if v := resp.view(t); !v.LastActivity.Equal(e2eStart.Add(2*time.Minute)) || v.User != "tom" || !v.IssuedAt.Equal(e2eStart) {
		t.Errorf("after the touch: %+v", v)
	}
	env.log.expectNone(t)
}

func TestMiddlewareSaveEveryRequest(t *testing.T) {
	for _, every := range []bool{false, true} {
		t.Run(fmt.Sprint(every), func(t *testing.T) {
			env := newE2E(t, Config{Lifetime: time.Hour, SaveEveryRequest: every}, e2eRoutes)
			env.get("/set?user=sue")
			for i := 1; i <= 3; i++ {
				env.clock.Advance(10 * time.Minute)
				resp := env.get("/read")
				if !every {
					checkSession(t, resp, 0)
					continue
				}
				checkSession(t, resp, 1)
				if _, _, maxAge, _ := e2eLine(t, resp.lines[0]); maxAge != strconv.Itoa(3600-600*i) {
					t.Errorf("request %d: Max-Age %s", i, maxAge)
				}
				if v := resp.view(t); !v.LastActivity.Equal(env.clock.Now().Add(-10 * time.Minute)) {
					t.Errorf("request %d: LastActivity %v", i, v.LastActivity)
				}
			}
		})
	}
}

func TestMiddlewareRotationReseals(t *testing.T) {
	keys := NewKeys(e2eRing(t, "A"))
	env := newE2E(t, Config{Keys: keys}, e2eRoutes)
	resp := env.get("/set?user=rot")
	_, value, _, _ := e2eLine(t, resp.lines[0])
	if kid := e2eKid(t, value); kid != "A" {
		t.Fatalf("kid %q, want A", kid)
	}
	cookieA := env.jarHeader()

	keys.Replace(e2eRing(t, "B", "A"))
	resp = env.get("/read") // no modification: re-sealed with the primary
	v := resp.view(t)
	if v.User != "rot" || v.Info.KeyID != "A" || v.Info.Primary {
		t.Errorf("opened with A under {B, A}: %+v", v)
	}
	checkSession(t, resp, 1)
	_, value, _, _ = e2eLine(t, resp.lines[0])
	if kid := e2eKid(t, value); kid != "B" {
		t.Errorf("re-sealed with kid %q, want B", kid)
	}
	resp = env.get("/read")
	if v := resp.view(t); v.Info.KeyID != "B" || !v.Info.Primary || v.User != "rot" {
		t.Errorf("after re-seal: %+v", v)
	}
	checkSession(t, resp, 0)

	// {B} alone: the A cookie is refused, the client gets a fresh session.
	keys.Replace(e2eRing(t, "B"))
	resp = env.getWith("/read", cookieA)
	if resp.status != http.StatusOK {
		t.Fatalf("A cookie under {B}: status %d", resp.status)
	}
	if v := resp.view(t); v.User != "" || !v.New || !v.LoadErr {
		t.Errorf("A cookie under {B}: %+v", v)
	}
	checkSession(t, resp, 0, "session")
	env.log.expectOne(t, ErrInvalid)
	if v := env.get("/read").view(t); v.User != "rot" || v.Info.KeyID != "B" {
		t.Errorf("B cookie under {B}: %+v", v)
	}
	env.log.expectNone(t)
}

// e2eTamper changes one character in the middle of a sealed value's
// ciphertext (or payload, in Signed mode), or of a chunk, keeping it
// base64url.
func e2eTamper(value string) string {
	segs := strings.Split(value, ".")
	i := max(len(segs)-2, 0) // ciphertext (JWE), payload (JWS) or the whole chunk
	b := []byte(segs[i])
	j := len(b) / 2
	if b[j] == 'A' {
		b[j] = 'B'
	} else {
		b[j] = 'A'
	}
	segs[i] = string(b)
	return strings.Join(segs, ".")
}

func TestMiddlewareTamperedCookie(t *testing.T) {
	for _, mode := range []Mode{Encrypted, Signed} {
		t.Run(mode.String(), func(t *testing.T) {
			env := newE2E(t, Config{Mode: mode, Limits: Limits{HeaderBudget: 16384}}, func(m *Manager, mux *http.ServeMux) {
				e2eRoutes(m, mux)
				mux.HandleFunc("/peek", func(w http.ResponseWriter, r *http.Request) {
					fmt.Fprintf(w, "user=%s", m.Session(r).GetString("user"))
				})
			})
			small := env.get("/set?user=mallory")
			_, value, _, _ := e2eLine(t, small.lines[0])
			env.get("/blob?n=7000")
			chunks := e2eCookieMap(t, env.get("/blob?n=7000").lines)
			chunked := make(map[string]string)
			for name, line := range chunks {
				_, v, _, _ := e2eLine(t, line)
				chunked[name] = v
			}
			first := chunked["session"]

			tests := []struct {
				name, cookie string
				expired      []string
			}{
				{"flipped", "session=" + e2eTamper(value), []string{"session"}},
				{"truncated", "session=" + value[:len(value)-4], []string{"session"}},
				{"garbage", "session=%%%<script>", []string{"session"}},
				{"empty", "session=", []string{"session"}},
				{"twice", "session=" + value + "; session=" + value, []string{"session"}},
				{"flipped chunk", "session=" + first + "; session.1=" + e2eTamper(chunked["session.1"]) + "; session.2=" + chunked["session.2"],
					[]string{"session", "session.1", "session.2"}},
				{"missing chunk", "session=" + first + "; session.2=" + chunked["session.2"], []string{"session", "session.2"}},
				{"swapped chunks", "session=" + first + "; session.1=" + chunked["session.2"] + "; session.2=" + chunked["session.1"],
					[]string{"session", "session.1", "session.2"}},
				{"debris without the first cookie", "session.1=" + chunked["session.1"] + "; session.3=" + chunked["session.2"], []string{"session.1", "session.3"}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					resp := env.getWith("/read", tc.cookie)
					if resp.status != http.StatusOK {
						t.Fatalf("status %d", resp.status)
					}
					if v := resp.view(t); v.User != "" || v.Blob != 0 || !v.New || !v.LoadErr {
						t.Errorf("session %+v, want fresh", v)
					}
					checkSession(t, resp, 0, tc.expired...)
					err := env.log.expectOne(t, ErrInvalid)
					if errors.Is(err, ErrExpired) {
						t.Errorf("%v also matches ErrExpired", err)
					}

					resp = env.getWith("/peek", tc.cookie)
					if resp.status != http.StatusOK || resp.body != "user=" {
						t.Errorf("peek: %d %q", resp.status, resp.body)
					}
					checkSession(t, resp, 0, tc.expired...)
					env.log.expectOne(t, ErrInvalid)
					checkNoLeak(t, resp)

					// A handler that writes replaces the bad cookie with a new one.
					resp = env.getWith("/count", tc.cookie)
					if resp.body != "1" {
						t.Errorf("counter on a bad cookie: %q", resp.body)
					}
					live := e2eCookieMap(t, resp.lines)
					if _, value, _, _ := e2eLine(t, live["session"]); value == "" {
						t.Errorf("no new cookie: %q", resp.lines)
					}
					for _, name := range tc.expired[1:] {
						if live[name] != e2eExpiredLine(name) {
							t.Errorf("%s not expired: %q", name, live[name])
						}
					}
					env.log.expectOne(t, ErrInvalid)
					checkNoLeak(t, resp)
				})
			}
		})
	}
}

// checkNoLeak checks that nothing of why a cookie was refused reaches the
// client.
func checkNoLeak(t *testing.T, resp *e2eResp) {
	t.Helper()
	var all strings.Builder
	all.WriteString(resp.body)
	for k, vs := range resp.header {
		all.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
	}
	text := strings.ToLower(all.String())
	for _, bad := range []string{"go-jose", "jose", "invalid", "authentication", "cookiesession", "tamper", "chunk", "expired", "error"} {
		if strings.Contains(text, bad) {
			t.Errorf("response mentions %q:\n%s", bad, all.String())
		}
	}
}

func TestMiddlewareTooLargeSave(t *testing.T) {
	huge := e2eRandomHex(9, 20000)
	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/grow-save", func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			s.Set("user", "changed")
			s.Set("blob", huge)
			err := s.Save()
			var se *SizeError
			fmt.Fprintf(w, "as=%v is=%v what=%s size=%v budget=%v user=%s blob=%v",
				errors.As(err, &se), errors.Is(err, ErrTooLarge), se.What, se.Size > se.Budget, se.Budget,
				s.GetString("user"), s.Has("blob"))
		})
	})
	env.get("/set?user=alice")
	before := env.jarCookies()
	resp := env.get("/grow-save")
	if resp.status != http.StatusOK || resp.body != "as=true is=true what=chunks size=true budget=4 user=alice blob=false" {
		t.Errorf("handler saw %d %q", resp.status, resp.body)
	}
	if len(resp.lines) != 0 {
		t.Errorf("Set-Cookie %q, want none", resp.lines)
	}
	if got := env.jarCookies(); !equalMaps(got, before) {
		t.Error("jar changed")
	}
	if v := env.get("/read").view(t); v.User != "alice" || v.Blob != 0 {
		t.Errorf("next request: %+v", v)
	}
	env.log.expectNone(t) // the handler had the error
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestMiddlewareTooLargeHandler(t *testing.T) {
	huge := e2eRandomHex(9, 20000)
	var writeErr atomic.Value
	grow := func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/grow", func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			s.Set("user", "changed")
			s.Set("blob", huge)
			w.Header().Set("X-Handler", "grow")
			_, err := io.WriteString(w, "should not be sent")
			writeErr.Store(fmt.Sprint(err))
		})
		mux.HandleFunc("/grow-silent", func(w http.ResponseWriter, r *http.Request) {
			m.Session(r).Set("blob", huge)
		})
	}
	check := func(t *testing.T, env *e2eEnv, path string, status int, body string) {
		t.Helper()
		env.get("/set?user=alice")
		before := env.jarCookies()
		resp := env.get(path)
		if resp.status != status || resp.body != body {
			t.Errorf("%s: %d %q, want %d %q", path, resp.status, resp.body, status, body)
		}
		if len(resp.lines) != 0 {
			t.Errorf("%s: Set-Cookie %q", path, resp.lines)
		}
		err := env.log.expectOne(t, ErrTooLarge)
		var se *SizeError
		if !errors.As(err, &se) || se.Size <= se.Budget {
			t.Errorf("ErrorLog got %v, want a *SizeError", err)
		}
		if got := env.jarCookies(); !equalMaps(got, before) {
			t.Errorf("%s: jar changed", path)
		}
		if v := env.get("/read").view(t); v.User != "alice" || v.Blob != 0 {
			t.Errorf("%s: next request saw %+v", path, v)
		}
	}

	t.Run("default", func(t *testing.T) {
		env := newE2E(t, Config{}, grow)
		check(t, env, "/grow", http.StatusInternalServerError, "Internal Server Error\n")
		if got := writeErr.Load(); got == "<nil>" {
			t.Error("the handler's Write succeeded after the save failed")
		}
		check(t, env, "/grow-silent", http.StatusInternalServerError, "Internal Server Error\n")
	})

	t.Run("custom", func(t *testing.T) {
		var handled atomic.Int32
		env := newE2E(t, Config{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("ErrorHandler got %v", err)
			}
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			io.WriteString(w, "too big")
			handled.Add(1)
		}}, grow)
		check(t, env, "/grow", http.StatusRequestEntityTooLarge, "too big")
		check(t, env, "/grow-silent", http.StatusRequestEntityTooLarge, "too big")
		if handled.Load() != 2 {
			t.Errorf("ErrorHandler called %d times", handled.Load())
		}
	})
}

func TestMiddlewareConcurrentSession(t *testing.T) {
	const goroutines, ops = 32, 100
	var distinct atomic.Int32
	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/concurrent", func(w http.ResponseWriter, r *http.Request) {
			var wg sync.WaitGroup
			sessions := make([]*Session, goroutines)
			for g := range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := m.Session(r) // the first calls race to load it
					sessions[g] = s
					own := fmt.Sprintf("g%02d", g)
					for i := range ops {
						tmp := fmt.Sprintf("%s-%d", own, i%4)
						s.Set(tmp, i)
						_ = s.GetInt(tmp)
						_, _ = Get[int](s, tmp)
						_ = s.Get("user")
						_ = s.Keys()
						_ = s.Len()
						_ = s.Has(own)
						if i%10 == 0 {
							s.AddFlash(own)
						}
						s.Delete(tmp)
						s.Set(own, s.GetInt(own)+1)
					}
					_ = s.Raw(own)
					_ = s.Info()
					_ = s.ID()
				}()
			}
			wg.Wait()
			for _, s := range sessions[1:] {
				if s != sessions[0] {
					distinct.Add(1)
				}
			}
			s := sessions[0]
			fmt.Fprintf(w, "%d %d", s.Len(), len(s.Flashes()))
		})
	})
	env.get("/set?user=conc")
	resp := env.get("/concurrent")
	if want := fmt.Sprintf("%d %d", goroutines+1, goroutines*ops/10); resp.body != want {
		t.Errorf("body %q, want %q", resp.body, want)
	}
	if distinct.Load() != 0 {
		t.Errorf("Session returned %d other sessions for one request", distinct.Load())
	}
	checkSession(t, resp, 1)
	v := env.get("/read").view(t)
	if len(v.Keys) != goroutines+1 || v.User != "conc" {
		t.Errorf("after: %+v", v)
	}
	env.log.expectNone(t)
}

func TestMiddlewareFlush(t *testing.T) {
	for _, how := range []string{"ResponseController", "Flusher", "write then flush"} {
		t.Run(how, func(t *testing.T) {
			release := make(chan struct{})
			var once sync.Once
			done := func() { once.Do(func() { close(release) }) }
			t.Cleanup(done)
			var lateErr atomic.Value
			env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
				e2eRoutes(m, mux)
				mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
					s := m.Session(r)
					s.Set("user", "streamer")
					switch how {
					case "ResponseController":
						lateErr.Store(fmt.Sprint(http.NewResponseController(w).Flush()))
						io.WriteString(w, "first\n")
						http.NewResponseController(w).Flush()
					case "Flusher":
						w.(http.Flusher).Flush()
						io.WriteString(w, "first\n")
						w.(http.Flusher).Flush()
					default:
						io.WriteString(w, "first\n")
						lateErr.Store(fmt.Sprint(http.NewResponseController(w).Flush()))
					}
					<-release
					io.WriteString(w, "second\n")
				})
			})
			type result struct {
				resp *http.Response
				err  error
			}
			got := make(chan result, 1)
			go func() {
				resp, err := env.client.Get(env.srv.URL + "/stream")
				got <- result{resp, err}
			}()
			var res result
			select {
			case res = <-got:
			case <-time.After(10 * time.Second):
				t.Fatal("the headers were not flushed")
			}
			if res.err != nil {
				t.Fatal(res.err)
			}
			defer res.resp.Body.Close()
			// The handler is still running: these are the flushed headers.
			lines := res.resp.Header.Values("Set-Cookie")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "session=") {
				t.Errorf("flushed headers carry Set-Cookie %q", lines)
			}
			e2eCheckUncacheable(t, res.resp.Header)
			br := bufio.NewReader(res.resp.Body)
			if line, err := br.ReadString('\n'); line != "first\n" || err != nil {
				t.Errorf("first line %q, %v", line, err)
			}
			done()
			if rest, err := io.ReadAll(br); string(rest) != "second\n" || err != nil {
				t.Errorf("rest %q, %v", rest, err)
			}
			if v := env.get("/read").view(t); v.User != "streamer" {
				t.Errorf("after streaming: %+v", v)
			}
			if e, ok := lateErr.Load().(string); ok && e != "<nil>" {
				t.Errorf("ResponseController.Flush: %s", e)
			}
			env.log.expectNone(t)
		})
	}
}

func TestMiddlewareResponseControllerDeadlines(t *testing.T) {
	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		mux.HandleFunc("/deadline", func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			m.Session(r).Set("user", "dee")
			fmt.Fprintf(w, "write=%v read=%v duplex=%v",
				rc.SetWriteDeadline(time.Now().Add(time.Minute)),
				rc.SetReadDeadline(time.Now().Add(time.Minute)),
				rc.EnableFullDuplex())
		})
	})
	resp := env.get("/deadline")
	if resp.body != "write=<nil> read=<nil> duplex=<nil>" {
		t.Errorf("ResponseController through the middleware: %q", resp.body)
	}
	checkSession(t, resp, 1)
}

func TestMiddlewareHijack(t *testing.T) {
	var hijackErr atomic.Value
	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
			m.Session(r).Set("user", "jack")
			conn, brw, err := http.NewResponseController(w).Hijack()
			hijackErr.Store(fmt.Sprint(err))
			if err != nil {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\nhijacked")
			brw.Flush()
		})
	})
	env.get("/set?user=before")
	resp := env.get("/hijack")
	if got := hijackErr.Load(); got != "<nil>" {
		t.Fatalf("Hijack: %v", got)
	}
	if resp.status != http.StatusOK || resp.body != "hijacked" || len(resp.lines) != 0 {
		t.Errorf("hijacked response: %d %q %q", resp.status, resp.body, resp.lines)
	}
	if v := env.get("/read").view(t); v.User != "before" {
		t.Errorf("a hijacked connection wrote a cookie: %+v", v)
	}
	env.log.expectNone(t)
}

func TestMiddlewareNoWriteHEADAnd1xx(t *testing.T) {
	var infos []textproto.MIMEHeader
	var codes []int
	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/silent", func(w http.ResponseWriter, r *http.Request) {
			m.Session(r).Set("user", "silent")
		})
		mux.HandleFunc("/early-hints", func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			s.Set("user", "hinted")
			w.Header().Set("Link", "</app.css>; rel=preload; as=style")
			w.WriteHeader(http.StatusEarlyHints)
			s.Set("n", 103) // still before the final headers
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, "final")
		})
	})

	resp := env.get("/silent")
	if resp.status != http.StatusOK || resp.body != "" {
		t.Errorf("silent handler: %d %q", resp.status, resp.body)
	}
	checkSession(t, resp, 1)

	req, _ := http.NewRequest(http.MethodHead, env.srv.URL+"/count", nil)
	resp = env.send(env.client, req)
	if resp.status != http.StatusOK || resp.body != "" {
		t.Errorf("HEAD: %d %q", resp.status, resp.body)
	}
	checkSession(t, resp, 1)
	if got := env.get("/count").body; got != "2" {
		t.Errorf("GET after HEAD: %q, want 2", got)
	}

	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		codes = append(codes, code)
		infos = append(infos, h)
		return nil
	}}
	req, _ = http.NewRequest(http.MethodGet, env.srv.URL+"/early-hints", nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp = env.send(env.client, req)
	if !slices.Equal(codes, []int{http.StatusEarlyHints}) {
		t.Fatalf("1xx responses %v", codes)
	}
	if infos[0].Get("Link") == "" || len(infos[0].Values("Set-Cookie")) != 0 || len(infos[0].Values("Vary")) != 0 {
		t.Errorf("103 headers %v: want Link, no Set-Cookie", infos[0])
	}
	if resp.status != http.StatusOK || resp.body != "final" {
		t.Errorf("final: %d %q", resp.status, resp.body)
	}
	checkSession(t, resp, 1)
	if v := env.get("/read").view(t); v.User != "hinted" || v.N != 103 {
		t.Errorf("after 103: %+v", v)
	}
	env.log.expectNone(t)
}

func TestMiddlewareNotModified(t *testing.T) {
	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/etag", func(w http.ResponseWriter, r *http.Request) {
			s := m.Session(r)
			if r.URL.Query().Get("touch") == "1" {
				s.Set("n", s.GetInt("n")+1)
			}
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			io.WriteString(w, "content")
		})
	})
	env.get("/set?user=etag")
	get := func(path string) *e2eResp {
		req, _ := http.NewRequest(http.MethodGet, env.srv.URL+path, nil)
		req.Header.Set("If-None-Match", `"v1"`)
		return env.send(env.client, req)
	}
	resp := get("/etag")
	if resp.status != http.StatusNotModified || resp.body != "" {
		t.Errorf("304: %d %q", resp.status, resp.body)
	}
	checkReadOnly(t, resp)
	resp = get("/etag?touch=1")
	if resp.status != http.StatusNotModified || resp.body != "" || resp.header.Get("ETag") != `"v1"` {
		t.Errorf("304 with a change: %d %q", resp.status, resp.body)
	}
	checkSession(t, resp, 1)
	if v := env.get("/read").view(t); v.N != 1 || v.User != "etag" {
		t.Errorf("the 304's cookie was not kept: %+v", v)
	}
	env.log.expectNone(t)
}

func TestMiddlewarePanic(t *testing.T) {
	m, _, lg := e2eManager(t, Config{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Session(r).Set("user", "boom")
		w.Header().Set("X-Before", "panic")
		panic("boom")
	}))
	rec := httptest.NewRecorder()
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	}()
	if recovered != "boom" {
		t.Errorf("recovered %v, want the handler's panic", recovered)
	}
	if got := rec.Header().Values("Set-Cookie"); len(got) != 0 || rec.Header().Get("Vary") != "" || rec.Flushed || rec.Body.Len() != 0 {
		t.Errorf("panicking handler wrote Set-Cookie %q, Vary %q", got, rec.Header().Get("Vary"))
	}
	lg.expectNone(t)

	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
			m.Session(r).Set("user", "boom")
			panic("boom")
		})
	})
	env.get("/set?user=calm")
	if resp, err := env.client.Get(env.srv.URL + "/panic"); err == nil {
		resp.Body.Close()
		t.Errorf("the client got a response (%d, Set-Cookie %q) from a panicking handler", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
	if v := env.get("/read").view(t); v.User != "calm" {
		t.Errorf("after the panic: %+v", v)
	}
}

func TestMiddlewareUntouched(t *testing.T) {
	keys := NewKeys(e2eRing(t, "A"))
	env := newE2E(t, Config{Keys: keys, IdleTimeout: time.Hour, Limits: Limits{HeaderBudget: 16384}}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/static", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "static")
		})
		mux.HandleFunc("/static-silent", func(w http.ResponseWriter, r *http.Request) {})
	})
	for _, path := range []string{"/static", "/static-silent"} {
		checkNoCookieHeaders(t, env.get(path))
	}
	checkReadOnly(t, env.get("/read"))
	env.get("/blob?n=7000")
	good := env.jarHeader()
	// A cookie due for a touch, one sealed with a key no longer primary, a
	// tampered one: a handler that never asks for the session sees none of it.
	env.clock.Advance(30 * time.Minute)
	keys.Replace(e2eRing(t, "B", "A"))
	for _, cookie := range []string{good, "session=" + e2eTamper(strings.SplitN(good, "=", 2)[1])} {
		for _, path := range []string{"/static", "/static-silent"} {
			resp := env.getWith(path, cookie)
			checkNoCookieHeaders(t, resp)
			if resp.status != http.StatusOK {
				t.Errorf("%s: %d", path, resp.status)
			}
		}
	}
	env.log.expectNone(t)
	// The same cookie, read: touched and re-sealed.
	checkSession(t, env.getWith("/read", good), 3)
}

func TestMiddlewareVaryAndCacheControl(t *testing.T) {
	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		mux.HandleFunc("/h", func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			for _, v := range q["vary"] {
				w.Header().Add("Vary", v)
			}
			if cc := q.Get("cc"); cc != "" {
				w.Header().Set("Cache-Control", cc)
			}
			s := m.Session(r)
			if q.Get("set") == "1" {
				s.Set("n", s.GetInt("n")+1)
			}
			if q.Get("destroy") == "1" {
				s.Destroy()
			}
			io.WriteString(w, "ok")
		})
	})
	tests := []struct {
		query string
		vary  []string
		cc    string
	}{
		{"set=1", []string{"Cookie"}, "no-store"},
		{"set=1&vary=Accept-Encoding&vary=Origin", []string{"Accept-Encoding", "Origin", "Cookie"}, "no-store"},
		{"set=1&vary=Accept-Encoding,%20cookie", []string{"Accept-Encoding, cookie"}, "no-store"},
		{"set=1&vary=*", []string{"*"}, "no-store"},
		{"set=1&cc=public,%20max-age=600", []string{"Cookie"}, "no-store"},
		{"set=1&cc=no-store,%20private", []string{"Cookie"}, "no-store, private"},
		{"set=1&cc=private,%20No-Store", []string{"Cookie"}, "private, No-Store"},
		{"set=1&vary=COOKIE", []string{"COOKIE"}, "no-store"},
		{"destroy=1&vary=Accept-Encoding", []string{"Accept-Encoding", "Cookie"}, "no-store"},
		// No Set-Cookie: the handler's Cache-Control untouched, but the
		// response was made with the session, so it varies on the cookie.
		{"vary=Accept-Encoding&cc=public,%20max-age=600", []string{"Accept-Encoding", "Cookie"}, "public, max-age=600"},
	}
	for _, tc := range tests {
		resp := env.get("/h?" + tc.query)
		if got := resp.header.Values("Vary"); !slices.Equal(got, tc.vary) {
			t.Errorf("%s: Vary %q, want %q", tc.query, got, tc.vary)
		}
		if got := resp.header.Get("Cache-Control"); got != tc.cc {
			t.Errorf("%s: Cache-Control %q, want %q", tc.query, got, tc.cc)
		}
	}
}

// TestAddSessionHeadersSeparateValues checks that the values the headers
// share one allocation for stay apart: appending to one header changes no
// other, and a handler's own Set-Cookie lines are kept, before the session's.
func TestAddSessionHeadersSeparateValues(t *testing.T) {
	h := http.Header{}
	addSessionHeaders(h, []string{"s=1", "s.1=2"}, true)
	h.Add("Set-Cookie", "theme=dark")
	h.Add("Cache-Control", "private")
	h.Add("Vary", "Origin")
	want := http.Header{
		"Set-Cookie":    {"s=1", "s.1=2", "theme=dark"},
		"Cache-Control": {"no-store", "private"},
		"Vary":          {"Cookie", "Origin"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("headers %q, want %q", h, want)
	}

	h = http.Header{"Set-Cookie": {"theme=dark"}}
	addSessionHeaders(h, []string{"s=1"}, false)
	if got := h["Set-Cookie"]; !slices.Equal(got, []string{"theme=dark", "s=1"}) {
		t.Errorf("Set-Cookie %q", got)
	}
	h = http.Header{}
	if addSessionHeaders(h, nil, false); len(h) != 0 {
		t.Errorf("no lines, no vary: headers %q", h)
	}
}

func TestMiddlewareChangedAfterHeaders(t *testing.T) {
	var saveErr atomic.Value
	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query().Get("how")
			var s *Session
			if q != "first" {
				s = m.Session(r)
				_ = s.GetString("user")
			}
			if q == "save-first" {
				s.Set("n", 1)
				saveErr.Store(fmt.Sprint(s.Save()))
			}
			if q == "flush" {
				http.NewResponseController(w).Flush()
			} else {
				io.WriteString(w, "written")
			}
			switch q {
			case "set", "flush":
				s.Set("user", "late")
			case "first":
				m.Session(r).Set("user", "late")
			case "save":
				s.Set("user", "late")
				saveErr.Store(fmt.Sprint(s.Save()))
			case "delete":
				s.Delete("user")
			case "read", "save-first":
				_ = s.Keys()
				saveErr.Store(fmt.Sprint(s.Save())) // nothing changed since
			}
		})
	})
	env.get("/set?user=early")
	for _, how := range []string{"set", "first", "save", "delete", "flush"} {
		t.Run(how, func(t *testing.T) {
			resp := env.get("/late?how=" + how)
			if len(resp.lines) != 0 {
				t.Errorf("Set-Cookie %q", resp.lines)
			}
			env.log.expectOne(t, ErrHeadersWritten)
			if v := env.get("/read").view(t); v.User != "early" {
				t.Errorf("a late change reached the client: %+v", v)
			}
		})
	}
	if got := saveErr.Load(); got != "<nil>" {
		t.Errorf("late Save: %v", got)
	}
	for _, how := range []string{"read", "save-first"} {
		resp := env.get("/late?how=" + how)
		env.log.expectNone(t)
		checkSession(t, resp, map[string]int{"read": 0, "save-first": 1}[how])
	}
	if v := env.get("/read").view(t); v.N != 1 {
		t.Errorf("Save before writing: %+v", v)
	}
}

func TestMiddlewareSessionWiring(t *testing.T) {
	m1, _, _ := e2eManager(t, Config{Name: "a"})
	m2, _, _ := e2eManager(t, Config{Name: "b"})
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Session on a request outside Handler did not panic")
			}
		}()
		m1.Session(httptest.NewRequest(http.MethodGet, "/", nil))
	}()

	// Two managers nest, each with its own cookie; a request whose context
	// was derived from the middleware's still finds its session.
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(r.Context()) // as other middleware would
		m1.Session(r).Set("x", 1)
		m2.Session(r).Set("y", 2)
		if m1.Session(r) == m2.Session(r) {
			t.Error("two managers share a session")
		}
	})
	rec := httptest.NewRecorder()
	m1.Handler(m2.Handler(inner)).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	names := map[string]bool{}
	for _, l := range rec.Header().Values("Set-Cookie") {
		name, _, _, _ := e2eLine(t, l)
		names[name] = true
	}
	if !names["a"] || !names["b"] || len(names) != 2 {
		t.Errorf("Set-Cookie %q", rec.Header().Values("Set-Cookie"))
	}
	if got := rec.Header().Values("Vary"); !slices.Equal(got, []string{"Cookie"}) {
		t.Errorf("Vary %q", got)
	}
}

// TestMiddlewareCallbacksMayUseSession: ErrorLog and ErrorHandler receive the
// request and may ask for its session without deadlocking.
func TestMiddlewareCallbacksMayUseSession(t *testing.T) {
	var mgr *Manager
	var logged, handled atomic.Int32
	m, _, _ := e2eManager(t, Config{
		ErrorLog: func(r *http.Request, err error) {
			if r != nil {
				_ = mgr.Session(r).Len()
			}
			logged.Add(1)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			// The session is back to its saved state (empty: the request's
			// cookie was bad), and usable here.
			if n := mgr.Session(r).Len(); n != 0 {
				t.Errorf("ErrorHandler sees %d values", n)
			}
			handled.Add(1)
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		},
	})
	mgr = m
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Session(r).Set("blob", e2eRandomHex(3, 20000))
	}))
	done := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Cookie", "session=tampered")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		done <- rec
	}()
	select {
	case rec := <-done:
		if rec.Code != http.StatusRequestEntityTooLarge || len(rec.Header().Values("Set-Cookie")) != 0 {
			t.Errorf("%d %q", rec.Code, rec.Header().Values("Set-Cookie"))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: a callback asking for the session never returned")
	}
	if logged.Load() != 2 || handled.Load() != 1 {
		t.Errorf("ErrorLog called %d times (want 2: bad cookie, too large), ErrorHandler %d", logged.Load(), handled.Load())
	}
}
