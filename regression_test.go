package cookiesession

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// Regressions found by review: each test failed before its fix.

// A re-seal the application did not ask for (an old key, a touch) that no
// longer fits must not cost the request a 500: the client keeps its cookie.
// Chunk debris beside it is expired all the same.
func TestResealTooLargeKeepsCookie(t *testing.T) {
	keys := NewKeys(e2eRing(t, "a"))
	m, _, lg := e2eManager(t, Config{Keys: keys})
	// Grow the session to the largest size that fits under kid "a".
	s, _ := m.LoadHeader()
	var lines []string
	for n := 5000; ; n += 8 {
		s.Set("blob", e2eRandomHex(1, n))
		l, err := m.SetCookies(s)
		if err != nil {
			break
		}
		lines = l
	}
	if len(lines) < 2 || len(lines) >= DefaultMaxChunks {
		t.Fatalf("the largest session that fits has %d cookies, want 2 or 3", len(lines))
	}
	cookie := e2eCookieHeader(t, lines)
	// A longer primary kid: re-sealing the same values no longer fits.
	keys.Replace(e2eRing(t, strings.Repeat("b", 40), "a"))
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, len(m.Session(r).GetString("blob")))
	}))
	debris := ChunkName(DefaultName, DefaultMaxChunks) // beyond any chunk of this session
	for _, tc := range []struct {
		cookie string
		want   []string
	}{
		{cookie, nil},
		{cookie + "; " + debris + "=x", []string{e2eExpiredLine(debris)}},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		req.Header.Set("Cookie", tc.cookie)
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.String() == "0" {
			t.Fatalf("status %d, body %q: want 200 with the old session", rec.Code, rec.Body.String())
		}
		if got := rec.Result().Header.Values("Set-Cookie"); !slices.Equal(got, tc.want) {
			t.Errorf("Set-Cookie %q, want %q: the client should keep its cookie", got, tc.want)
		}
		if err := lg.expectOne(t, ErrTooLarge); err != nil && !strings.Contains(err.Error(), "re-seal skipped") {
			t.Errorf("log %q does not say the re-seal was skipped", err)
		}
	}
}

// A session issued by a server whose clock is ahead (within the skew) and
// changed by one whose clock is behind must still open everywhere.
func TestSealKeepsLastActivityAfterIssue(t *testing.T) {
	ring := e2eRing(t, "A")
	ahead, clockA, _ := e2eManager(t, Config{Keys: ring})
	behind, clockB, _ := e2eManager(t, Config{Keys: ring})
	clockA.Advance(20 * time.Second) // inside the 30s default skew
	s, _ := ahead.LoadHeader()
	s.Set("n", 1)
	lines, err := ahead.SetCookies(s)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := behind.LoadHeader(e2eCookieHeader(t, lines))
	if err != nil {
		t.Fatalf("the server behind refuses the cookie: %v", err)
	}
	s2.Set("n", 2)
	lines, err = behind.SetCookies(s2)
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*Manager{"ahead": ahead, "behind": behind} {
		s3, err := m.LoadHeader(e2eCookieHeader(t, lines))
		if err != nil || s3.GetInt("n") != 2 {
			t.Errorf("%s: n=%d, err %v", name, s3.GetInt("n"), err)
		}
	}
	_ = clockB
}

// A session whose lifetime ran out between load and save is expired, not
// sealed into a cookie that nothing can open.
func TestSealAfterLifetimeExpires(t *testing.T) {
	m, clock, _ := e2eManager(t, Config{Lifetime: time.Hour})
	s, _ := m.LoadHeader()
	s.Set("n", 1)
	lines, _ := m.SetCookies(s)
	clock.Advance(time.Hour - time.Second)
	s, err := m.LoadHeader(e2eCookieHeader(t, lines))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second) // the handler was slow
	s.Set("n", 2)
	lines, err = m.SetCookies(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || !e2eExpired(t, lines[0]) {
		t.Errorf("lines %q, want the cookie expired", lines)
	}
}

