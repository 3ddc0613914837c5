package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/cookiesession/cookiesession"
)

// The tests invoke the function as the Lambda runtime does: an API Gateway v2
// event from testdata/ as JSON, through aws-lambda-go's handler, and the
// response decoded from its JSON. A client carries the response's cookies
// into the next event's cookies list, as a browser behind API Gateway does.

func testHandler(t *testing.T) *Handler {
	t.Helper()
	key, err := cookiesession.NewKey("lambda-test-1", bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cookiesession.NewKeyRing(key)
	if err != nil {
		t.Fatal(err)
	}
	m, err := cookiesession.New(cookiesession.Config{Keys: ring})
	if err != nil {
		t.Fatal(err)
	}
	return &Handler{Sessions: m}
}

// client is one browser behind API Gateway: a cookie jar.
type client struct {
	t      *testing.T
	invoke lambda.Handler
	jar    map[string]string // the session's cookies the client holds
	n      int
}

func newClient(t *testing.T, h *Handler) *client {
	return &client{t: t, invoke: lambda.NewHandler(h.Handle), jar: map[string]string{}}
}

// do sends the fixture's event with the jar's cookies appended to the
// fixture's own (other cookies of the site), applies the response's
// Set-Cookie values to the jar, and returns the response and its JSON body.
func (c *client) do(fixture string, edit func(*events.APIGatewayV2HTTPRequest)) (events.APIGatewayV2HTTPResponse, State) {
	c.t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		c.t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		c.t.Fatalf("%s: %v", fixture, err)
	}
	c.n++
	ev.RequestContext.RequestID = fmt.Sprintf("%s-%d", ev.RequestContext.RequestID, c.n)
	for _, name := range slices.Sorted(maps.Keys(c.jar)) {
		ev.Cookies = append(ev.Cookies, name+"="+c.jar[name])
	}
	if edit != nil {
		edit(&ev)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		c.t.Fatal(err)
	}
	out, err := c.invoke.Invoke(context.Background(), payload)
	if err != nil {
		c.t.Fatalf("%s: invoke: %v", fixture, err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		c.t.Fatalf("%s: response: %v: %s", fixture, err, out)
	}
	for _, line := range resp.Cookies {
		sc, err := http.ParseSetCookie(line)
		if err != nil {
			c.t.Fatalf("%s: Set-Cookie %q: %v", fixture, line, err)
		}
		if !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || len(line) > cookiesession.MaxCookieBytes {
			c.t.Fatalf("%s: Set-Cookie without the expected attributes or too long (%d bytes): %.120q", fixture, len(line), line)
		}
		if sc.MaxAge < 0 {
			delete(c.jar, sc.Name)
		} else {
			c.jar[sc.Name] = sc.Value
		}
	}
	if len(resp.Cookies) > 0 && (resp.Headers["Cache-Control"] != "no-store" || resp.Headers["Vary"] != "Cookie") {
		c.t.Fatalf("%s: a response that sets cookies has headers %v", fixture, resp.Headers)
	}
	var st State
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal([]byte(resp.Body), &st); err != nil {
			c.t.Fatalf("%s: body %q: %v", fixture, resp.Body, err)
		}
	}
	return resp, st
}

func (c *client) names() []string { return slices.Sorted(maps.Keys(c.jar)) }

func wantStatus(t *testing.T, resp events.APIGatewayV2HTTPResponse, code int) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, code, resp.Body)
	}
}

func TestSessionCarriesOver(t *testing.T) {
	c := newClient(t, testHandler(t))
	var id string
	for want := 1; want <= 3; want++ {
		resp, st := c.do("get-root.json", nil)
		wantStatus(t, resp, http.StatusOK)
		if st.Visits != want || st.Session.Fresh != (want == 1) {
			t.Fatalf("visit %d: %+v", want, st)
		}
		if len(resp.Cookies) != 1 || !slices.Equal(c.names(), []string{"session"}) {
			t.Fatalf("visit %d: Set-Cookie %d lines, jar %v", want, len(resp.Cookies), c.names())
		}
		if want > 1 && st.Session.ID != id {
			t.Fatalf("visit %d: session id %s, was %s", want, st.Session.ID, id)
		}
		id = st.Session.ID
	}

	// Login (a base64-encoded form body, as API Gateway passes it) renews the id.
	resp, st := c.do("post-login.json", nil)
	wantStatus(t, resp, http.StatusOK)
	if st.User != "alice" || st.Session.ID == id || st.Visits != 3 {
		t.Fatalf("after login: %+v (id was %s)", st, id)
	}
	resp, st = c.do("get-root.json", nil)
	wantStatus(t, resp, http.StatusOK)
	if st.User != "alice" || st.Visits != 4 || st.Session.Fresh {
		t.Fatalf("after login, visit: %+v", st)
	}

	// Logout expires the cookie; the next visit starts again.
	resp, _ = c.do("post-logout.json", nil)
	wantStatus(t, resp, http.StatusOK)
	if len(c.jar) != 0 {
		t.Fatalf("after logout the client holds %v (Set-Cookie %q)", c.names(), resp.Cookies)
	}
	_, st = c.do("get-root.json", nil)
	if st.Visits != 1 || st.User != "" || !st.Session.Fresh {
		t.Fatalf("after logout, visit: %+v", st)
	}
}

