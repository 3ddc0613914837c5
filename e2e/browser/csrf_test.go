package browser

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// checkCrossOriginPost is login CSRF: a page of another origin that submits
// a login form to the demo as soon as it loads. The visitor is logged in as
// alice through the demo's own form (a same-origin POST: accepted); then two
// attacker pages, one on another site (127.0.0.1 against a demo on
// localhost, or the reverse: the Lax cookie is not sent, the response could
// still set one) and one on another port of the same site (the Lax cookie is
// sent), post user=mallory. Each POST reaches the demo, which answers 403
// (http.CrossOriginProtection), and alice stays logged in. Status, text and
// user are read from the browser.
func checkCrossOriginPost(t *testing.T, b *browser) {
	b.clearCookies()
	b.navigate("/login")
	b.setValue("#user-input", "alice")
	b.submit("#login")
	if got := b.text("#user"); got != "alice" {
		t.Fatalf("control: the same-origin login POST left user %q", got)
	}
	baseHost, port, _ := strings.Cut(strings.TrimPrefix(b.base, "http://"), ":")
	for _, host := range []string{"127.0.0.1", "localhost"} {
		origin := struct{ name, host string }{"another site", host}
		if host == baseHost {
			origin.name = "another port of the same site"
		}
		attacker := attackerPage(t, b.base+"/login", map[string]string{"user": "mallory"})
		page := strings.Replace(attacker.URL, "127.0.0.1", origin.host, 1) + "/"
		if page == b.base+"/" || strings.HasSuffix(page, ":"+port+"/") {
			t.Fatalf("the attacker page %s is not of another origin than %s", page, b.base)
		}
		status, where, text := b.landAfterAutoSubmit(page, b.base+"/")
		if where != b.base+"/login" || status != http.StatusForbidden || !strings.Contains(text, "cross-origin") {
			t.Fatalf("%s (%s): the form's POST to /login landed on %s, %d %q (user %q), want 403 cross-origin at /login",
				origin.name, page, where, status, text, b.textIfAny("#user"))
		}
		b.navigate("/")
		if got := b.textIfAny("#user"); got != "alice" {
			t.Fatalf("%s (%s): after the cross-origin POST the demo says user %q, want alice", origin.name, page, got)
		}
		t.Logf("%s: %s auto-submitted user=mallory to %s: the browser shows %d %q; still logged in as alice", origin.name, page, where, status, text)
	}
}

// attackerPage serves, on a port of 127.0.0.1, a page whose form posts fields
// to action as soon as it loads.
func attackerPage(t *testing.T, action string, fields map[string]string) *httptest.Server {
	var inputs strings.Builder
	for k, v := range fields {
		fmt.Fprintf(&inputs, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(k), html.EscapeString(v))
	}
	body := fmt.Sprintf(`<!doctype html><title>prize</title><body onload="document.forms[0].submit()">`+
		`<form method="post" action="%s">%s</form></body>`, html.EscapeString(action), inputs.String())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// landAfterAutoSubmit opens page, waits until the browser shows a document
// under prefix (where the page's form goes), and returns that navigation's
// status (the Navigation Timing entry), the URL and the body text, all read in
// the page.
func (b *browser) landAfterAutoSubmit(page, prefix string) (status int, where, text string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Navigate(page)); err != nil {
		b.t.Fatalf("navigate %s: %v", page, err)
	}
	type landed struct {
		URL    string `json:"url"`
		Ready  string `json:"ready"`
		Status int    `json:"status"`
		Text   string `json:"text"`
	}
	const probe = `({url: location.href, ready: document.readyState,
		status: (performance.getEntriesByType("navigation")[0] || {}).responseStatus || 0,
		text: document.body ? document.body.innerText : ""})`
	var last landed
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		got, err := chromedp.Run(ctx, chromedp.Evaluate[landed](probe))
		cancel()
		if err != nil { // the document is being replaced
			continue
		}
		last = got
		if strings.HasPrefix(got.URL, prefix) && got.Ready == "complete" {
			return got.Status, got.URL, strings.TrimSpace(got.Text)
		}
	}
	b.t.Fatalf("after opening %s the browser never showed a page under %s (last: %+v)", page, prefix, last)
	return 0, "", ""
}
