// Package adapt is what the framework adapters (adapters/ginsession,
// adapters/echosession) share: it saves a request's session before the
// response's first byte, so that a save error (a session grown past its
// budget) reaches the framework's own error path instead of
// Config.ErrorHandler, and the handler's response is never half written.
//
// The adapters run [cookiesession.Manager.Handler] around the framework's
// handler chain, hand the framework a [Writer] around the Handler's writer,
// and load the session through [State.Session]. Before the first byte goes
// out (a header, a body byte, a flush) and when the chain returns, the
// Writer calls [State.Save]: the session, if it was loaded, is sealed then,
// and the Handler's own commit afterwards only sends the sealed cookies. A
// session loaded some other way (Manager.Session on the request) is saved by
// the Handler alone, and a save error there is Config.ErrorHandler's.
package adapt

import (
	"net/http"
	"sync"

	"github.com/cookiesession/cookiesession"
)

// State is one request's session for an adapter.
type State struct {
	m *cookiesession.Manager
	r *http.Request // the request Manager.Handler passed on

	// onError, if not nil, is called once, with the save error, before
	// the Writer refuses the response's bytes.
	onError func(error)

	mu     sync.Mutex
	loaded bool
	saved  bool
	err    error
}

// NewState returns the state of r, a request that Manager.Handler passed on.
// onError, if not nil, receives the save error, once.
func NewState(m *cookiesession.Manager, r *http.Request, onError func(error)) *State {
	return &State{m: m, r: r, onError: onError}
}

// Session returns the request's session, loading it on the first call.
func (st *State) Session() *cookiesession.Session {
	st.mu.Lock()
	st.loaded = true
	st.mu.Unlock()
	return st.m.Session(st.r)
}

// Save seals the session once, if it was loaded: the first call does the
// work (and calls onError on failure), later calls return its result.
func (st *State) Save() error {
	st.mu.Lock()
	if st.saved {
		err := st.err
		st.mu.Unlock()
		return err
	}
	st.saved = true
	loaded := st.loaded
	st.mu.Unlock()
	if !loaded {
		return nil
	}
	err := st.m.Session(st.r).Save()
	if err != nil {
		st.mu.Lock()
		st.err = err
		st.mu.Unlock()
		if st.onError != nil {
			st.onError(err)
		}
	}
	return err
}

// Err returns the save error, nil when there was none (yet).
func (st *State) Err() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err
}

// Writer is the ResponseWriter an adapter hands its framework: it saves the
// session before the first byte, then passes everything on to the
// Manager.Handler's writer it wraps. After a save error it drops the
// response (writes return the error), which the framework's error path
// replaces.
type Writer struct {
	http.ResponseWriter // Manager.Handler's
	State               *State
}

// WriteHeader saves the session, then sends the header; 1xx informational
// headers other than 101 pass at once.
func (w *Writer) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.State.Save() == nil {
		w.ResponseWriter.WriteHeader(code)
	}
}

// Write saves the session, then writes b.
func (w *Writer) Write(b []byte) (int, error) {
	if err := w.State.Save(); err != nil {
		return 0, err
	}
	return w.ResponseWriter.Write(b)
}

// Flush is FlushError without the error.
func (w *Writer) Flush() { _ = w.FlushError() }

// FlushError saves the session, then flushes: what
// http.ResponseController.Flush calls.
func (w *Writer) FlushError() error {
	if err := w.State.Save(); err != nil {
		return err
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the wrapped writer, for http.ResponseController's Hijack
// and deadlines.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
