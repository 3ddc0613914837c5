package browser

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/cookiesession/cookiesession"
)

const cookieName = cookiesession.DefaultName // the demo server's default -name

// lifetime is given to the server as -lifetime, or is the lifetime of the
// server at $BROWSER_BASE ($BROWSER_LIFETIME).
var lifetime = 2 * time.Hour

// TestBrowser runs the demo server and one headless Chromium, and goes through
// the checks in order, as one person in one browser would. Each check is a
// subtest that logs "browser check: <name>: ok" when it passes.
//
// With $BROWSER_BASE set (http://localhost:PORT) it drives the demo served
// there instead, whose session lifetime is $BROWSER_LIFETIME, and writes its
// screenshot under $BROWSER_ARTIFACTS: scripts/edge.sh points it at the demo
// served by workerd.
func TestBrowser(t *testing.T) {
	root := repoRoot(t)
	base := os.Getenv("BROWSER_BASE")
	if base == "" {
		base = startServer(t, root, "-lifetime", lifetime.String()).base
	} else {
		d, err := time.ParseDuration(os.Getenv("BROWSER_LIFETIME"))
		if err != nil {
			t.Fatalf("BROWSER_BASE is set: BROWSER_LIFETIME must be the server's session lifetime: %v", err)
		}
		lifetime = d
		t.Logf("server: %s (BROWSER_BASE), session lifetime %v", base, lifetime)
	}
	b := startBrowser(t, base)

	checks := []struct {
		name string
		run  func(t *testing.T, b *browser)
	}{
		{"counter increments across navigations", checkCounter},
		{"session cookie is HttpOnly (document.cookie cannot see it)", checkHttpOnly},
		{"session cookie carries SameSite=Lax, Secure, Path=/ and Max-Age of the lifetime", checkAttributes},
		{"login renews the session id and shows the flash", checkLogin},
		{"session grown past one cookie is stored as chunks and opens again", checkChunks},
		{"session over the budget shows the error and keeps the old cookies", checkOverBudget},
		{"screenshot of the /session inspector", func(t *testing.T, b *browser) { checkScreenshot(t, b, root) }},
		{"shrinking the session removes the chunks the browser held", checkShrink},
		{"logout destroys the session and starts a new one for the flash", checkLogout},
		{"Destroy (logout with flash=off) leaves no session cookie", checkDestroy},
		{"tampered cookie set through CDP gives a fresh session, not an error", checkTamper},
		{"two tabs racing (the shrinking response lands last) keep the user logged in and session.1 is removed", checkRacingTabs},
		{"log out everywhere: another browser context of the same user is logged out, this one is re-issued and stays", checkLogOutEverywhere},
		{"cross-origin POST (login CSRF from another site and from another port of the same site) is refused", checkCrossOriginPost},
	}
	passed := 0
	for _, c := range checks {
		if t.Run(c.name, func(t *testing.T) {
			c.run(t, b.with(t))
			t.Logf("browser check: %s: ok", c.name)
		}) {
			passed++
		}
	}
	t.Logf("browser checks: %d of %d ok", passed, len(checks))
}

// --- the checks ---------------------------------------------------------------

func checkCounter(t *testing.T, b *browser) {
	b.clearCookies()
	var values []string
	for want := 1; want <= 3; want++ {
		b.navigate("/")
		if got := b.text("#visits"); got != strconv.Itoa(want) {
			t.Fatalf("visit %d: the page says %q visits", want, got)
		}
		c := b.sessionCookies()
		if len(c) != 1 || c[0].Name != cookieName {
			t.Fatalf("visit %d: the browser holds %v, want one cookie %q", want, names(c), cookieName)
		}
		if slices.Contains(values, c[0].Value) {
			t.Fatalf("visit %d: the cookie was not re-issued", want)
		}
		values = append(values, c[0].Value)
	}
	rep := b.api()
	if got := string(rep.Values["visits"]); got != "3" {
		t.Fatalf("/api/session: visits = %s, want 3", got)
	}
	t.Logf("counter 1 → 2 → 3; a new sealed cookie each time (%d bytes), /api/session agrees", len(values[2]))
}

