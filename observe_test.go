package cookiesession

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// eventLog records what Config.Observer receives.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) observe(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// take returns the events since the last take as "op outcome.reason kid
// bytes>0 chunks" strings, and the events.
func (l *eventLog) take() ([]string, []Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		s := e.Op + " " + e.Outcome
		if e.Reason != "" {
			s += "." + e.Reason
		}
		if e.KeyID != "" {
			s += " " + e.KeyID
		}
		out = append(out, s)
	}
	events := l.events
	l.events = nil
	return out, events
}

func (l *eventLog) expect(t *testing.T, want ...string) []Event {
	t.Helper()
	got, events := l.take()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}
	return events
}

// TestMiddlewareObserver: one event per load and per save, through Handler
// with a cookie jar, for every outcome a browser can bring about.
func TestMiddlewareObserver(t *testing.T) {
	events := &eventLog{}
	keys := NewKeys(e2eRing(t, "A"))
	env := newE2E(t, Config{Keys: keys, Observer: events.observe, Lifetime: time.Hour, IdleTimeout: 20 * time.Minute}, e2eRoutes)

	env.get("/set?user=obs")
	ev := events.expect(t, "load no-cookie", "save sealed.changed A")
	if s := ev[1]; s.Bytes < 100 || s.Chunks != 1 || s.Err != nil {
		t.Errorf("sealed event %+v", s)
	}
	env.get("/read")
	ev = events.expect(t, "load opened A", "save unchanged")
	if l := ev[0]; l.Bytes < 100 || l.Chunks != 1 {
		t.Errorf("opened event %+v", l)
	}

	// Chunks: bytes and cookies of the sealed value, both ways.
	env.get("/blob?n=5000")
	ev = events.expect(t, "load opened A", "save sealed.changed A")
	if s := ev[1]; s.Chunks != 2 || s.Bytes < 5000 {
		t.Errorf("chunked seal %+v", s)
	}
	env.get("/read")
	if ev = events.expect(t, "load opened A", "save unchanged"); ev[0].Chunks != 2 || ev[0].Bytes < 5000 {
		t.Errorf("chunked open %+v", ev[0])
	}

	// A touch of the idle window, then a rotation: re-sealed, by reason.
	env.clock.Advance(5 * time.Minute)
	env.get("/read")
	events.expect(t, "load opened A", "save sealed.touch A")
	keys.Replace(e2eRing(t, "B", "A"))
	env.get("/read")
	events.expect(t, "load opened.old-key A", "save sealed.old-key B")

	// Refused cookies, by reason; the response clears them.
	cookie := env.jarHeader()
	env.getWith("/read", e2eTamper(cookie))
	ev = events.expect(t, "load invalid.auth B", "save cleared.refused")
	if !errors.Is(ev[0].Err, ErrInvalid) {
		t.Errorf("refused load's Err %v", ev[0].Err)
	}
	env.getWith("/read", "session=a.b")
	events.expect(t, "load invalid.format", "save cleared.refused")
	env.getWith("/read", "session.1=debris")
	events.expect(t, "load invalid.cookies", "save cleared.refused")
	keys.Replace(e2eRing(t, "C"))
	env.getWith("/read", cookie)
	events.expect(t, "load invalid.unknown-key", "save cleared.refused")
	keys.Replace(e2eRing(t, "B"))
	env.clock.Advance(20 * time.Minute)
	env.getWith("/read", cookie)
	events.expect(t, "load expired.idle B", "save cleared.refused")
	env.log.take()

	// Destroy; too large (the client keeps its cookie).
	env.get("/set?user=again")
	events.take()
	env.get("/destroy")
	events.expect(t, "load opened B", "save cleared.destroyed")
	env.get("/set?user=big")
	events.take()
	env.get("/blob?n=40000")
	ev = events.expect(t, "load opened B", "save too-large.chunks")
	if !errors.Is(ev[1].Err, ErrTooLarge) {
		t.Errorf("too-large save's Err %v", ev[1].Err)
	}
	env.log.take()
}

// TestObserverReasons: the reason of each refusal the codec can tell apart
// without a browser (claims in the future, not-before, lifetime, payload).
func TestObserverReasons(t *testing.T) {
	events := &eventLog{}
	ring := e2eRing(t, "A")
	m, clock, _ := e2eManager(t, Config{Keys: ring, Observer: events.observe, Lifetime: time.Hour, NotBefore: e2eStart.Add(-time.Minute)})
	s, _ := m.LoadHeader()
	s.Set("k", 1)
	lines, err := m.SetCookies(s)
	if err != nil {
		t.Fatal(err)
	}
	cookie := e2eCookieHeader(t, lines)
	events.take()

	early, _, _ := e2eManager(t, Config{Keys: ring, Observer: events.observe, Now: func() time.Time { return e2eStart.Add(-time.Hour) }})
	early.LoadHeader(cookie)
	events.expect(t, "load invalid.future A")
	later, _, _ := e2eManager(t, Config{Keys: ring, Observer: events.observe, Now: clock.Now, NotBefore: e2eStart.Add(time.Second)})
	later.LoadHeader(cookie)
	events.expect(t, "load expired.not-before A")
	shorter, _, _ := e2eManager(t, Config{Keys: ring, Observer: events.observe, Now: clock.Now, Lifetime: time.Minute})
	clock.Advance(time.Minute)
	shorter.LoadHeader(cookie)
	events.expect(t, "load expired.lifetime A")

	// An authentic value whose payload this package never writes.
	sealed, err := m.Codec().appendSealed(nil, []byte(`{"sid":"x","iat":1,"lat":1,"exp":9,"v":{},"zz":1}`))
	if err != nil {
		t.Fatal(err)
	}
	m.LoadHeader("session=" + string(sealed))
	events.expect(t, "load invalid.payload A")
}

