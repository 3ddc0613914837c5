// Command edge is the cookiesession demo (examples/visits) served from
// Cloudflare's runtime, workerd: the same handlers (package
// examples/visits/app) compiled with GOOS=js GOARCH=wasm and called by a small
// JavaScript bridge, worker.mjs, once per request.
//
//	GOOS=js GOARCH=wasm go build -ldflags="-s -w" -o examples/edge/build/visits.wasm ./examples/edge
//	cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" examples/edge/build/
//	npm install --prefix examples/edge/build/npm workerd@1.20261117.1
//	COOKIESESSION_KEYS="$(cat keys.json)" examples/edge/build/npm/node_modules/.bin/workerd serve examples/edge/config.capnp
//
// wrangler.toml deploys it to Cloudflare; scripts/edge.sh tests it in workerd
// (see "Deploying to the edge" in the repository's README).
//
// The key ring is the JWK Set in the COOKIESESSION_KEYS binding (a Workers
// secret; the bridge hands it to the Go program as its environment). A worker
// without a valid ring answers every request with a 500 page that says so and
// logs why: it never exits, so the runtime does not restart it in a loop.
//
// This file holds what does not depend on the JavaScript runtime: the handler
// and the conversion of one request and its response. main.go (js/wasm only)
// connects them to the bridge.
package main

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/examples/visits/app"
)

// keysVar names the binding (the environment variable of the Go program)
// that holds the key ring.
const keysVar = "COOKIESESSION_KEYS"

// newHandler returns the demo behind its session middleware, configured as
// the native demo is by default (cookie "session", encrypted, 24 hours, 30
// days with "remember me", a revocation list in memory), so that the two
// share sessions when they share a ring. Without a valid ring it logs the
// reason once and returns [unconfigured].
//
// The revocation list in memory is the isolate's own: "log out everywhere"
// holds in the isolate that served it, not across a deployment's isolates.
func newHandler() http.Handler {
	keys, err := cookiesession.KeyRingFromEnv(keysVar)
	var sessions *cookiesession.Manager
	if err == nil {
		sessions, err = cookiesession.New(cookiesession.Config{
			Keys:             keys,
			RememberLifetime: 30 * 24 * time.Hour,
			Revocations:      cookiesession.NewRevocations(nil),
		})
	}
	if err != nil {
		slog.Error("edge: no valid key ring: every request gets a 500 until a deployment sets one", "binding", keysVar, "err", err)
		return unconfigured{err}
	}
	slog.Info("edge: serving the demo", "ring", keys)
	return sessions.Handler(app.New(sessions))
}

// unconfigured answers every request with a 500 page that names the missing
// binding, and logs the reason again for that request. The page does not
// carry the error: it is for the operator's logs.
type unconfigured struct{ err error }

func (u unconfigured) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	slog.Error("edge: 500: no valid key ring", "binding", keysVar, "method", r.Method, "path", r.URL.Path, "err", u.err)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not configured</title></head><body>
<h1>500: this worker has no session key ring</h1>
<p>The %s binding is missing or is not a valid JWK Set. Set it and deploy again:</p>
<pre>go run ./cmd/cookiesession keygen --out keys.json
npx wrangler secret put %s &lt; keys.json
npx wrangler deploy</pre>
<p>The worker's log says why the ring was refused.</p>
</body></html>
`, keysVar, keysVar)
}

// request is one Fetch API request as the bridge hands it over: the header
// list in order, with repeated names repeated, and the whole body.
type request struct {
	method string
	url    string
	header [][2]string
	body   []byte
}

// response is what the bridge turns into a Fetch API Response: the header
// list has one entry per value, so every Set-Cookie line stays its own.
type response struct {
	status int
	header [][2]string
	body   []byte
}

// serve runs h for one request. A request the bridge could not describe (an
// unparsable URL) gets a 400; a handler that panics gets a 500 and a log
// line, and the program goes on serving.
func serve(h http.Handler, in request) (out response) {
	u, err := url.Parse(in.url)
	if err != nil || u.Host == "" {
		return response{status: http.StatusBadRequest, header: [][2]string{{"Content-Type", "text/plain; charset=utf-8"}}, body: []byte("bad request URL\n")}
	}
	r, err := http.NewRequest(in.method, in.url, bytes.NewReader(in.body))
	if err != nil {
		return response{status: http.StatusBadRequest, header: [][2]string{{"Content-Type", "text/plain; charset=utf-8"}}, body: []byte("bad request\n")}
	}
	for _, kv := range in.header {
		r.Header.Add(kv[0], kv[1])
	}
	r.RequestURI = u.RequestURI()
	if u.Scheme == "https" {
		r.TLS = &tls.ConnectionState{} // the edge terminated TLS; handlers that check r.TLS see it
	}
	if ip := r.Header.Get("CF-Connecting-IP"); ip != "" {
		r.RemoteAddr = ip
	}

	w := &responseWriter{header: http.Header{}}
	defer func() {
		if p := recover(); p != nil {
			slog.Error("edge: 500: handler panicked", "method", in.method, "path", u.Path, "panic", fmt.Sprint(p))
			out = response{status: http.StatusInternalServerError, header: [][2]string{{"Content-Type", "text/plain; charset=utf-8"}}, body: []byte("internal server error\n")}
		}
	}()
	h.ServeHTTP(w, r)
	return w.response()
}

// responseWriter keeps the response in memory: the bridge answers with the
// whole of it once the handler returns.
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// Flush is a no-op: the body goes out whole when the handler returns.
func (w *responseWriter) Flush() {}

// response returns the status (200 if the handler set none), the headers in
// a stable order with each value on its own, and the body.
func (w *responseWriter) response() response {
	w.WriteHeader(http.StatusOK)
	names := make([]string, 0, len(w.header))
	for name := range w.header {
		names = append(names, name)
	}
	slices.Sort(names)
	var header [][2]string
	for _, name := range names {
		for _, v := range w.header[name] {
			header = append(header, [2]string{name, v})
		}
	}
	return response{status: w.status, header: header, body: w.body.Bytes()}
}
