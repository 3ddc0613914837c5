package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
)

// These tests run natively: they cover what the Go side of the bridge does.
// scripts/edge.sh runs the wasm build in workerd.

// logs sends slog's default logger to a buffer for the test.
func logs(t *testing.T) *bytes.Buffer {
	var buf bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return &buf
}

func testRing(t *testing.T) string {
	key, err := cookiesession.GenerateKey("edge-test")
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := ring.ExportJWKS()
	if err != nil {
		t.Fatal(err)
	}
	return string(jwks)
}

// client carries cookies from one response to the next request, as a
// browser's jar does for one site.
type client struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]string
}

func (c *client) do(method, target string, form url.Values) response {
	c.t.Helper()
	in := request{method: method, url: "https://edge.example" + target}
	var pairs []string
	for name, value := range c.cookies {
		pairs = append(pairs, name+"="+value)
	}
	if len(pairs) > 0 {
		in.header = append(in.header, [2]string{"Cookie", strings.Join(pairs, "; ")})
	}
	if form != nil {
		in.header = append(in.header, [2]string{"Content-Type", "application/x-www-form-urlencoded"})
		in.body = []byte(form.Encode())
	}
	out := serve(c.h, in)
	for _, kv := range out.header {
		if kv[0] != "Set-Cookie" {
			continue
		}
		ck, err := http.ParseSetCookie(kv[1])
		if err != nil {
			c.t.Fatalf("Set-Cookie %q: %v", kv[1], err)
		}
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return out
}

func setCookies(out response) []string {
	var lines []string
	for _, kv := range out.header {
		if kv[0] == "Set-Cookie" {
			lines = append(lines, kv[1])
		}
	}
	return lines
}

var visitsRe = regexp.MustCompile(`<span id="visits">(\d+)</span>`)

func visits(t *testing.T, out response) string {
	t.Helper()
	m := visitsRe.FindSubmatch(out.body)
	if out.status != http.StatusOK || m == nil {
		t.Fatalf("status %d, no visit count in %q", out.status, out.body)
	}
	return string(m[1])
}

func TestWorkerServesTheDemo(t *testing.T) {
	t.Setenv(keysVar, testRing(t))
	c := &client{t: t, h: newHandler(), cookies: map[string]string{}}
	for _, want := range []string{"1", "2", "3"} {
		if got := visits(t, c.do("GET", "/", nil)); got != want {
			t.Fatalf("visits %s, want %s", got, want)
		}
	}

	out := c.do("POST", "/login", url.Values{"user": {"ada"}})
	if out.status != http.StatusSeeOther || len(setCookies(out)) != 1 {
		t.Fatalf("login: status %d, Set-Cookie %q", out.status, setCookies(out))
	}
	out = c.do("GET", "/", nil)
	if visits(t, out) != "4" || !bytes.Contains(out.body, []byte("Welcome, ada.")) || !bytes.Contains(out.body, []byte(`<b id="user">ada</b>`)) {
		t.Fatalf("after login: %s", out.body)
	}
}

// TestWorkerLogOutEverywhere: the worker is configured with a revocation
// list, as the native demo is, so "log out everywhere" logs out the user's
// other browser and keeps this one.
func TestWorkerLogOutEverywhere(t *testing.T) {
	t.Setenv(keysVar, testRing(t))
	h := newHandler()
	laptop := &client{t: t, h: h, cookies: map[string]string{}}
	phone := &client{t: t, h: h, cookies: map[string]string{}}
	laptop.do("POST", "/login", url.Values{"user": {"ada"}})
	phone.do("POST", "/login", url.Values{"user": {"ada"}})
	out := laptop.do("POST", "/logout/everywhere", nil)
	if out.status != http.StatusSeeOther || !slices.Contains(out.header, [2]string{"Location", "/"}) {
		t.Fatalf("log out everywhere: status %d, headers %q, want a redirect to /", out.status, out.header)
	}
	if out := laptop.do("GET", "/", nil); !bytes.Contains(out.body, []byte(`<b id="user">ada</b>`)) {
		t.Fatalf("the laptop was logged out too: %s", out.body)
	}
	if out := phone.do("GET", "/", nil); bytes.Contains(out.body, []byte(`<b id="user">`)) {
		t.Fatalf("the phone is still logged in: %s", out.body)
	}
}

// TestWorkerSetCookieLines checks that each Set-Cookie value is its own
// header entry when the session spans cookies, and when they expire.
func TestWorkerSetCookieLines(t *testing.T) {
	t.Setenv(keysVar, testRing(t))
	c := &client{t: t, h: newHandler(), cookies: map[string]string{}}
	c.do("POST", "/cart", url.Values{"n": {"40"}})
	if _, ok := c.cookies["session.1"]; !ok {
		t.Fatalf("40 items: cookies %v, want a second chunk session.1", keys(c.cookies))
	}
	out := c.do("GET", "/cart", nil)
	if !bytes.Contains(out.body, []byte(`<span id="count">40</span>`)) {
		t.Fatalf("the chunked cart did not open: %s", out.body)
	}
	out = c.do("POST", "/logout", url.Values{"flash": {"off"}})
	lines := setCookies(out)
	if len(lines) < 2 {
		t.Fatalf("logout of a chunked session: Set-Cookie %q, want one expired line per chunk", lines)
	}
	for _, l := range lines {
		if strings.Count(l, "Max-Age=") != 1 {
			t.Errorf("Set-Cookie line %q holds more than one cookie", l)
		}
	}
	if len(c.cookies) != 0 {
		t.Fatalf("after logout the client keeps %v", keys(c.cookies))
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestWorkerTamperedCookie: a tampered cookie is a fresh session and a 200.
func TestWorkerTamperedCookie(t *testing.T) {
	t.Setenv(keysVar, testRing(t))
	c := &client{t: t, h: newHandler(), cookies: map[string]string{}}
	c.do("GET", "/", nil)
	c.do("GET", "/", nil)
	segs := strings.Split(c.cookies["session"], ".")
	ct := []byte(segs[3]) // the ciphertext of dir+A256GCM's five segments
	if ct[0] == 'A' {
		ct[0] = 'B'
	} else {
		ct[0] = 'A'
	}
	segs[3] = string(ct)
	c.cookies["session"] = strings.Join(segs, ".")
	logged := logs(t)
	if got := visits(t, c.do("GET", "/", nil)); got != "1" {
		t.Fatalf("tampered cookie: visits %s, want a fresh session's 1", got)
	}
	if !strings.Contains(logged.String(), "level=WARN") {
		t.Errorf("the refused cookie was not logged: %q", logged)
	}
}

// TestWorkerWithoutRing: a missing or bad ring is a 500 page on every
// request and a log line; the page carries neither the error nor the value.
func TestWorkerWithoutRing(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"missing", ""},
		{"not JSON", "secret-but-not-a-ring"},
		{"empty set", `{"keys":[]}`},
		{"short key", `{"keys":[{"kty":"oct","kid":"k1","k":"c2hvcnQtc2VjcmV0"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(keysVar, tc.value)
			logged := logs(t)
			h := newHandler()
			for range 2 {
				out := serve(h, request{method: "GET", url: "https://edge.example/"})
				if out.status != http.StatusInternalServerError {
					t.Fatalf("status %d, want 500", out.status)
				}
				if !bytes.Contains(out.body, []byte("no session key ring")) || !bytes.Contains(out.body, []byte(keysVar)) {
					t.Errorf("the page does not say what is missing: %s", out.body)
				}
				if tc.value != "" && bytes.Contains(out.body, []byte(tc.value)) {
					t.Errorf("the page shows the binding's value: %s", out.body)
				}
				if len(setCookies(out)) != 0 {
					t.Errorf("Set-Cookie on a 500: %q", setCookies(out))
				}
			}
			if n := strings.Count(logged.String(), "no valid key ring"); n != 3 {
				t.Errorf("log: %d lines about the ring, want one at start and one per request:\n%s", n, logged)
			}
			if tc.value != "" && strings.Contains(logged.String(), tc.value) {
				t.Errorf("the log shows the binding's value:\n%s", logged)
			}
		})
	}
}

func TestServeRequest(t *testing.T) {
	var got *http.Request
	var body []byte
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body = make([]byte, r.ContentLength)
		r.Body.Read(body)
		w.Header().Add("Set-Cookie", "a=1; Path=/")
		w.Header().Add("Set-Cookie", "b=2; Path=/, c=3")
		w.Header().Set("X-Empty", "")
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusTeapot) // ignored, as net/http does
		w.Write([]byte("made"))
	})
	out := serve(h, request{
		method: "POST",
		url:    "https://edge.example/path?q=1",
		header: [][2]string{{"Cookie", "a=1"}, {"X-Twice", "1"}, {"x-twice", "2"}, {"CF-Connecting-IP", "203.0.113.9"}},
		body:   []byte("hello"),
	})
	if got.Method != "POST" || got.Host != "edge.example" || got.RequestURI != "/path?q=1" || got.URL.Query().Get("q") != "1" {
		t.Errorf("request: %s %s host %s uri %s", got.Method, got.URL, got.Host, got.RequestURI)
	}
	if got.TLS == nil || got.RemoteAddr != "203.0.113.9" || string(body) != "hello" {
		t.Errorf("request: TLS %v, RemoteAddr %q, body %q", got.TLS, got.RemoteAddr, body)
	}
	if v := got.Header.Values("X-Twice"); len(v) != 2 {
		t.Errorf("repeated header: %q", v)
	}
	if out.status != http.StatusCreated || string(out.body) != "made" {
		t.Errorf("response: %d %q", out.status, out.body)
	}
	want := [][2]string{{"Set-Cookie", "a=1; Path=/"}, {"Set-Cookie", "b=2; Path=/, c=3"}, {"X-Empty", ""}}
	if len(out.header) != len(want) {
		t.Fatalf("headers %q, want %q", out.header, want)
	}
	for i := range want {
		if out.header[i] != want[i] {
			t.Errorf("header %d: %q, want %q", i, out.header[i], want[i])
		}
	}

	out = serve(h, request{method: "GET", url: "http://edge.example/"})
	if got.TLS != nil {
		t.Error("http URL: r.TLS is set")
	}
	if out.status != http.StatusCreated {
		t.Errorf("status %d", out.status)
	}
}

func TestServeBadInput(t *testing.T) {
	called := false
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
	for _, in := range []request{
		{},
		{method: "GET", url: "/relative"},
		{method: "GET", url: "http://[::1"},
		{method: "BAD METHOD", url: "https://edge.example/"},
	} {
		if out := serve(h, in); out.status != http.StatusBadRequest {
			t.Errorf("%+v: status %d, want 400", in, out.status)
		}
	}
	if called {
		t.Error("the handler ran for a bad request")
	}
}

func TestServeRecoversPanics(t *testing.T) {
	logged := logs(t)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			w.Header().Set("Set-Cookie", "half=written")
			panic("boom")
		}
		w.Write([]byte("fine"))
	})
	out := serve(h, request{method: "GET", url: "https://edge.example/boom"})
	if out.status != http.StatusInternalServerError || len(setCookies(out)) != 0 {
		t.Fatalf("panic: status %d, Set-Cookie %q", out.status, setCookies(out))
	}
	if !strings.Contains(logged.String(), "panicked") {
		t.Errorf("the panic was not logged: %s", logged)
	}
	if out := serve(h, request{method: "GET", url: "https://edge.example/"}); out.status != http.StatusOK || string(out.body) != "fine" {
		t.Fatalf("after a panic: %d %q", out.status, out.body)
	}
}
