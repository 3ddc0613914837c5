package cookiesession

// Chunk debris: cookies named beyond the set the first cookie declares, as
// two tabs of one browser leave them when their responses race. They must
// not log the user out, and the next response that loads the session must
// expire them.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// TestMiddlewareRacingTabs replays the race through Manager.Handler with a
// real cookie jar. Two requests leave with the same one-cookie session: tab A
// grows it to session+session.1, tab B changes a small value. Each order of
// the responses is played, and then a request that only reads the session
// and one that writes it. When B lands last, the jar holds B's session and
// A's session.1: the user must stay logged in with B's values, and that
// response must expire session.1.
func TestMiddlewareRacingTabs(t *testing.T) {
	for _, last := range []string{"small", "grow"} {
		for _, next := range []string{"/read", "/count"} {
			t.Run(last+" lands last, then "+next, func(t *testing.T) {
				testRacingTabs(t, last, next)
			})
		}
	}
}

func testRacingTabs(t *testing.T, last, next string) {
	arrived := make(chan string, 2)
	release := map[string]chan struct{}{"grow": make(chan struct{}), "small": make(chan struct{})}
	env := newE2E(t, Config{}, func(m *Manager, mux *http.ServeMux) {
		e2eRoutes(m, mux)
		// /tab/grow and /tab/small change the session, then wait to be
		// released before answering.
		mux.HandleFunc("/tab/{which}", func(w http.ResponseWriter, r *http.Request) {
			which := r.PathValue("which")
			s := m.Session(r)
			if which == "grow" {
				s.Set("blob", e2eRandomHex(1, 5000))
			} else {
				s.Set("theme", "dark")
			}
			arrived <- which
			<-release[which]
			e2eWriteView(w, e2eViewOf(s, false))
		})
	})
	env.get("/set?user=alice")
	if got := env.jarNames(); !slices.Equal(got, []string{"session"}) {
		t.Fatalf("before the race the jar holds %q, want one cookie", got)
	}

	type result struct {
		lines []string
		err   error
	}
	done := map[string]chan result{"grow": make(chan result, 1), "small": make(chan result, 1)}
	for which, ch := range done {
		go func() {
			resp, err := env.client.Get(env.srv.URL + "/tab/" + which)
			if err != nil {
				ch <- result{err: err}
				return
			}
			defer resp.Body.Close()
			_, err = io.Copy(io.Discard, resp.Body)
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			ch <- result{resp.Header.Values("Set-Cookie"), err}
		}()
	}
	// Both requests are in the server, sent with the one-cookie session.
	<-arrived
	<-arrived
	first := map[string]string{"small": "grow", "grow": "small"}[last]
	var lines = map[string][]string{}
	for _, which := range []string{first, last} {
		close(release[which])
		r := <-done[which]
		if r.err != nil {
			t.Fatalf("/tab/%s: %v", which, r.err)
		}
		lines[which] = r.lines
	}
	if len(lines["grow"]) != 2 || len(lines["small"]) != 1 {
		t.Fatalf("grow set %d cookies, small %d: want 2 and 1", len(lines["grow"]), len(lines["small"]))
	}
	// Whichever landed last, the jar holds session and session.1: the race
	// was played as a browser plays it.
	jar := env.jarCookies()
	if got := env.jarNames(); !slices.Equal(got, []string{"session", "session.1"}) {
		t.Fatalf("after the race the jar holds %q", got)
	}
	if chunked := strings.HasPrefix(jar["session"], "2~"); chunked != (last == "grow") {
		t.Fatalf("jar's session %.10q…: not the cookie of the response that landed last (%s)", jar["session"], last)
	}

	resp := env.get(next)
	switch {
	case last == "grow" && next == "/read":
		checkReadOnly(t, resp)
	case last == "grow":
		checkSession(t, resp, 2)
	case next == "/read": // unchanged, yet session.1 is debris to expire
		checkSession(t, resp, 0, "session.1")
	default:
		checkSession(t, resp, 1, "session.1")
	}
	if got := env.jarNames(); !slices.Equal(got, map[bool][]string{true: {"session", "session.1"}, false: {"session"}}[last == "grow"]) {
		t.Fatalf("after %s the jar holds %q", next, got)
	}
	// The user is still logged in; the last response's values won.
	read := env.get("/read")
	checkReadOnly(t, read)
	v := read.view(t)
	wantKeys := map[string][]string{"grow": {"blob", "user"}, "small": {"theme", "user"}}[last]
	if next == "/count" {
		wantKeys = append(wantKeys, "visits")
		slices.Sort(wantKeys)
	}
	if v.New || v.LoadErr || v.User != "alice" || !slices.Equal(v.Keys, wantKeys) {
		t.Fatalf("after the race: %+v, want user alice and keys %q", v, wantKeys)
	}
	env.log.expectNone(t)
}

// TestSetCookiesExpiresDebris: the low-level calls expire debris too, for a
// session unchanged, changed or emptied. (A re-seal that no longer fits:
// TestResealTooLargeKeepsCookie.)
func TestSetCookiesExpiresDebris(t *testing.T) {
	m, _, lg := e2eManager(t, Config{})
	s, _ := m.LoadHeader()
	s.Set("user", "alice")
	lines, err := m.SetCookies(s)
	if err != nil || len(lines) != 1 {
		t.Fatalf("SetCookies: %q, %v", lines, err)
	}
	s.Set("blob", e2eRandomHex(1, 5000))
	grown, err := m.SetCookies(s)
	if err != nil || len(grown) != 2 {
		t.Fatalf("SetCookies of the grown session: %d lines, %v", len(grown), err)
	}
	_, chunk1, _, _ := e2eLine(t, grown[1])
	header := e2eCookieHeader(t, lines) + "; session.1=" + chunk1 + "; session.8=x"
	expired := []string{e2eExpiredLine("session.1"), e2eExpiredLine("session.8")}

	// Unchanged: only the debris, the same lines on every call.
	s, err = m.LoadHeader(header)
	if err != nil || s.GetString("user") != "alice" || s.Info().Chunks != 1 {
		t.Fatalf("LoadHeader: %v, user %q, info %+v", err, s.GetString("user"), s.Info())
	}
	for range 2 {
		if got, err := m.SetCookies(s); err != nil || !slices.Equal(got, expired) {
			t.Fatalf("unchanged session: SetCookies = %q, %v; want %q", got, err, expired)
		}
	}
	rec := httptest.NewRecorder()
	if err := m.Save(rec, s); err != nil || !slices.Equal(rec.Header().Values("Set-Cookie"), expired) {
		t.Fatalf("Save: %v, %q", err, rec.Header().Values("Set-Cookie"))
	}
	e2eCheckUncacheable(t, rec.Header())

	// Changed: the new cookie, then the debris expired.
	s, _ = m.LoadHeader(header)
	s.Set("n", 1)
	if got, err := m.SetCookies(s); err != nil || len(got) != 3 || e2eExpired(t, got[0]) || !slices.Equal(got[1:], expired) {
		t.Fatalf("changed session: SetCookies = %q, %v", got, err)
	}
	// Emptied: everything the request carried.
	s, _ = m.LoadHeader(header)
	s.Clear()
	if got, err := m.SetCookies(s); err != nil || !slices.Equal(got, append([]string{e2eExpiredLine("session")}, expired...)) {
		t.Fatalf("emptied session: SetCookies = %q, %v", got, err)
	}
	lg.expectNone(t)
}
