package cookiesession

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// ErrHeadersWritten reports, through Config.ErrorLog, a session changed after
// the response's headers were sent: that change could not be saved. Change the
// session before writing the response, or call [Session.Save] first.
var ErrHeadersWritten = errors.New("cookiesession: session changed after the response headers were written; not saved")

// Handler is the middleware: it makes the session of each request available
// to next through [Manager.Session], and writes it back.
//
//   - The session is loaded lazily, on the first call to Session: a handler
//     that never touches it pays for no decoding and gets no Set-Cookie.
//   - The Set-Cookie lines (and Cache-Control: no-store and Vary: Cookie) are
//     added before the first byte of the response: at WriteHeader, the first
//     Write or Flush, or when next returns without writing. 1xx responses
//     other than 101 pass through untouched. A response that loaded the
//     session carries Vary: Cookie even when it sets no cookie, so a shared
//     cache never serves one user's page to another.
//   - When the session cannot be saved (it grew past its budget), the
//     response is Config.ErrorHandler's (500 by default) instead of next's,
//     and the client keeps its previous cookie. Call [Session.Save] in the
//     handler to handle that case yourself.
//   - The ResponseWriter passed to next implements Flush and Unwrap, so
//     http.ResponseController's Flush, Hijack, SetReadDeadline,
//     SetWriteDeadline and EnableFullDuplex keep working. A hijacked
//     connection gets no Set-Cookie.
//   - With Config.DeviceBinding, it answers the registration and refresh
//     paths itself, and adds the Secure-Session-Registration header to the
//     response that saves a session asked to bind.
//   - If next panics, the panic goes on to net/http and nothing is written.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.dbsc != nil && m.dbsc.serve(m, w, r) {
			return
		}
		rs := &requestState{m: m, orig: r}
		rs.ctx = sessionContext{Context: r.Context(), rs: rs}
		rs.w = responseWriter{ResponseWriter: w, rs: rs}
		rs.r = r.WithContext(&rs.ctx)
		next.ServeHTTP(&rs.w, rs.r)
		rs.commit()
		rs.checkLate()
	})
}

// Session returns the session of a request served through [Manager.Handler],
// loading it on the first call. It panics when r did not come through this
// manager's Handler: a wiring mistake, whose panic message names the fix. Use
// [Manager.Load] outside the middleware.
func (m *Manager) Session(r *http.Request) *Session {
	rs, ok := r.Context().Value(m).(*requestState)
	if !ok {
		panic("cookiesession: Manager.Session called on a request that did not pass through this Manager's Handler: wrap the handler with Manager.Handler, or use Manager.Load")
	}
	return rs.session()
}

// SessionFrom returns the session of the request whose context is ctx, for
// code below the handler that has a [context.Context] and not the request:
// services, templates, data loaders. ctx may be the request's context or any
// context derived from it (with a deadline, a value, …). It is the same
// [*Session] that [Manager.Session] returns for that request, loaded on the
// first call by either.
//
// It returns [ErrNoSession] when ctx did not come from a request served
// through this Manager's Handler (a background context, another Manager's
// request). As with Session, changes made after the response's headers were
// written are not saved (see [ErrHeadersWritten]).
func (m *Manager) SessionFrom(ctx context.Context) (*Session, error) {
	rs, ok := ctx.Value(m).(*requestState)
	if !ok {
		return nil, ErrNoSession
	}
	return rs.session(), nil
}

// requestState is everything the middleware keeps for one request, in one
// allocation.
type requestState struct {
	m    *Manager
	r    *http.Request // the request next sees
	orig *http.Request // the request as it came, for Config.Validate
	ctx  sessionContext
	w    responseWriter

	// clean is set once the session is committed without error, so that
	// the writes after the first skip the lock.
	clean atomic.Bool

	mu        sync.Mutex // guards what follows
	sess      *Session
	committed bool
	sent      []string // the Set-Cookie lines committed
	failed    error    // the save error, after which next's writes are dropped
}

// session loads the session once. ErrorLog is called without the lock held,
// so that it may call Manager.Session itself.
func (rs *requestState) session() *Session {
	rs.mu.Lock()
	s := rs.sess
	var err error
	loaded := s == nil
	if loaded {
		s, err = rs.m.loadFrom(rs.orig, rs.r.Header["Cookie"], true)
		rs.sess = s
	}
	rs.mu.Unlock()
	if err != nil {
		rs.m.cfg.ErrorLog(rs.r, err)
	}
	if loaded {
		rs.m.reportImport(rs.r, s)
	}
	return s
}