// A KeyRing with no keys is a construction error, and a KeySource that
// gives none at run time makes cookies invalid, never a panic.
func TestEmptyKeyRing(t *testing.T) {
	if _, err := New(Config{Keys: &KeyRing{}}); !errors.Is(err, ErrConfig) {
		t.Errorf("New with an empty ring: %v, want ErrConfig", err)
	}
	src := &switchSource{ring: e2eRing(t, "A")}
	m, _, _ := e2eManager(t, Config{Keys: src})
	s, _ := m.LoadHeader()
	s.Set("n", 1)
	lines, err := m.SetCookies(s)
	if err != nil {
		t.Fatal(err)
	}
	src.ring = nil
	if _, err := m.LoadHeader(e2eCookieHeader(t, lines)); !errors.Is(err, ErrInvalid) {
		t.Errorf("open without keys: %v, want ErrInvalid", err)
	}
	s, _ = m.LoadHeader()
	s.Set("n", 1)
	if _, err := m.SetCookies(s); !errors.Is(err, ErrConfig) {
		t.Errorf("seal without keys: %v, want ErrConfig", err)
	}
	if _, err := m.Codec().ExportContentKeys(); !errors.Is(err, ErrConfig) {
		t.Errorf("export without keys: %v, want ErrConfig", err)
	}
}

type switchSource struct{ ring *KeyRing }

func (s *switchSource) KeyRing() *KeyRing { return s.ring }

// Two low-level saves on one response: the second expires the chunks the
// first wrote and no longer uses.
func TestSaveTwiceExpiresFirstChunks(t *testing.T) {
	m, _, _ := e2eManager(t, Config{})
	s, _ := m.LoadHeader()
	s.Set("n", 1)
	lines, _ := m.SetCookies(s)
	s, _ = m.LoadHeader(e2eCookieHeader(t, lines)) // one cookie
	s.Set("blob", e2eRandomHex(2, 5000))
	first, err := m.SetCookies(s)
	if err != nil || len(first) != 2 {
		t.Fatalf("first save: %d lines, %v", len(first), err)
	}
	s.Delete("blob")
	second, err := m.SetCookies(s)
	if err != nil {
		t.Fatal(err)
	}
	expired := false
	for _, l := range second {
		if name, _, _, _ := e2eLine(t, l); name == "session.1" && e2eExpired(t, l) {
			expired = true
		}
	}
	if !expired {
		t.Errorf("second save %q does not expire session.1", second)
	}
}

// NotBefore catches a session issued earlier in the same second.
func TestNotBeforeSameSecond(t *testing.T) {
	ring := e2eRing(t, "A")
	m, clock, _ := e2eManager(t, Config{Keys: ring})
	clock.Advance(200 * time.Millisecond)
	s, _ := m.LoadHeader()
	s.Set("n", 1)
	lines, _ := m.SetCookies(s)
	issued := clock.Now()
	revoked, _, _ := e2eManager(t, Config{Keys: ring, NotBefore: issued.Add(500 * time.Millisecond), Now: func() time.Time { return issued.Add(time.Second) }})
	if _, err := revoked.LoadHeader(e2eCookieHeader(t, lines)); !errors.Is(err, ErrExpired) {
		t.Errorf("a session issued before NotBefore in the same second: %v, want ErrExpired", err)
	}
}

// 101 Switching Protocols is a final response: the session goes with it.
func TestSwitchingProtocolsCarriesCookie(t *testing.T) {
	m, _, lg := e2eManager(t, Config{})
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.Session(r).Set("upgraded", true)
		w.WriteHeader(http.StatusSwitchingProtocols)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/ws", nil))
	if rec.Code != http.StatusSwitchingProtocols || len(rec.Result().Header.Values("Set-Cookie")) != 1 {
		t.Errorf("status %d, Set-Cookie %q", rec.Code, rec.Result().Header.Values("Set-Cookie"))
	}
	lg.expectNone(t)
}

