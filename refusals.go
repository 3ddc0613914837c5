package cookiesession

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"
)

// refusalInterval is how long the default [Config.ErrorLog] counts the
// refused cookies of one reason after logging the first of them in full.
// Every client chooses the cookie it sends, so one line per refused cookie
// would let a client write the server's logs at its own request rate.
const refusalInterval = time.Minute

// maxRefusalReasons bounds the reasons counted apart within one interval.
// Reasons are the Event reasons of this package, a handful; the bound keeps
// the state small even so.
const maxRefusalReasons = 16

// refusalWords says each reason of a refused cookie in words, for the counts.
var refusalWords = map[string]string{
	ReasonAuth:       "authentication failed",
	ReasonFormat:     "malformed",
	ReasonCookies:    "cookie set: size, or a chunk missing or repeated",
	ReasonUnknownKey: "unknown key id",
	ReasonPayload:    "payload this package never writes",
	ReasonFuture:     "issued beyond the clock skew into the future",
}

// refusalLog is a Manager's default ErrorLog, written to [slog.Default]:
//
//   - An import or a revoked session is logged at Info, an expired session
//     at Debug, every time.
//   - A refused cookie (an error matching ErrInvalid) is logged at Warn, in
//     full with the request's method and path, when it is the first of its
//     reason (its [Event] Reason: ReasonAuth, ReasonFormat, …) in the current
//     interval. The refusals that
//     follow within refusalInterval of the interval's first are counted
//     per reason, and each reason's count is logged at Warn as one line at
//     the interval's end: "412 more refused cookies (authentication failed)
//     in the minute after the first".
//   - Any other error (a session too large, a change after the headers, a
//     plain-HTTP warning) is logged at Warn, every time: the application
//     causes those, not the client.
//
// The interval ends, and its counts are logged, at whichever comes first: the
// first refused cookie at or after its end by Config.Now, or a timer
// (time.AfterFunc) armed when the interval's first refusal is counted. The
// timer makes the counts come out when no further bad cookie arrives; it
// holds no goroutine while it waits, at most one is pending per Manager, it
// is armed only while counts are pending, and a Manager that refuses no cookie
// never arms one. A correct cookie costs nothing here: only a refused one
// takes the lock.
type refusalLog struct {
	now       func() time.Time
	afterFunc func(d time.Duration, f func()) // time.AfterFunc; tests replace it

	mu     sync.Mutex // guards what follows
	start  time.Time  // the current interval's first refusal; zero when none is open
	gen    uint64     // counts intervals, so a late timer of a past one does nothing
	armed  bool       // a timer is pending for the current interval
	kinds  []string   // the reasons seen in the interval, in order
	counts []int      // refusals of kinds[i] not logged in full
}

func newRefusalLog(now func() time.Time) *refusalLog {
	return &refusalLog{now: now, afterFunc: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

// refusalKind returns the reason under which err is counted, and false for an
// error that is not a refused cookie.
func refusalKind(err error) (string, bool) {
	if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrExpired) || errors.Is(err, ErrRevoked) || errors.Is(err, ErrImported) {
		return "", false
	}
	if kind := reasonOf(err); kind != "" {
		return kind, true
	}
	return "other", true
}

// log is the ErrorLog function.
func (l *refusalLog) log(r *http.Request, err error) {
	kind, refused := refusalKind(err)
	if !refused {
		logError(r, err)
		return
	}
	l.mu.Lock()
	now := l.now()
	var due []refusalCount
	if !l.start.IsZero() && !now.Before(l.start.Add(refusalInterval)) {
		due = l.endLocked()
	}
	if l.start.IsZero() {
		l.start = now
		l.gen++
	}
	i := slices.Index(l.kinds, kind)
	if i < 0 && len(l.kinds) == maxRefusalReasons {
		kind, i = "other", slices.Index(l.kinds, "other")
	}
	first := i < 0
	if first {
		l.kinds = append(l.kinds, kind)
		l.counts = append(l.counts, 0)
	} else {
		l.counts[i]++
		if !l.armed {
			l.armed = true
			gen, wait := l.gen, l.start.Add(refusalInterval).Sub(now)
			l.afterFunc(min(max(wait, 0), refusalInterval), func() { l.timeout(gen) })
		}
	}
	l.mu.Unlock()
	logRefusalCounts(due)
	if first {
		logRequestError(r, slog.LevelWarn, err)
	}
}

// timeout ends interval gen, unless it has ended already.
func (l *refusalLog) timeout(gen uint64) {
	l.mu.Lock()
	var due []refusalCount
	if l.gen == gen && !l.start.IsZero() {
		due = l.endLocked()
	}
	l.mu.Unlock()
	logRefusalCounts(due)
}

// refusalCount is one line to log at the end of an interval.
type refusalCount struct {
	kind  string
	n     int
	start time.Time
}

// endLocked closes the current interval and returns its counts to log.
func (l *refusalLog) endLocked() []refusalCount {
	var due []refusalCount
	for i, k := range l.kinds {
		if l.counts[i] > 0 {
			due = append(due, refusalCount{k, l.counts[i], l.start})
		}
	}
	l.start, l.armed, l.kinds, l.counts = time.Time{}, false, l.kinds[:0], l.counts[:0]
	return due
}

func logRefusalCounts(due []refusalCount) {
	for _, c := range due {
		reason := c.kind
		if words, ok := refusalWords[c.kind]; ok {
			reason = words
		}
		msg := fmt.Sprintf("cookiesession: %d more refused cookies (%s) in the minute after the first", c.n, reason)
		if c.n == 1 {
			msg = fmt.Sprintf("cookiesession: 1 more refused cookie (%s) in the minute after the first", reason)
		}
		slog.Default().Log(context.Background(), slog.LevelWarn, msg,
			"count", c.n, "reason", reason, "since", c.start)
	}
}

// logError logs err at its level, every time: imports and revoked sessions
// at Info, expired sessions at Debug, the rest at Warn. It is the ErrorLog of
// a Codec used without a Manager, and refusalLog's for what it does not count.
func logError(r *http.Request, err error) {
	level := slog.LevelWarn
	switch {
	case errors.Is(err, ErrImported), errors.Is(err, ErrRevoked):
		level = slog.LevelInfo
	case errors.Is(err, ErrExpired):
		level = slog.LevelDebug
	}
	logRequestError(r, level, err)
}

func logRequestError(r *http.Request, level slog.Level, err error) {
	attrs := []any{"err", err}
	if r != nil {
		attrs = append(attrs, "method", r.Method, "path", r.URL.Path)
	}
	slog.Default().Log(context.Background(), level, "cookiesession", attrs...)
}
