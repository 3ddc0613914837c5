package cookiesession

import (
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// followed is a configuration file that a running process follows, such as
// a mounted Kubernetes secret or a file an operator replaces: [KeyFile] and
// [RevocationFile] are built on it. The file is read again at most once per
// interval, by the request that notices the interval passed (never by a
// goroutine of its own), and its value put in force when its content changed
// and parses. A file that cannot be read or no longer parses (half-written,
// or a mistake) leaves the previous value in force and is reported to
// onError once per failure, not once per interval.
type followed[T any] struct {
	path     string
	what     string // "key ring file", for errors
	maxBytes int64  // 0: no bound
	parse    func([]byte) (*T, error)
	interval time.Duration
	onError  func(error)
	onChange func(*T)

	cur     atomic.Pointer[T]
	next    atomic.Int64 // unix nanoseconds of the next read
	mu      sync.Mutex   // one reader at a time
	hash    [32]byte     // of the content in force
	bad     [32]byte     // of the last content that did not parse
	readErr string       // the last read failure reported
	now     func() time.Time
}

// openFollowed reads the file at path, which must parse, and returns it
// followed every interval (defaultInterval when not positive). onError
// defaults to logging logMsg with log/slog.
func openFollowed[T any](path, what string, maxBytes int64, parse func([]byte) (*T, error),
	interval, defaultInterval time.Duration, onError func(error), onChange func(*T), logMsg string) (*followed[T], error) {
	if interval <= 0 {
		interval = defaultInterval
	}
	if onError == nil {
		onError = func(err error) { slog.Error(logMsg, "path", path, "err", err) }
	}
	f := &followed[T]{
		path: path, what: what, maxBytes: maxBytes, parse: parse,
		interval: interval, onError: onError, onChange: onChange, now: time.Now,
	}
	b, err := f.read()
	if err != nil {
		return nil, err
	}
	v, err := f.parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", f.what, f.path, err)
	}
	f.cur.Store(v)
	f.hash = sha256.Sum256(b)
	f.next.Store(f.now().Add(f.interval).UnixNano())
	return f, nil
}

// read returns the file's content, refusing more than maxBytes.
func (f *followed[T]) read() ([]byte, error) {
	file, err := os.Open(f.path)
	if err != nil {
		return nil, configErrorf("%s: %v", f.what, err)
	}
	defer file.Close()
	r := io.Reader(file)
	if f.maxBytes > 0 {
		r = io.LimitReader(file, f.maxBytes+1)
	}
	b, err := io.ReadAll(r)
	switch {
	case err != nil:
		return nil, configErrorf("%s: %v", f.what, err)
	case f.maxBytes > 0 && int64(len(b)) > f.maxBytes:
		return nil, configErrorf("%s %s: more than %d bytes", f.what, f.path, f.maxBytes)
	}
	return b, nil
}

// get returns the value in force, reading the file again first when the
// interval has passed and no other request is reading it.
func (f *followed[T]) get() *T {
	if f.now().UnixNano() >= f.next.Load() && f.mu.TryLock() {
		notify, _ := f.reload()
		f.mu.Unlock()
		notify()
	}
	return f.cur.Load()
}

// Reload reads the file now and returns why it was not put in force, if it
// was not. It is nil when the value is unchanged or was replaced.
func (f *followed[T]) Reload() error {
	f.mu.Lock()
	notify, err := f.reload()
	f.mu.Unlock()
	notify()
	return err
}

// reload reads the file, with f.mu held. The callbacks it returns in notify
// run after the lock is released, so that onError or onChange may call
// Reload or get.
func (f *followed[T]) reload() (notify func(), err error) {
	nothing := func() {}
	f.next.Store(f.now().Add(f.interval).UnixNano())
	b, err := f.read()
	if err != nil {
		if err.Error() == f.readErr { // report each failure once, not every interval
			return nothing, err
		}
		f.readErr = err.Error()
		return func() { f.onError(err) }, err
	}
	f.readErr = ""
	sum := sha256.Sum256(b)
	if sum == f.hash {
		return nothing, nil
	}
	v, err := f.parse(b)
	if err != nil {
		if sum == f.bad { // report each bad content once
			return nothing, err
		}
		f.bad = sum
		return func() { f.onError(err) }, err
	}
	f.hash = sum
	f.cur.Store(v)
	if f.onChange == nil {
		return nothing, nil
	}
	return func() { f.onChange(v) }, nil
}