func checkHttpOnly(t *testing.T, b *browser) {
	b.navigate("/")
	if len(b.sessionCookies()) == 0 {
		t.Fatal("no session cookie in the browser")
	}
	// A cookie that script may see, as a control: document.cookie works.
	seen := b.eval(`document.cookie = "e2e_probe=visible; path=/"; document.cookie`)
	b.eval(`document.cookie = "e2e_probe=; max-age=0; path=/"; ""`)
	if !strings.Contains(seen, "e2e_probe=visible") {
		t.Fatalf("control failed: document.cookie = %q does not show a script cookie", seen)
	}
	if hasCookie(seen, cookieName) {
		t.Fatalf("document.cookie = %q shows the session cookie", seen)
	}
	for _, c := range b.sessionCookies() {
		if !c.HTTPOnly {
			t.Fatalf("cookie %s is not HttpOnly in the browser's store", c.Name)
		}
	}
	t.Logf("document.cookie = %q: the control cookie shows, the session cookie does not; the store marks it httpOnly", seen)
}

func checkAttributes(t *testing.T, b *browser) {
	b.navigate("/")
	// Network.getCookies for the page's URL and Storage.getCookies for the
	// whole store must both hold it, with the attributes the server set.
	byURL, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	var c *network.Cookie
	for _, x := range byURL.Cookies {
		if x.Name == cookieName {
			c = x
		}
	}
	if c == nil {
		t.Fatalf("Network.getCookies(%s) has no %q cookie: %v", b.base, cookieName, names(byURL.Cookies))
	}
	inStore := b.sessionCookies()
	if len(inStore) != 1 || inStore[0].Value != c.Value {
		t.Fatalf("Storage.getCookies disagrees with Network.getCookies: %v", names(inStore))
	}
	now := float64(time.Now().Unix())
	wantExp := now + lifetime.Seconds()
	switch {
	case c.SameSite != network.CookieSameSiteLax:
		t.Errorf("SameSite = %q, want Lax", c.SameSite)
	case !c.Secure:
		t.Errorf("Secure = false: the browser did not keep the Secure attribute")
	case c.Path != "/":
		t.Errorf("Path = %q, want /", c.Path)
	case c.Domain != "localhost":
		t.Errorf("Domain = %q, want localhost (host-only)", c.Domain)
	case !c.HTTPOnly:
		t.Errorf("HttpOnly = false")
	case c.Session:
		t.Errorf("the cookie is a browser-session cookie; want a persistent one (Max-Age)")
	case math.Abs(c.Expires-wantExp) > 120:
		t.Errorf("expires %v, want about now+%v (%v)", time.Unix(int64(c.Expires), 0), lifetime, time.Unix(int64(wantExp), 0))
	case c.Size > cookiesession.MaxCookieBytes:
		t.Errorf("size %d over %d", c.Size, cookiesession.MaxCookieBytes)
	}
	t.Logf("%s: SameSite=%s Secure=%v HttpOnly=%v Path=%s Domain=%s expires in %.0fs (lifetime %v), %d bytes",
		c.Name, c.SameSite, c.Secure, c.HTTPOnly, c.Path, c.Domain, c.Expires-now, lifetime, c.Size)
	t.Logf("a Secure cookie set over http://localhost was accepted and sent back: no -insecure needed")
}

func checkLogin(t *testing.T, b *browser) {
	b.navigate("/")
	before := b.api()
	b.navigate("/login")
	b.setValue("#user-input", "alice")
	b.submit("#login")
	if got := b.text("#user"); got != "alice" {
		t.Fatalf("after login the page says user %q", got)
	}
	if flash := b.text(".flash"); flash != "Welcome, alice." {
		t.Fatalf("flash = %q", flash)
	}
	after := b.api()
	switch {
	case after.ID == before.ID:
		t.Fatalf("Renew kept the session id %s", before.ID)
	case string(after.Values["user"]) != `"alice"`:
		t.Fatalf("user = %s", after.Values["user"])
	case after.Values["visits"] == nil:
		t.Fatal("Renew lost the visits value")
	}
	// The flash is shown once.
	b.navigate("/")
	if n := b.count(".flash"); n != 0 {
		t.Fatalf("the flash showed again")
	}
	t.Logf("session id %s → %s, user alice, flash shown once", before.ID, after.ID)
}