func TestTamperedCookieGivesFreshSession(t *testing.T) {
	c := newClient(t, testHandler(t))
	c.do("get-root.json", nil)
	_, st := c.do("get-root.json", nil)
	if st.Visits != 2 {
		t.Fatalf("setup: %+v", st)
	}
	tampered := flip(c.jar["session"])
	c.jar["session"] = tampered

	resp, st := c.do("get-root.json", nil)
	wantStatus(t, resp, http.StatusOK)
	if st.Visits != 1 || !st.Session.Fresh {
		t.Fatalf("a tampered cookie gave %+v, want a fresh session", st)
	}
	if c.jar["session"] == tampered || c.jar["session"] == "" {
		t.Fatal("the tampered cookie was not replaced")
	}

	// A tampered chunk of a chunked session: fresh too, and the response
	// expires the chunk the new session does not use.
	growPastOneCookie(t, c)
	c.jar["session.1"] = flip(c.jar["session.1"])
	resp, st = c.do("get-root.json", nil)
	wantStatus(t, resp, http.StatusOK)
	if st.Visits != 1 || !st.Session.Fresh || len(st.Notes) != 0 {
		t.Fatalf("a tampered chunk gave %+v, want a fresh session", st)
	}
	if !slices.Equal(c.names(), []string{"session"}) {
		t.Fatalf("after a tampered chunk the client holds %v", c.names())
	}
}

// growPastOneCookie adds notes until the session takes two cookies.
func growPastOneCookie(t *testing.T, c *client) []string {
	t.Helper()
	var notes []string
	for i := 0; len(c.jar) < 2; i++ {
		if i == 10 {
			t.Fatalf("the session never grew past one cookie: %v", c.names())
		}
		note := fmt.Sprintf("note %d: %s", i, strings.Repeat(string(rune('a'+i)), 1500))
		resp, st := c.do("post-notes.json", func(ev *events.APIGatewayV2HTTPRequest) { ev.Body = note })
		wantStatus(t, resp, http.StatusOK)
		notes = append(notes, note)
		if !slices.Equal(st.Notes, notes) {
			t.Fatalf("notes: got %d, want %d", len(st.Notes), len(notes))
		}
	}
	return notes
}

