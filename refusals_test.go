package cookiesession

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// logCapture is a slog.Handler that keeps every record, installed as
// slog.Default for one test (the root package's tests are not parallel).
type logCapture struct {
	mu   sync.Mutex
	recs []logRecord
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func captureSlog(t *testing.T) *logCapture {
	c := &logCapture{}
	prev := slog.Default()
	slog.SetDefault(slog.New(c))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return c
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }

func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool { rec.attrs[a.Key] = a.Value.String(); return true })
	c.mu.Lock()
	c.recs = append(c.recs, rec)
	c.mu.Unlock()
	return nil
}

// take returns the records since the last take.
func (c *logCapture) take() []logRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	recs := c.recs
	c.recs = nil
	return recs
}

// fakeTimers stands for time.AfterFunc: it keeps the functions to fire them
// by hand.
type fakeTimers struct {
	mu    sync.Mutex
	waits []time.Duration
	fns   []func()
}

func (f *fakeTimers) afterFunc(d time.Duration, fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits, f.fns = append(f.waits, d), append(f.fns, fn)
}

func (f *fakeTimers) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.fns) }
func (f *fakeTimers) fire(i int) { f.mu.Lock(); fn := f.fns[i]; f.mu.Unlock(); fn() }

// refusalEnv is a Manager with the default ErrorLog, a fake clock and fake
// timers, and a handler that loads the session.
type refusalEnv struct {
	t      *testing.T
	m      *Manager
	clock  *e2eClock
	timers *fakeTimers
	logs   *logCapture
	h      http.Handler
}

func newRefusalEnv(t *testing.T) *refusalEnv {
	logs := captureSlog(t)
	clock := newE2EClock()
	m, err := New(Config{Keys: e2eRing(t, "A"), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	timers := &fakeTimers{}
	m.refusals.afterFunc = timers.afterFunc
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.Session(r) }))
	return &refusalEnv{t, m, clock, timers, logs, h}
}

func (e *refusalEnv) send(cookie string) {
	r := httptest.NewRequest(http.MethodGet, "https://example.com/page", nil)
	r.Header.Set("Cookie", "session="+cookie)
	e.h.ServeHTTP(httptest.NewRecorder(), r)
}

// sealed returns a cookie value that opens, and one whose ciphertext is
// changed: "authentication failed".
func (e *refusalEnv) sealed() (good, forged string) {
	s, _ := e.m.LoadHeader()
	s.Set("user", "alice")
	lines, err := e.m.SetCookies(s)
	if err != nil || len(lines) != 1 {
		e.t.Fatalf("SetCookies: %v %v", lines, err)
	}
	good = strings.TrimPrefix(strings.SplitN(lines[0], ";", 2)[0], "session=")
	seg := strings.Split(good, ".")
	c := []byte(seg[3])
	if c[0] = 'A'; seg[3][0] == 'A' {
		c[0] = 'B'
	}
	seg[3] = string(c)
	return good, strings.Join(seg, ".")
}

// expect checks the records logged since the last call, as "LEVEL message"
// with the err attribute for the "cookiesession" lines.
func (e *refusalEnv) expect(want ...string) {
	e.t.Helper()
	var got []string
	for _, r := range e.logs.take() {
		line := r.level.String() + " " + r.msg
		if err, ok := r.attrs["err"]; ok {
			line += " err=" + err
		}
		got = append(got, line)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		e.t.Fatalf("logged:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

// TestRefusedCookieLog: the first refused cookie of each reason is logged at
// Warn in full; the others are counted per reason for a minute and their
// counts logged when the minute ends, by the next refused cookie or by the
// timer when none arrives; expired sessions stay at Debug, every time.
func TestRefusedCookieLog(t *testing.T) {
	e := newRefusalEnv(t)
	good, forged := e.sealed()
	const (
		auth     = "WARN cookiesession err=cookiesession: invalid session cookie: authentication failed"
		segments = "WARN cookiesession err=cookiesession: invalid session cookie: 1 segments, want 5"
	)

	for range 5 {
		e.send(forged)
	}
	for range 3 {
		e.send("x")
	}
	e.expect(auth, segments)
	if e.timers.count() != 1 || e.timers.waits[0] != time.Minute {
		t.Fatalf("timers armed: %v, want one of a minute", e.timers.waits)
	}
	e.clock.Advance(59 * time.Second)
	e.send(forged)
	e.expect()

	// A refused cookie at the minute's end logs the counts, then itself.
	e.clock.Advance(time.Second)
	e.send(forged)
	e.expect(
		"WARN cookiesession: 5 more refused cookies (authentication failed) in the minute after the first",
		"WARN cookiesession: 2 more refused cookies (malformed) in the minute after the first",
		auth)
	e.timers.fire(0) // the first minute's timer, late: that minute is logged already
	e.expect()
	if e.timers.count() != 1 {
		t.Fatalf("a timer was armed with nothing to count: %v", e.timers.waits)
	}

	// No further refused cookie: the timer logs the count.
	e.clock.Advance(10 * time.Second)
	e.send(forged)
	if e.timers.count() != 2 || e.timers.waits[1] != time.Minute-10*time.Second {
		t.Fatalf("timers armed: %v, want a second one of 50s", e.timers.waits)
	}
	e.send(forged)
	e.expect()
	e.timers.fire(1)
	e.expect("WARN cookiesession: 2 more refused cookies (authentication failed) in the minute after the first")
	e.timers.fire(1)
	e.expect()

	// The next refused cookie starts a new minute and is logged in full.
	e.send("x")
	e.expect(segments)

	// Expired sessions: Debug, every one, never counted.
	e.clock.Advance(25 * time.Hour)
	for range 3 {
		e.send(good)
	}
	expired := "DEBUG cookiesession err=cookiesession: session expired: expired 3670s ago"
	e.expect(expired, expired, expired)
	if e.timers.count() != 2 {
		t.Fatalf("expired sessions armed a timer: %v", e.timers.waits)
	}
}

// TestRefusedCookieLogConcurrent: refused cookies from many goroutines are
// each logged or counted exactly once, under one timer.
func TestRefusedCookieLogConcurrent(t *testing.T) {
	e := newRefusalEnv(t)
	_, forged := e.sealed()
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				e.send(forged)
			}
		})
	}
	wg.Wait()
	if e.timers.count() != 1 {
		t.Fatalf("%d timers armed, want 1", e.timers.count())
	}
	e.timers.fire(0)
	recs := e.logs.take()
	if len(recs) != 2 || recs[0].attrs["err"] == "" || recs[1].attrs["count"] != fmt.Sprint(workers*each-1) {
		t.Fatalf("logged %+v, want the first in full and a count of %d", recs, workers*each-1)
	}
}