func checkChunks(t *testing.T, b *browser) {
	b.navigate("/cart")
	if b.text("#count") != "0" {
		b.submit("#clear")
	}
	b.setValue(`input[name="n"]`, "50")
	b.submit("#add")
	if got := b.text("#count"); got != "50" {
		t.Fatalf("cart shows %s items, want 50 (error: %q)", got, b.textIfAny("#error"))
	}
	held := b.sessionCookies()
	if len(held) < 2 {
		t.Fatalf("the browser holds %v: want at least 2 chunks", names(held))
	}
	for i, c := range held {
		if want := cookiesession.ChunkName(cookieName, i); c.Name != want {
			t.Fatalf("chunk %d is named %q, want %q (held: %v)", i, c.Name, want, names(held))
		}
		if !c.HTTPOnly || !c.Secure || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
			t.Fatalf("chunk %s lost attributes: %+v", c.Name, c)
		}
		if c.Size > cookiesession.MaxCookieBytes {
			t.Fatalf("chunk %s is %d bytes", c.Name, c.Size)
		}
	}
	// The next request carries every chunk, and the session opens again.
	rep := b.api()
	if rep.Chunks < 2 || rep.Chunks != len(held) {
		t.Fatalf("/api/session: chunks = %d, the browser holds %d", rep.Chunks, len(held))
	}
	if rep.LoadError != "" {
		t.Fatalf("/api/session: load error %q", rep.LoadError)
	}
	for _, c := range held {
		if rep.CookieBytes[c.Name] != len(c.Name)+1+len(c.Value) {
			t.Fatalf("/api/session: the request carried %v, the browser holds %v", rep.CookieBytes, names(held))
		}
	}
	var cart []struct {
		SKU  string `json:"sku"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(rep.Values["cart"], &cart); err != nil {
		t.Fatalf("cart value: %v", err)
	}
	if len(cart) != 50 || cart[0].Name != "Item number 1, a fine thing" || cart[49].Name != "Item number 50, a fine thing" {
		t.Fatalf("cart opened with %d items: %+v", len(cart), cart)
	}
	if string(rep.Values["user"]) != `"alice"` {
		t.Fatalf("user = %s", rep.Values["user"])
	}
	t.Logf("50 items: %d sealed bytes in %d chunks %v, sent back whole (%v), values intact", rep.Bytes, rep.Chunks, names(held), rep.CookieBytes)
}

func checkOverBudget(t *testing.T, b *browser) {
	b.navigate("/cart")
	before := b.sessionCookies()
	count := b.text("#count")
	b.setValue(`input[name="n"]`, "500")
	b.submit("#add")
	msg := b.textIfAny("#error")
	if !strings.Contains(msg, "no longer fits") {
		t.Fatalf("no error shown for a cart over the budget (page error: %q)", msg)
	}
	if got := b.text("#count"); got != count {
		t.Fatalf("cart shows %s items after the refused add, want %s", got, count)
	}
	after := b.sessionCookies()
	if !sameCookies(before, after) {
		t.Fatalf("the browser's cookies changed: %v → %v", names(before), names(after))
	}
	if rep := b.api(); rep.LoadError != "" || rep.Chunks != len(before) {
		t.Fatalf("/api/session after the refused add: chunks %d, load error %q", rep.Chunks, rep.LoadError)
	}
	t.Logf("error shown: %q; cart still %s items; cookies %v unchanged", msg, count, names(after))
}

func checkScreenshot(t *testing.T, b *browser, root string) {
	b.navigate("/session")
	if got := b.text("#kid"); got == "" {
		t.Fatal("the inspector shows no key id")
	}
	// The viewport (1000×900): the table, the cookies as sent and the start
	// of the values. The whole page of a 50-item cart is 8000 pixels tall.
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("the screenshot is not a PNG")
	}
	rel := cmp.Or(os.Getenv("BROWSER_ARTIFACTS"), filepath.Join("artifacts", "browser"))
	dir := filepath.Join(root, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "session-inspector.png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes): %s", filepath.Join(rel, "session-inspector.png"), len(png), b.text("#bytes"))
}

func checkShrink(t *testing.T, b *browser) {
	b.navigate("/cart")
	before := b.sessionCookies()
	if len(before) < 2 {
		t.Fatalf("precondition: the browser holds %v, want chunks", names(before))
	}
	b.submit("#clear")
	if got := b.text("#count"); got != "0" {
		t.Fatalf("cart shows %s items after clearing", got)
	}
	after := b.sessionCookies()
	if len(after) != 1 || after[0].Name != cookieName {
		t.Fatalf("after shrinking, the browser holds %v, want only %q", names(after), cookieName)
	}
	rep := b.api()
	if rep.Chunks != 1 || len(rep.CookieBytes) != 1 || rep.Values["cart"] != nil || string(rep.Values["user"]) != `"alice"` {
		t.Fatalf("/api/session after shrinking: chunks %d, sent %v, values %v", rep.Chunks, rep.CookieBytes, keys(rep.Values))
	}
	t.Logf("held %v → %v; the session opens from one cookie and kept its other values", names(before), names(after))
}

func checkLogout(t *testing.T, b *browser) {
	b.navigate("/")
	old := b.api()
	oldCookie := b.sessionCookies()
	if string(old.Values["user"]) != `"alice"` {
		t.Fatalf("precondition: not logged in (%v)", keys(old.Values))
	}
	b.submit("#logout")
	if flash := b.text(".flash"); flash != "You are logged out." {
		t.Fatalf("flash = %q", flash)
	}
	if got := b.text("#visits"); got != "1" {
		t.Fatalf("after logout the counter says %s, want 1 (a new session)", got)
	}
	if b.count("#user") != 0 {
		t.Fatal("still logged in")
	}
	rep := b.api()
	if rep.ID == old.ID || rep.Values["user"] != nil {
		t.Fatalf("after logout: id %s (was %s), values %v", rep.ID, old.ID, keys(rep.Values))
	}
	now := b.sessionCookies()
	if len(now) != 1 || now[0].Value == oldCookie[0].Value {
		t.Fatalf("after logout the browser holds %v", names(now))
	}
	t.Logf("session %s destroyed; new session %s holds only %v", old.ID, rep.ID, keys(rep.Values))
}

func checkDestroy(t *testing.T, b *browser) {
	// A logged-in session in several chunks, so Destroy has every chunk to expire.
	b.navigate("/login")
	b.setValue("#user-input", "bob")
	b.submit("#login")
	b.navigate("/cart")
	b.setValue(`input[name="n"]`, "50")
	b.submit("#add")
	held := b.sessionCookies()
	old := b.api()
	if len(held) < 2 || string(old.Values["user"]) != `"bob"` {
		t.Fatalf("precondition: the browser holds %v, values %v", names(held), keys(old.Values))
	}
	// The logout form with flash=off, posted by the page without following
	// the redirect: the redirect's target (/) would start a new session.
	status := b.eval(`fetch("/logout", {method: "POST", body: new URLSearchParams({flash: "off"}), redirect: "manual"}).then(r => r.type)`)
	if status != "opaqueredirect" {
		t.Fatalf("POST /logout answered %q, want the redirect", status)
	}
	if left := b.sessionCookies(); len(left) != 0 {
		t.Fatalf("after Destroy the browser still holds %v", names(left))
	}
	rep := b.api()
	if !rep.New || rep.ID == old.ID || len(rep.Values) != 0 || len(rep.CookieBytes) != 0 {
		t.Fatalf("/api/session after Destroy: new %v, id %s (was %s), values %v, sent %v", rep.New, rep.ID, old.ID, keys(rep.Values), rep.CookieBytes)
	}
	t.Logf("held %v (session %s) → no session cookie in the store; the next request sends none", names(held), old.ID)
}

func checkTamper(t *testing.T, b *browser) {
	b.clearCookies()
	b.navigate("/")
	b.navigate("/")
	if got := b.text("#visits"); got != "2" {
		t.Fatalf("precondition: counter %s, want 2", got)
	}
	c := b.sessionCookies()[0]
	tampered := flip(c.Value)
	// The same cookie, attributes and all, with the flipped value: set by
	// script through CDP, as an attacker with the browser in hand could.
	_, err := chromedp.Call(b.ctx, network.SetCookie, network.SetCookieParams{
		Name: c.Name, Value: tampered, URL: b.base + "/", Path: c.Path,
		Secure: &c.Secure, HTTPOnly: &c.HTTPOnly, SameSite: c.SameSite,
		Expires: cdp.TimeSinceEpoch(c.Expires),
	})
	if err != nil {
		t.Fatalf("Network.setCookie: %v", err)
	}
	if held := b.sessionCookies(); len(held) != 1 || held[0].Value != tampered {
		t.Fatalf("the browser did not take the tampered cookie")
	}
	resp := b.navigate("/")
	if got := b.text("#visits"); got != "1" {
		t.Fatalf("with a tampered cookie the counter says %s, want 1 (status %d)", got, resp.Status)
	}
	held := b.sessionCookies()
	if len(held) != 1 || held[0].Value == tampered {
		t.Fatal("the tampered cookie was not replaced")
	}
	if rep := b.api(); rep.LoadError != "" || string(rep.Values["visits"]) != "1" {
		t.Fatalf("/api/session: %+v", rep)
	}
	t.Logf("one character flipped in the sealed value: status %d, counter 1, the cookie replaced by a new session's", resp.Status)
}

// raceDelay is how late the counter answers in the race (its ?delay), the
// time the cart's response has to land first.
const raceDelay = 1500 * time.Millisecond

func checkRacingTabs(t *testing.T, b *browser) {
	b.clearCookies()
	b.navigate("/login")
	b.setValue("#user-input", "carol")
	b.submit("#login")
	if got := b.text("#user"); got != "carol" {
		t.Fatalf("precondition: logged in as %q", got)
	}
	// Reloading the counter changes the session (the cookie is re-sealed);
	// reloading the inspector only reads it. Either response expires the
	// debris.
	for _, page := range []string{"/", "/session"} {
		b.navigate(page)
		debris := raceTabs(t, b)
		resp, err := chromedp.RunResponse(b.ctx, chromedp.Reload())
		if err != nil || resp == nil || resp.Status != http.StatusOK {
			t.Fatalf("reload %s: %v, %+v", page, err, resp)
		}
		// The page shows the user logged in; the inspector also lists the
		// cookies its request carried, the debris among them.
		if page == "/" {
			if got := b.textIfAny("#user"); got != "carol" {
				t.Fatalf("after reloading %s the page shows user %q (page: %.200q)", page, got, b.textIfAny("body"))
			}
		} else if body := b.textIfAny("body"); !strings.Contains(body, `"carol"`) || !strings.Contains(body, debris[0]) || strings.Contains(body, "refused") {
			t.Fatalf("after reloading %s the inspector shows %.400q: want user carol and %s among the cookies sent", page, body, debris[0])
		}
		held := b.sessionCookies()
		if len(held) != 1 || held[0].Name != cookieName {
			t.Fatalf("after reloading %s the browser holds %v, want only %q", page, names(held), cookieName)
		}
		rep := b.api()
		if rep.LoadError != "" || rep.New || string(rep.Values["user"]) != `"carol"` {
			t.Fatalf("after reloading %s: logged out? user %s, new %v, load error %q", page, rep.Values["user"], rep.New, rep.LoadError)
		}
		if rep.Chunks != 1 || rep.Values["cart"] != nil {
			t.Fatalf("after reloading %s: %d chunks, values %v: want the counter's one-cookie session", page, rep.Chunks, keys(rep.Values))
		}
		t.Logf("reload of %s: still carol, %v removed from the store, the session opens from %v", page, debris, names(held))
	}
}

// raceTabs plays two tabs racing from the page: the counter (a small change)
// leaves first with the one-cookie session and answers raceDelay late; the
// cart, adding 50 items, leaves next and grows the session to chunks at
// once. The counter's one-cookie response lands last, so the browser keeps
// it beside the cart's later chunks. It returns the names of those chunks.
func raceTabs(t *testing.T, b *browser) []string {
	t.Helper()
	before := b.sessionCookies()
	if len(before) != 1 || before[0].Name != cookieName {
		t.Fatalf("precondition: the browser holds %v, want one cookie", names(before))
	}
	landed := b.eval(fmt.Sprintf(`(async () => {
		const landed = [];
		const counter = fetch("/?delay=%s", {cache: "no-store"}).then(r => landed.push("counter " + r.status));
		await new Promise(r => setTimeout(r, 200)); // the counter's request is out, with the one-cookie session
		const cart = fetch("/cart", {method: "POST", body: new URLSearchParams({n: "50"}), redirect: "manual"}).then(r => landed.push("cart " + r.type));
		await Promise.all([counter, cart]);
		return landed.join(", ");
	})()`, raceDelay))
	if landed != "cart opaqueredirect, counter 200" {
		t.Fatalf("responses landed %q, want the cart's redirect first, then the counter", landed)
	}
	held := b.sessionCookies()
	if len(held) < 2 || held[0].Name != cookieName || strings.Contains(held[0].Value[:2], "~") {
		t.Fatalf("after the race the browser holds %v: want the counter's one cookie and the cart's chunks beside it", names(held))
	}
	var debris []string
	for _, c := range held[1:] {
		debris = append(debris, c.Name)
	}
	t.Logf("race: %s; the store holds %v: %s is the counter's one cookie, %v the cart's chunks", landed, names(held), cookieName, debris)
	return debris
}

// checkLogOutEverywhere logs one user in from two browser contexts (two
// separate cookie jars, as two devices) and another user from a third; the
// first clicks "Log out everywhere else". The second context's next request
// is refused as revoked (a fresh session), the first keeps its re-issued
// session, the other user keeps theirs.
func checkLogOutEverywhere(t *testing.T, b *browser) {
	b.clearCookies()
	const user, other = "eve", "mallory"
	phone := b.newContext()
	third := b.newContext()

	for _, x := range []struct {
		b    *browser
		user string
	}{{b, user}, {phone, user}, {third, other}} {
		x.b.navigate("/login")
		x.b.setValue("#user-input", x.user)
		x.b.submit("#login")
		if rep := x.b.api(); rep.Subject != x.user {
			t.Fatalf("after logging in as %s: subject %q", x.user, rep.Subject)
		}
	}
	phoneBefore := phone.api()
	b.navigate("/")
	b.submit("#logout-everywhere")
	if flash := b.text(".flash"); flash != "Your other sessions are logged out." {
		t.Fatalf("flash = %q", flash)
	}
	here := b.api()
	if here.Subject != user || here.LoadError != "" {
		t.Fatalf("this browser after the click: %+v", here)
	}
	phoneCookie := phone.cookieValue()

	// The other device: logged out on its next request.
	phone.navigate("/")
	if phone.count("#user") != 0 || phone.text("#visits") != "1" {
		t.Fatalf("the other context is still logged in (page: %q)", phone.textIfAny("body"))
	}
	after := phone.api()
	if after.Subject != "" || after.ID == phoneBefore.ID || phone.cookieValue() == phoneCookie {
		t.Fatalf("the other context after the revocation: %+v", after)
	}
	// This browser: still logged in, the same re-issued session, again and again.
	for range 2 {
		b.navigate("/")
		if got := b.text("#user"); got != user {
			t.Fatalf("this browser logged out: user %q", got)
		}
		if rep := b.api(); rep.ID != here.ID || rep.Subject != user || rep.LoadError != "" {
			t.Fatalf("this browser's session: %+v, want id %s", rep, here.ID)
		}
	}
	// Another user: untouched.
	third.navigate("/")
	if got := third.text("#user"); got != other {
		t.Fatalf("the other user's browser: user %q", got)
	}
	t.Logf("%s in two contexts: the clicking one kept session %s (issued %s), the other (issued %s) got a fresh session %s; %s kept theirs",
		user, here.ID, here.IssuedAt, phoneBefore.IssuedAt, after.ID, other)
}

// newContext opens a tab in a new browser context of the same browser: its
// own cookie store, as a second device would have. It closes with the test.
func (b *browser) newContext() *browser {
	b.t.Helper()
	// The first context's tab must exist first: chromedp gives a first
	// context without one the browser's first page target, which could be
	// the new context's.
	if err := chromedp.Do(b.ctx); err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // allocates the tab
		b.t.Fatalf("new browser context: %v", err)
	}
	return &browser{t: b.t, ctx: ctx, base: b.base}
}

// cookieValue returns the value of the session cookie the tab's browser
// context holds for the page (Network.getCookies), or "".
func (b *browser) cookieValue() string {
	b.t.Helper()
	cookies, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{b.base + "/"}})
	if err != nil {
		b.t.Fatalf("Network.getCookies: %v", err)
	}
	for _, c := range cookies.Cookies {
		if c.Name == cookieName {
			return c.Value
		}
	}
	return ""
}

// --- the browser --------------------------------------------------------------

// chromiumFlags are the browser's command-line switches, without "--".
var chromiumFlags = []string{
	"headless",
	"no-sandbox",
	"disable-gpu",
	"no-first-run",
	"disable-background-networking",
	"disable-component-update",
	"disable-sync",
	"disable-quic",
	"window-size=1000,900", // the screenshot's size
}

// browser is one headless Chromium with one tab, and the test using it.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // http://localhost:PORT
}

func (b *browser) with(t *testing.T) *browser { c := *b; c.t = t; return &c }

func startBrowser(t *testing.T, base string) *browser {
	exe := chromiumPath(t)
	profile, err := os.MkdirTemp("", "cookiesession-e2e-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	out := &lockedBuffer{}
	// Exactly these flags (not chromedp's defaults), and a fresh profile.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(profile),
		chromedp.CombinedOutput(out),
	}
	for _, f := range chromiumFlags {
		name, value, ok := strings.Cut(f, "=")
		if ok {
			opts = append(opts, chromedp.Flag(name, value))
		} else {
			opts = append(opts, chromedp.Flag(name, true))
		}
	}
	// The whole run is bounded: a hung browser fails the test, it does not hang it.
	root, cancelRoot := context.WithTimeout(context.Background(), 4*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // waits for the browser to exit
		cancelRoot()
		if t.Failed() && out.Len() > 0 {
			t.Logf("chromium output:\n%s", out.String())
		}
	})
	version, err := chromedp.CallBrowser(ctx, cdpbrowser.GetVersion, cdp.Empty{})
	if err != nil {
		t.Fatalf("starting %s: %v\n%s", exe, err, out.String())
	}
	t.Logf("browser: %s (%s), profile %s", version.Product, exe, profile)
	t.Logf("browser flags: --%s --user-data-dir (fresh) --remote-debugging-pipe (chromedp's)", strings.Join(chromiumFlags, " --"))
	return &browser{t: t, ctx: ctx, base: base}
}

// chromiumPath finds the browser: $CHROMIUM, else chromium on PATH. A missing
// browser fails the test: this test is the proof, skipping it proves nothing.
func chromiumPath(t *testing.T) string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: install it (apt-get install -y chromium, or run scripts/browser.sh) or set $CHROMIUM")
	return ""
}

// navigate loads base+path and requires a 200 answer.
func (b *browser) navigate(path string) *network.Response {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.t.Fatalf("navigate %s: %v", path, err)
	}
	if resp.Status != http.StatusOK {
		b.t.Fatalf("navigate %s: status %d", path, resp.Status)
	}
	return resp
}

// submit clicks a form's button, follows the redirect, and requires that the
// page it lands on answered 200.
func (b *browser) submit(sel string) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("click %s: %v", sel, err)
	}
	if resp == nil || resp.Status != http.StatusOK {
		b.t.Fatalf("click %s: landed on %+v", sel, resp)
	}
}

func (b *browser) setValue(sel, value string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.CSS(sel), value)); err != nil {
		b.t.Fatalf("set %s: %v", sel, err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v (page: %s)", sel, err, b.textIfAny("body"))
	}
	return strings.TrimSpace(s)
}

// textIfAny returns the text of sel, or "" when the page has no such element.
func (b *browser) textIfAny(sel string) string {
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel)))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return strings.TrimSpace(s)
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// eval runs JavaScript in the page, awaiting a promise, and returns its string result.
func (b *browser) eval(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %s: %v", js, err)
	}
	return s
}

// report is what /api/session says about the request's cookie.
type report struct {
	ID          string                     `json:"id"`
	New         bool                       `json:"new"`
	KeyID       string                     `json:"kid"`
	Chunks      int                        `json:"chunks"`
	Bytes       int                        `json:"bytes"`
	CookieBytes map[string]int             `json:"cookie_bytes"`
	LoadError   string                     `json:"load_error"`
	Subject     string                     `json:"subject"`
	IssuedAt    string                     `json:"issued_at"`
	Values      map[string]json.RawMessage `json:"values"`
}

// api fetches /api/session from the page, so the browser sends its own
// cookies, and decodes it.
func (b *browser) api() report {
	b.t.Helper()
	body := b.eval(`fetch("/api/session", {cache: "no-store"}).then(r => r.ok ? r.text() : Promise.reject(new Error("status " + r.status)))`)
	var rep report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		b.t.Fatalf("/api/session: %v: %s", err, body)
	}
	return rep
}

// sessionCookies returns the session's cookies in the browser's whole cookie
// store (Storage.getCookies), in chunk order.
func (b *browser) sessionCookies() []*network.Cookie {
	b.t.Helper()
	res, err := chromedp.CallBrowser(b.ctx, storage.GetCookies, storage.GetCookiesParams{})
	if err != nil {
		b.t.Fatalf("Storage.getCookies: %v", err)
	}
	var out []*network.Cookie
	for _, c := range res.Cookies {
		if c.Name == cookieName || strings.HasPrefix(c.Name, cookieName+".") {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(x, y *network.Cookie) int { return chunkIndex(x.Name) - chunkIndex(y.Name) })
	return out
}

func (b *browser) clearCookies() {
	b.t.Helper()
	if _, err := chromedp.CallBrowser(b.ctx, storage.ClearCookies, storage.ClearCookiesParams{}); err != nil {
		b.t.Fatalf("Storage.clearCookies: %v", err)
	}
}

// --- the server ---------------------------------------------------------------

type server struct {
	base string
	out  *lockedBuffer
}

// startServer builds examples/visits and runs it as its own process on a free
// port of localhost, with an ephemeral key ring and Secure cookies (browsers
// accept them from http://localhost).
func startServer(t *testing.T, root string, args ...string) *server {
	bin := filepath.Join(t.TempDir(), "visits")
	build := exec.Command("go", "build", "-o", bin, "./examples/visits")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/visits: %v\n%s", err, out)
	}
	port := freePort(t)
	addr := "localhost:" + strconv.Itoa(port)
	out := &lockedBuffer{}
	cmd := exec.Command(bin, append([]string{"-addr", addr}, args...)...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "COOKIESESSION_KEYS=") })
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("server output:\n%s", out.String())
		}
	})
	base := "http://" + addr
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(30 * time.Second); ; {
		select {
		case err := <-exited:
			t.Fatalf("the server exited: %v\n%s", err, out.String())
		default:
		}
		resp, err := client.Get(base + "/api/session")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not answer on %s: %v\n%s", base, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("server: examples/visits on %s (%s)", base, strings.TrimSpace(firstLine(out.String())))
	return &server{base: base, out: out}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// repoRoot returns the root of the cookiesession repository, two levels up.
func repoRoot(t *testing.T) string {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module github.com/cookiesession/cookiesession\n")) {
		t.Fatalf("%s is not the cookiesession repository root: %v", root, err)
	}
	return root
}

// --- helpers ------------------------------------------------------------------

// flip changes one character in the middle of the longest segment of a sealed
// value (the ciphertext, or a signed payload), keeping it in the base64url
// alphabet, so that it passes the syntax checks and must fail authentication.
func flip(v string) string {
	segs := strings.Split(v, ".")
	longest := 0
	for i, s := range segs {
		if len(s) > len(segs[longest]) {
			longest = i
		}
	}
	s := []byte(segs[longest])
	i := len(s) / 2
	if s[i] == 'A' {
		s[i] = 'B'
	} else {
		s[i] = 'A'
	}
	segs[longest] = string(s)
	return strings.Join(segs, ".")
}

func chunkIndex(name string) int {
	if name == cookieName {
		return 0
	}
	i, err := strconv.Atoi(strings.TrimPrefix(name, cookieName+"."))
	if err != nil {
		return 1 << 20
	}
	return i
}

func hasCookie(header, name string) bool {
	for part := range strings.SplitSeq(header, ";") {
		k, _, _ := strings.Cut(strings.TrimSpace(part), "=")
		if k == name || strings.HasPrefix(k, name+".") {
			return true
		}
	}
	return false
}

func sameCookies(a, b []*network.Cookie) bool {
	return slices.EqualFunc(a, b, func(x, y *network.Cookie) bool { return x.Name == y.Name && x.Value == y.Value })
}

func names(cs []*network.Cookie) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s(%dB)", c.Name, c.Size))
	}
	return out
}

func keys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// lockedBuffer collects a process's output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string { w.mu.Lock(); defer w.mu.Unlock(); return w.b.String() }
func (w *lockedBuffer) Len() int       { w.mu.Lock(); defer w.mu.Unlock(); return w.b.Len() }