// KeyFile callbacks run without its lock: one may call Reload.
func TestKeyFileCallbackMayReload(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/keys.json"
	write := func(ring *KeyRing) {
		b, err := ring.ExportJWKS()
		if err != nil {
			t.Fatal(err)
		}
		writeFileAtomic(t, path, b)
	}
	write(e2eRing(t, "A"))
	var f *KeyFile
	calls := 0
	f, err := OpenKeyFile(path, &KeyFileOptions{OnChange: func(*KeyRing) {
		calls++
		if err := f.Reload(); err != nil { // deadlocked before
			t.Errorf("Reload from OnChange: %v", err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	write(e2eRing(t, "B", "A"))
	done := make(chan error, 1)
	go func() { done <- f.Reload() }()
	select {
	case err := <-done:
		if err != nil || calls != 1 || f.KeyRing().Primary() != "B" {
			t.Errorf("err %v, calls %d, primary %s", err, calls, f.KeyRing().Primary())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Reload deadlocked in OnChange")
	}
	if got := fmt.Sprintf("%#v %+v", f, f); strings.Contains(got, "hash") || strings.Count(got, "KeyFile(") != 2 {
		t.Errorf("KeyFile prints its fields: %s", got)
	}
}

func writeFileAtomic(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

// deflate.go panicked on an internal size mismatch while sealing, dropping
// the connection. A failing compressor now costs only the compression: the
// value is sealed without it and the failure reported.
func TestSealWithoutCompressionWhenDeflateFails(t *testing.T) {
	defer func(f func(dst, src []byte) ([]byte, error)) { compressor = f }(compressor)
	compressor = func(dst, src []byte) ([]byte, error) {
		return append(dst, "not deflate"...), fmt.Errorf("%w: injected", errDeflate)
	}
	text := strings.Repeat("compressible text ", 100)

	// A Manager's codec reports through the Manager's ErrorLog.
	m, clock, lg := e2eManager(t, Config{Compress: true})
	s, _ := m.LoadHeader()
	s.Set("text", text)
	lines, err := m.SetCookies(s)
	if err != nil {
		t.Fatalf("SetCookies: %v", err)
	}
	if err := lg.expectOne(t, errDeflate); !strings.Contains(err.Error(), "sealed without compression") {
		t.Errorf("logged %q", err)
	}
	clock.Advance(time.Second)
	next, err := m.LoadHeader(e2eCookieHeader(t, lines))
	if err != nil || next.GetString("text") != text || next.Info().Compressed {
		t.Fatalf("next request: %v, compressed %v", err, next.Info().Compressed)
	}

	// A Codec of its own logs with log/slog, as the default ErrorLog does.
	var logged bytes.Buffer
	defer func(l *slog.Logger) { slog.SetDefault(l) }(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	c := fxCodec(t, CodecConfig{Compress: true})
	p := fxPayload(t, map[string]any{"text": text})
	q, info, err := c.Open(fxSeal(t, c, p), fxNow)
	if err != nil || string(q.Values["text"]) != string(p.Values["text"]) || info.Compressed {
		t.Fatalf("Open: %v, compressed %v", err, info.Compressed)
	}
	if !strings.Contains(logged.String(), "sealed without compression") {
		t.Errorf("slog got %q", logged.String())
	}
}

// Session.Raw handed out the session's own bytes: writing into them changed
// the session without marking it changed, and the next save sealed it
// ("alice" became "Xlice").
func TestRawIsACopy(t *testing.T) {
	m, _, _ := e2eManager(t, Config{})
	s, _ := m.LoadHeader()
	s.Set("user", "alice")
	s.Raw("user")[1] = 'X'
	if got := s.GetString("user"); got != "alice" {
		t.Fatalf("a write into Raw changed a new session: %q", got)
	}
	lines, err := m.SetCookies(s)
	if err != nil {
		t.Fatal(err)
	}
	// A loaded session's values are in the plaintext it was opened from.
	loaded, err := m.LoadHeader(e2eCookieHeader(t, lines))
	if err != nil {
		t.Fatal(err)
	}
	loaded.Raw("user")[1] = 'X'
	loaded.Set("n", 1) // sealed again, with "user" as it is
	lines, err = m.SetCookies(loaded)
	if err != nil {
		t.Fatal(err)
	}
	next, err := m.LoadHeader(e2eCookieHeader(t, lines))
	if err != nil {
		t.Fatal(err)
	}
	if got := next.GetString("user"); got != "alice" || loaded.GetString("user") != "alice" {
		t.Fatalf("a write into Raw was sealed: %q", got)
	}
	if s.Raw("absent") != nil {
		t.Error("Raw of an absent key is not nil")
	}
}

// deepArray returns a value of n arrays one inside another, [[…]].
func deepArray(n int) any {
	var v any = []any{}
	for range n - 1 {
		v = []any{v}
	}
	return v
}

// A value Set accepted could be one the next request refused (nested 66
// deep: "malformed claim"), losing the whole session. Set and Seal now refuse
// what the opener would, and what Set accepts opens again.
func TestSetRefusesWhatCannotOpen(t *testing.T) {
	m, _, lg := e2eManager(t, Config{})
	s, _ := m.LoadHeader()
	if err := s.Set("user", "alice"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key   string
		value any
	}{
		{"deep", deepArray(MaxNesting + 1)},
		{"deep", deepArray(MaxNesting + 2)},
		{"deep", map[string]any{"a": deepArray(MaxNesting)}},
		{"deep", json.RawMessage(nest(`{"a":`, "1", MaxNesting+1))},
		{"name\xff", 1},
	} {
		err := s.Set(c.key, c.value)
		if !errors.Is(err, ErrBadValue) {
			t.Errorf("Set(%q, %T) = %v, want ErrBadValue", c.key, c.value, err)
		}
		if s.Len() != 1 || s.Has(c.key) {
			t.Errorf("refused Set changed the session: %v", s.Keys())
		}
	}
	// The deepest value allowed is stored and opens again, byte for byte.
	deepest := deepArray(MaxNesting)
	if err := s.Set("deep", deepest); err != nil {
		t.Fatalf("Set of %d levels: %v", MaxNesting, err)
	}
	lines, err := m.SetCookies(s)
	if err != nil {
		t.Fatal(err)
	}
	next, err := m.LoadHeader(e2eCookieHeader(t, lines))
	if err != nil {
		t.Fatalf("next request: %v", err)
	}
	if want, _ := json.Marshal(deepest); !bytes.Equal(next.Raw("deep"), want) || next.GetString("user") != "alice" {
		t.Fatalf("read back %s, want %s", next.Raw("deep"), want)
	}
	lg.expectNone(t)

	// Codec.Seal and Encode, given raw values, refuse what would not open.
	c := m.Codec()
	for name, raw := range map[string]string{
		"deep":    nest("[", "", MaxNesting+1),
		"object":  nest(`{"a":`, `"x"`, MaxNesting+1),
		"invalid": `{"a":`,
		"empty":   "",
		"two":     "1 2",
	} {
		p := fxPayload(t, nil)
		p.Values = map[string]json.RawMessage{name: json.RawMessage(raw)}
		if _, err := c.Seal(p); !errors.Is(err, ErrBadValue) {
			t.Errorf("Seal of %s: %v, want ErrBadValue", name, err)
		}
		if _, err := c.Encode(p, 0); !errors.Is(err, ErrBadValue) {
			t.Errorf("Encode of %s: %v, want ErrBadValue", name, err)
		}
	}
	p := fxPayload(t, nil)
	p.Values = map[string]json.RawMessage{"ok": json.RawMessage(" " + nest("[", "", MaxNesting) + "\n"), "k\xff": json.RawMessage("1")}
	if _, err := c.Seal(p); !errors.Is(err, ErrBadValue) {
		t.Errorf("Seal of a name that is not UTF-8: %v, want ErrBadValue", err)
	}
	delete(p.Values, "k\xff")
	p.LastActivity, p.Expiry = e2eStart, e2eStart.Add(time.Hour)
	p.IssuedAt = e2eStart
	sealed, err := c.Seal(p)
	if err != nil {
		t.Fatalf("Seal of %d levels with white space: %v", MaxNesting, err)
	}
	if q, _, err := c.Open(sealed, e2eStart); err != nil || string(q.Values["ok"]) != nest("[", "", MaxNesting) {
		t.Fatalf("Open: %v", err)
	}
}