func TestChunkedSessionRoundTrip(t *testing.T) {
	c := newClient(t, testHandler(t))
	c.do("get-root.json", nil)
	notes := growPastOneCookie(t, c)
	if !slices.Equal(c.names(), []string{"session", "session.1"}) {
		t.Fatalf("the client holds %v, want session and session.1", c.names())
	}

	// The next event carries the chunks as separate items of its cookies list.
	var sent []string
	resp, st := c.do("get-root.json", func(ev *events.APIGatewayV2HTTPRequest) { sent = ev.Cookies })
	wantStatus(t, resp, http.StatusOK)
	if st.Session.Chunks != 2 || st.Session.Fresh || st.Visits != 2 || !slices.Equal(st.Notes, notes) {
		t.Fatalf("the chunked session opened as chunks=%d fresh=%v visits=%d notes=%d", st.Session.Chunks, st.Session.Fresh, st.Visits, len(st.Notes))
	}
	if len(sent) != 4 || !strings.HasPrefix(sent[2], "session=") || !strings.HasPrefix(sent[3], "session.1=") {
		t.Fatalf("cookies list sent: %.60q", sent)
	}

	// Past the budget: 413, no Set-Cookie, the client keeps its session.
	before := maps.Clone(c.jar)
	var tooLarge events.APIGatewayV2HTTPResponse
	for i := 0; tooLarge.StatusCode == 0; i++ {
		if i == 10 {
			t.Fatal("the session never went over the budget")
		}
		resp, _ := c.do("post-notes.json", func(ev *events.APIGatewayV2HTTPRequest) { ev.Body = strings.Repeat("z", 2000) })
		switch resp.StatusCode {
		case http.StatusOK:
			before = maps.Clone(c.jar)
		case http.StatusRequestEntityTooLarge:
			tooLarge = resp
		default:
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
	}
	if len(tooLarge.Cookies) != 0 || !maps.Equal(c.jar, before) {
		t.Fatalf("over the budget: Set-Cookie %d lines, the client's session changed", len(tooLarge.Cookies))
	}
	var body map[string]any
	json.Unmarshal([]byte(tooLarge.Body), &body)
	if body["budget"] == nil || body["what"] == nil {
		t.Fatalf("413 body: %s", tooLarge.Body)
	}
	resp, st = c.do("get-root.json", nil)
	wantStatus(t, resp, http.StatusOK)
	if st.Session.Fresh || len(st.Notes) < len(notes) {
		t.Fatalf("after the refused note: %+v", st)
	}

	// Shrinking expires the chunk the client no longer needs.
	resp, st = c.do("delete-notes.json", nil)
	wantStatus(t, resp, http.StatusOK)
	if !slices.Equal(c.names(), []string{"session"}) || len(st.Notes) != 0 {
		t.Fatalf("after deleting the notes the client holds %v", c.names())
	}
	_, st = c.do("get-root.json", nil)
	if st.Session.Chunks != 1 || st.Session.Fresh {
		t.Fatalf("after shrinking: %+v", st)
	}
}

func TestNotFoundAndBadInput(t *testing.T) {
	c := newClient(t, testHandler(t))
	resp, _ := c.do("get-root.json", func(ev *events.APIGatewayV2HTTPRequest) {
		ev.RawPath, ev.RequestContext.HTTP.Path = "/nowhere", "/nowhere"
	})
	wantStatus(t, resp, http.StatusNotFound)
	resp, _ = c.do("post-login.json", func(ev *events.APIGatewayV2HTTPRequest) { ev.Body, ev.IsBase64Encoded = "user=", false })
	wantStatus(t, resp, http.StatusBadRequest)
	if len(c.jar) != 0 {
		t.Fatalf("an error response set cookies: %v", c.names())
	}
	// A named stage keeps its name in rawPath.
	resp, st := c.do("get-root.json", func(ev *events.APIGatewayV2HTTPRequest) {
		ev.RawPath, ev.RequestContext.Stage = "/prod/", "prod"
	})
	wantStatus(t, resp, http.StatusOK)
	if st.Visits != 1 {
		t.Fatalf("stage path: %+v", st)
	}
}

func TestFixturesLookLikeAPIGatewayV2(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	if len(files) < 5 {
		t.Fatalf("fixtures: %v", files)
	}
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		hc := ev.RequestContext.HTTP
		if ev.Version != "2.0" || ev.RouteKey == "" || hc.Method == "" || hc.Path != ev.RawPath || ev.RequestContext.RequestID == "" || ev.RequestContext.TimeEpoch == 0 {
			t.Errorf("%s: not an API Gateway payload 2.0 event: %+v", f, ev)
		}
		if _, ok := ev.Headers["cookie"]; ok {
			t.Errorf("%s: payload 2.0 moves the Cookie header into the cookies list", f)
		}
		for _, c := range ev.Cookies {
			if strings.Contains(c, ";") || !strings.Contains(c, "=") {
				t.Errorf("%s: cookies item %q is not one name=value", f, c)
			}
		}
	}
}

func TestNewHandlerFromEnvironment(t *testing.T) {
	t.Setenv("COOKIESESSION_KEYS", "")
	if _, err := newHandler(); err == nil {
		t.Fatal("newHandler without keys: no error")
	}
	key, _ := cookiesession.GenerateKey("env-1")
	ring, _ := cookiesession.NewKeyRing(key)
	jwks, err := ring.ExportJWKS()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("COOKIESESSION_KEYS", string(jwks))
	h, err := newHandler()
	if err != nil {
		t.Fatal(err)
	}
	_, st := newClient(t, h).do("get-root.json", nil)
	if st.Visits != 1 {
		t.Fatalf("%+v", st)
	}
}

// flip changes one character in the middle of the longest segment of a sealed
// value, keeping it in the base64url alphabet.
func flip(v string) string {
	segs := strings.Split(v, ".")
	longest := 0
	for i, s := range segs {
		if len(s) > len(segs[longest]) {
			longest = i
		}
	}
	s := []byte(segs[longest])
	if i := len(s) / 2; s[i] == 'A' {
		s[i] = 'B'
	} else {
		s[i] = 'A'
	}
	segs[longest] = string(s)
	return strings.Join(segs, ".")
}

// TestCrossOriginRefused: a login posted by a page of another origin (login
// CSRF) is refused with 403 and sets no cookie; the same POST from the site's
// own page logs in.
func TestCrossOriginRefused(t *testing.T) {
	c := newClient(t, testHandler(t))
	for _, headers := range []map[string]string{
		{"sec-fetch-site": "cross-site"},
		{"sec-fetch-site": "same-site"},
		{"origin": "https://attacker.example"},
	} {
		resp, _ := c.do("post-login.json", func(ev *events.APIGatewayV2HTTPRequest) { maps.Copy(ev.Headers, headers) })
		wantStatus(t, resp, http.StatusForbidden)
		if len(resp.Cookies) != 0 {
			t.Fatalf("%v: refused, yet sets %q", headers, resp.Cookies)
		}
	}
	resp, st := c.do("post-login.json", func(ev *events.APIGatewayV2HTTPRequest) {
		ev.Headers["sec-fetch-site"] = "same-origin"
		ev.Headers["origin"] = "https://" + ev.Headers["host"]
	})
	wantStatus(t, resp, http.StatusOK)
	if st.User != "alice" {
		t.Fatalf("same-origin login: user %q", st.User)
	}
}