// commit adds the session's Set-Cookie lines once. It reports false when the
// session could not be saved and the error response was written instead.
func (rs *requestState) commit() bool {
	rs.mu.Lock()
	if rs.committed {
		ok := rs.failed == nil
		rs.mu.Unlock()
		return ok
	}
	rs.committed = true
	if rs.sess == nil {
		rs.mu.Unlock()
		rs.clean.Store(true)
		return true
	}
	lines, err := rs.sess.commitLines()
	if err != nil {
		rs.failed = err
		rs.mu.Unlock()
		// Without the lock: both callbacks receive the request and may call
		// Manager.Session.
		rs.m.cfg.ErrorLog(rs.r, err)
		rs.m.cfg.ErrorHandler(rs.w.ResponseWriter, rs.r, err)
		return false
	}
	rs.sent = lines
	// The response was made with the session: a shared cache must key it on
	// the cookie even when no Set-Cookie goes out.
	addSessionHeaders(rs.w.Header(), lines, true)
	rs.sess.addRegistration(rs.w.Header())
	rs.mu.Unlock()
	rs.clean.Store(true)
	if len(lines) > 0 {
		rs.m.checkPlainHTTP(rs.r)
	}
	return true
}

// checkPlainHTTP logs once per Manager, at Warn with slog.Default, a Secure
// cookie sent in answer to a plain-HTTP request for a host other than
// localhost: browsers drop it, so that client never keeps a session (the
// visit counter stays at 1) and nothing else says so. It stays quiet when
// Config.Insecure is set, when the request came over TLS or with
// X-Forwarded-Proto: https (from a TLS-terminating proxy), and for localhost,
// *.localhost and loopback addresses, where browsers keep Secure cookies from
// http://. It goes to slog, not to Config.ErrorLog: it is about the
// deployment, not about a request's cookie.
func (m *Manager) checkPlainHTTP(r *http.Request) {
	if m.cfg.Insecure || r.TLS != nil || m.plainHTTPReported.Load() {
		return
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	if strings.EqualFold(strings.TrimSpace(proto), "https") {
		return
	}
	// Without allocating: this runs on every response of a server on
	// localhost.
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i > strings.LastIndexByte(host, ']') {
		host = host[:i] // the port
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") || len(host) > len(".localhost") &&
		strings.EqualFold(host[len(host)-len(".localhost"):], ".localhost") {
		return
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
		return
	}
	if m.plainHTTPReported.Swap(true) {
		return
	}
	slog.Default().Warn("cookiesession: Secure cookie sent over plain HTTP: browsers drop a Secure cookie "+
		"received over http:// from any host but localhost, so this client keeps no session; serve HTTPS "+
		"(behind a TLS-terminating proxy, have it send X-Forwarded-Proto: https), or set Config.Insecure for "+
		"plain-HTTP development (logged once)", "url", "http://"+r.Host+r.URL.Path)
}

// checkLate reports a session changed after its cookies were committed.
func (rs *requestState) checkLate() {
	rs.mu.Lock()
	s, failed, sent := rs.sess, rs.failed, rs.sent
	rs.mu.Unlock()
	if s == nil || failed != nil {
		return
	}
	s.mu.Lock()
	// Changed since, or changed and saved since (Save after the headers
	// sealed lines that nobody will send).
	late := s.dirty || !slices.Equal(s.st.sealed, sent)
	s.mu.Unlock()
	if late {
		rs.m.cfg.ErrorLog(rs.r, ErrHeadersWritten)
	}
}

// sessionContext carries the request state in the request's context without
// a separate allocation.
type sessionContext struct {
	context.Context
	rs *requestState
}

func (c *sessionContext) Value(key any) any {
	if key == any(c.rs.m) {
		return c.rs
	}
	return c.Context.Value(key)
}

// responseWriter commits the session before the response's first byte.
type responseWriter struct {
	http.ResponseWriter
	rs *requestState
}

func (w *responseWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols { // 101 is final
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.rs.commit() {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.rs.clean.Load() {
		return w.ResponseWriter.Write(b)
	}
	if !w.rs.commit() {
		return 0, w.rs.failed
	}
	return w.ResponseWriter.Write(b)
}

// Flush commits the session, then flushes, if the underlying writer can.
func (w *responseWriter) Flush() { _ = w.FlushError() }

// FlushError is what http.ResponseController.Flush calls.
func (w *responseWriter) FlushError() error {
	if !w.rs.commit() {
		return w.rs.failed
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the underlying ResponseWriter, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