// TestObserverImport: a session imported from an earlier configuration is
// one load event, "imported" by its source, and its seal says why.
func TestObserverImport(t *testing.T) {
	events := &eventLog{}
	ring := e2eRing(t, "A")
	old := fxCodec(t, CodecConfig{Name: "old", Keys: ring})
	sealed := fxSeal(t, old, &Payload{ID: "x", IssuedAt: e2eStart, LastActivity: e2eStart, Expiry: e2eStart.Add(time.Hour),
		Values: fxValues(t, map[string]any{"user": "imp"})})
	m, _, lg := e2eManager(t, Config{Keys: ring, Observer: events.observe, Importers: []Importer{old}})
	s, err := m.LoadHeader("old=" + sealed)
	if err != nil || s.GetString("user") != "imp" {
		t.Fatalf("import: %v, %v", s.Keys(), err)
	}
	if _, err := m.SetCookies(s); err != nil {
		t.Fatal(err)
	}
	events.expect(t, "load imported.cookiesession", "save sealed.imported A")
	lg.take()
}

// TestObserverRevoked: a session refused by the revocation list or by
// Validate is "revoked", by which of the two.
func TestObserverRevoked(t *testing.T) {
	events := &eventLog{}
	revs := NewRevocations(nil)
	m, clock, lg := e2eManager(t, Config{Observer: events.observe, Revocations: revs,
		Validate: func(r *http.Request, s *Session) error {
			if s.Subject() == "mallory" {
				return errors.New("account disabled")
			}
			return nil
		}})
	cookie := func(subject string) string {
		s, _ := m.LoadHeader()
		if err := s.SetSubject(subject); err != nil {
			t.Fatal(err)
		}
		lines, err := m.SetCookies(s)
		if err != nil {
			t.Fatal(err)
		}
		return e2eCookieHeader(t, lines)
	}
	alice, mallory := cookie("alice"), cookie("mallory")
	events.take()
	clock.Advance(time.Minute)
	if err := revs.Revoke("alice", clock.Now()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{alice, mallory} {
		s, err := m.LoadHeader(c)
		if !errors.Is(err, ErrRevoked) {
			t.Fatalf("load: %v", err)
		}
		m.SetCookies(s)
	}
	events.expect(t, "load revoked.list A", "save cleared.refused", "load revoked.validate A", "save cleared.refused")
	lg.take()
}

// TestCounters: the expvar counters, as /debug/vars would show them.
func TestCounters(t *testing.T) {
	var c Counters
	if got := c.String(); !strings.Contains(got, `"load": {}`) {
		t.Errorf("zero Counters: %s", got)
	}
	for _, e := range []Event{
		{Op: OpLoad, Outcome: OutcomeNoCookie},
		{Op: OpSave, Outcome: OutcomeSealed, Reason: ReasonChanged, KeyID: "k1", Bytes: 300, Chunks: 1},
		{Op: OpLoad, Outcome: OutcomeOpened, KeyID: "k1", Bytes: 300, Chunks: 1},
		{Op: OpLoad, Outcome: OutcomeInvalid, Reason: ReasonAuth, Bytes: 20},
		{Op: OpSave, Outcome: OutcomeSealed, Reason: ReasonOldKey, KeyID: "k2", Bytes: 310, Chunks: 1},
		{Op: OpSave, Outcome: OutcomeSealed, Reason: ReasonChanged, KeyID: "k1", Bytes: 5000, Chunks: 2},
		{Op: OpLoad, Outcome: "imported", Reason: "gorilla"}, // an outcome added later
	} {
		c.Observe(e)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(c.String()), &got); err != nil {
		t.Fatalf("%s: %v", c.String(), err)
	}
	want := map[string]any{
		"load":       map[string]any{"no-cookie": 1.0, "opened": 1.0, "invalid.auth": 1.0, "imported.gorilla": 1.0},
		"save":       map[string]any{"sealed.changed": 2.0, "sealed.old-key": 1.0},
		"seals":      map[string]any{"k1": 2.0, "k2": 1.0},
		"load_bytes": 320.0,
		"save_bytes": 5610.0,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counters\n got %v\nwant %v", got, want)
	}
}
