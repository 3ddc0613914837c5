package fleet

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// keyFileInterval is how often each node re-reads its ring file: short, so a
// rolling change is picked up within a fraction of a second.
const keyFileInterval = 200 * time.Millisecond

// nodeBin is the node server, built once by TestMain.
var nodeBin string

// buildNode builds cmd/node into dir.
func buildNode(dir string) (string, error) {
	bin := filepath.Join(dir, "node")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/node")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/node: %w", err)
	}
	return bin, nil
}

// say prints one result line of the drill on stdout, where go test -v shows
// it as it is and scripts/fleet.sh collects it.
func say(format string, args ...any) {
	fmt.Printf("fleet "+format+"\n", args...)
}

// ---- the processes ----

type nodeOpts struct {
	lifetime time.Duration
	skew     time.Duration // 0: the library's default
	offset   time.Duration // clock offset of this process
	revFile  string        // revocation list file the process follows; "" for none
}

// A node is one server process and its own ring file.
type node struct {
	t       *testing.T
	name    string
	keyFile string
	opts    nodeOpts
	addr    string // 127.0.0.1:PORT once started; kept across restarts
	url     string

	mu     sync.Mutex
	cmd    *exec.Cmd
	log    *syncBuffer   // this incarnation's stderr and stdout
	logs   []*syncBuffer // every incarnation's
	exited chan struct{}
}

// startFleet starts n nodes named prefix0…, each with its own file holding
// ring.
func startFleet(t *testing.T, prefix string, n int, ring *cookiesession.KeyRing, opts nodeOpts) []*node {
	t.Helper()
	nodes := make([]*node, n)
	for i := range nodes {
		nodes[i] = startNode(t, fmt.Sprintf("%s%d", prefix, i), ring, opts)
	}
	return nodes
}

func startNode(t *testing.T, name string, ring *cookiesession.KeyRing, opts nodeOpts) *node {
	t.Helper()
	n := &node{t: t, name: name, keyFile: filepath.Join(t.TempDir(), "ring.json"), opts: opts}
	if err := writeRing(n.keyFile, ring); err != nil {
		t.Fatal(err)
	}
	// Registered after TempDir's own cleanup, so it runs first: every process
	// is killed, also when the test fails or calls Fatal.
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			t.Logf("%s log (last incarnation, tail):\n%s", n.name, tail(n.currentLog().String(), 40))
		}
	})
	n.start("127.0.0.1:0")
	return n
}

var listeningRE = regexp.MustCompile(`listening (127\.0\.0\.1:\d+)`)

// start execs the node on addr and waits until it listens.
func (n *node) start(addr string) {
	n.t.Helper()
	args := []string{
		"-addr", addr, "-keys", n.keyFile, "-insecure", "-name", n.name,
		"-interval", keyFileInterval.String(), "-lifetime", n.opts.lifetime.String(),
		"-skew", n.opts.skew.String(), "-clock-offset", n.opts.offset.String(),
		"-die-after", "6m",
	}
	if n.opts.revFile != "" {
		args = append(args, "-revocations", n.opts.revFile)
	}
	cmd := exec.Command(nodeBin, args...)
	buf := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = buf, buf
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("%s: %v", n.name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	n.mu.Lock()
	n.cmd, n.log, n.exited = cmd, buf, exited
	n.logs = append(n.logs, buf)
	n.mu.Unlock()

	deadline := time.After(10 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(buf.String()); m != nil {
			switch {
			case n.addr == "": // first start; clients read url from now on
				n.addr, n.url = m[1], "http://"+m[1]
			case m[1] != n.addr:
				n.t.Fatalf("%s restarted on %s, not %s", n.name, m[1], n.addr)
			}
			return
		}
		select {
		case <-exited:
			n.t.Fatalf("%s exited before listening: %s\n%s", n.name, cmd.ProcessState, buf.String())
		case <-deadline:
			n.t.Fatalf("%s: not listening after 10s:\n%s", n.name, buf.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// kill sends SIGKILL to the running process, if any, waits for it to exit
// and returns how it ended.
func (n *node) kill() string {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return ""
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	return cmd.ProcessState.String()
}

// restart starts the process again on the same address and ring file.
func (n *node) restart() { n.start(n.addr) }

func (n *node) currentLog() *syncBuffer {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.log
}

// allLogs returns what every incarnation of the node wrote.
func (n *node) allLogs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var b strings.Builder
	for _, l := range n.logs {
		b.WriteString(l.String())
	}
	return b.String()
}

// ring asks the node which ring is in force. The request itself makes the
// node re-read its file when the interval has passed.
func (n *node) ring(hc *http.Client) ([]string, error) {
	resp, err := hc.Get(n.url + "/api/ring")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct{ IDs []string }
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	return r.IDs, nil
}

// setRing rewrites the node's file atomically and waits until the running
// process has put the ring in force, without a restart. It returns how long
// the pick-up took.
func (n *node) setRing(hc *http.Client, ring *cookiesession.KeyRing) time.Duration {
	n.t.Helper()
	if err := writeRing(n.keyFile, ring); err != nil {
		n.t.Fatal(err)
	}
	return n.waitRing(hc, ring.IDs())
}

// waitRing polls the node until its ring is want.
func (n *node) waitRing(hc *http.Client, want []string) time.Duration {
	n.t.Helper()
	start := time.Now()
	var got []string
	for time.Since(start) < 5*time.Second {
		var err error
		if got, err = n.ring(hc); err == nil && slices.Equal(got, want) {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.t.Fatalf("%s: ring %v after 5s, want %v", n.name, got, want)
	return 0
}

// writeRing writes ring's JWK Set to path atomically: a temporary file in the
// same directory, then rename, so the node never reads half a file.
func writeRing(path string, ring *cookiesession.KeyRing) error {
	b, err := ring.ExportJWKS()
	if err != nil {
		return err
	}
	return writeAtomic(path, b)
}

func writeAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".ring-*.tmp")
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func ringOf(t *testing.T, keys ...cookiesession.Key) *cookiesession.KeyRing {
	t.Helper()
	r, err := cookiesession.NewKeyRing(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newKey(t *testing.T, id string) cookiesession.Key {
	t.Helper()
	k, err := cookiesession.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// secretsOf returns the base64url secrets ("k") of a ring, to make sure no
// log ever shows one.
func secretsOf(t *testing.T, ring *cookiesession.KeyRing) []string {
	t.Helper()
	b, err := ring.ExportJWKS()
	if err != nil {
		t.Fatal(err)
	}
	var set struct{ Keys []struct{ K string } }
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, k := range set.Keys {
		ks = append(ks, k.K)
	}
	return ks
}

// ---- the clients ----

// report is the node's JSON about a request's session (see cmd/node).
type report struct {
	Node      string `json:"node"`
	ID        string `json:"id"`
	New       bool   `json:"new"`
	Visits    int    `json:"visits"`
	KeyID     string `json:"kid"`
	Primary   bool   `json:"primary"`
	IssuedAt  string `json:"issued_at"`
	Subject   string `json:"subject"`
	LoadError string `json:"load_error"`
}

// newTransport returns the transport the clients of one test share: plenty
// of idle connections to loopback, nothing else.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        512,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
	}
}

// A client is one user: a cookie jar (net/http/cookiejar, as a browser's)
// that goes from node to node, and what it expects of its session.
type client struct {
	name string
	i    int // its place, so that clients start on different nodes
	k    int // requests made: the next node is (i+k) mod len(nodes)
	hc   *http.Client
	jar  *cookiejar.Jar

	id      string // session id the client holds; "" before its first visit
	visits  int    // the counter as the client last saw it
	cookie  string // the session cookie the server last set
	sealKid string // the kid in that cookie's JWE header
}

func newClient(t *testing.T, name string, i int, tr http.RoundTripper) *client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{name: name, i: i, jar: jar, hc: &http.Client{Jar: jar, Transport: tr, Timeout: 15 * time.Second}}
}

func newClients(t *testing.T, prefix string, n int, tr http.RoundTripper) []*client {
	cs := make([]*client, n)
	for i := range cs {
		cs[i] = newClient(t, fmt.Sprintf("%s%d", prefix, i), i, tr)
	}
	return cs
}

// next returns the node of the client's next request, round-robin.
func (c *client) next(nodes []*node) *node {
	n := nodes[(c.i+c.k)%len(nodes)]
	c.k++
	return n
}

// result is one response as the client saw it.
type result struct {
	status  int
	rep     report
	cookie  string // session cookie set by the response, "" when none
	sealKid string // its kid
}

// get sends GET path to n with the client's jar.
func (c *client) get(n *node, path string) (result, error) {
	resp, err := c.hc.Get(n.url + path)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	res := result{status: resp.StatusCode}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &res.rep); err != nil {
			return res, fmt.Errorf("%s %s: %v: %q", n.name, path, err, body)
		}
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == cookiesession.DefaultName && ck.Value != "" {
			res.cookie, res.sealKid = ck.Value, sealedKid(ck.Value)
		}
	}
	return res, nil
}

// sealedKid decodes the kid from the protected header of a JWE compact value.
func sealedKid(value string) string {
	head, _, _ := strings.Cut(value, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "?"
	}
	var h struct{ Kid string }
	if json.Unmarshal(raw, &h) != nil {
		return "?"
	}
	return h.Kid
}

// replay puts a cookie value in the client's jar as a browser-session
// cookie (no Max-Age), so the next request sends it whatever its age: what a
// client with a slow clock, or one that replays an old cookie, does.
func (c *client) replay(n *node, value string) {
	u, _ := url.Parse(n.url)
	c.jar.SetCookies(u, []*http.Cookie{{Name: cookiesession.DefaultName, Value: value, Path: "/"}})
}

// hasCookie reports whether the jar still holds a session cookie for the
// nodes' host (cookies are per host, not per port).
func (c *client) hasCookie(n *node) bool {
	u, _ := url.Parse(n.url)
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == cookiesession.DefaultName {
			return true
		}
	}
	return false
}

// ---- counting ----

// A tally counts one phase's requests and what went wrong.
type tally struct {
	mu       sync.Mutex
	requests int
	kept     map[string]bool // clients whose session continued on every request
	fivexx   int
	errors   []string // transport errors, unexpected statuses, bad bodies
	lost     []string // sessions that did not continue, with the node's reason
	sealed   map[string]int
	oldKey   int      // cookies opened with a key that is not the serving node's primary
	rejected []string // load errors of cookies refused as the test wanted
}

func newTally() *tally {
	return &tally{kept: map[string]bool{}, sealed: map[string]int{}}
}

// visit makes the client's next request (GET / on the next node) and checks
// that its session continues: same id, the counter one more. A client with no
// session yet starts one.
func (t *tally) visit(c *client, nodes []*node) (result, bool) {
	return t.visitOn(c, c.next(nodes))
}

func (t *tally) visitOn(c *client, n *node) (result, bool) {
	res, err := c.get(n, "/")
	return res, t.record(c, n, res, err)
}

// record counts the response to a client's visit and checks it continued the
// client's session.
func (t *tally) record(c *client, n *node, res result, err error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	switch {
	case err != nil:
		t.errors = append(t.errors, fmt.Sprintf("%s on %s: %v", c.name, n.name, err))
		return false
	case res.status >= 500:
		t.fivexx++
		t.errors = append(t.errors, fmt.Sprintf("%s on %s: status %d", c.name, n.name, res.status))
		return false
	case res.status != http.StatusOK:
		t.errors = append(t.errors, fmt.Sprintf("%s on %s: status %d", c.name, n.name, res.status))
		return false
	case res.cookie == "":
		t.errors = append(t.errors, fmt.Sprintf("%s on %s: a counted visit set no cookie", c.name, n.name))
		return false
	}
	ok := true
	if c.id == "" {
		if !res.rep.New || res.rep.Visits != 1 {
			t.lost = append(t.lost, fmt.Sprintf("%s on %s: first visit got %+v", c.name, n.name, res.rep))
			ok = false
		}
	} else if res.rep.New || res.rep.ID != c.id || res.rep.Visits != c.visits+1 {
		t.lost = append(t.lost, fmt.Sprintf("%s on %s: session %s visits %d became %s visits %d (new=%v, load_error %q)",
			c.name, n.name, c.id, c.visits, res.rep.ID, res.rep.Visits, res.rep.New, res.rep.LoadError))
		ok = false
	}
	if !res.rep.New && !res.rep.Primary {
		t.oldKey++
	}
	if prev, seen := t.kept[c.name]; !seen || prev {
		t.kept[c.name] = ok
	}
	t.sealed[res.sealKid]++
	c.id, c.visits, c.cookie, c.sealKid = res.rep.ID, res.rep.Visits, res.cookie, res.sealKid
	return ok
}

// reject sends the client's jar, which holds a cookie that must not open,
// to n, and checks that the node refused it the way a user should see it:
// 200 and a fresh session (new id, counter 1, a cookie sealed with wantKid),
// never an error, with load_error containing reason.
func (t *tally) reject(c *client, n *node, reason, wantKid string) bool {
	old := c.id
	res, err := c.get(n, "/")
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	switch {
	case err != nil:
		t.errors = append(t.errors, fmt.Sprintf("%s on %s: %v", c.name, n.name, err))
		return false
	case res.status != http.StatusOK:
		if res.status >= 500 {
			t.fivexx++
		}
		t.errors = append(t.errors, fmt.Sprintf("%s on %s: refused cookie answered with status %d", c.name, n.name, res.status))
		return false
	case !res.rep.New || res.rep.ID == old || res.rep.Visits != 1 || res.sealKid != wantKid ||
		!strings.Contains(res.rep.LoadError, reason):
		t.errors = append(t.errors, fmt.Sprintf("%s on %s: want a fresh session sealed with %s and load_error %q; got %+v sealed with %q",
			c.name, n.name, wantKid, reason, res.rep, res.sealKid))
		return false
	}
	t.rejected = append(t.rejected, res.rep.LoadError)
	t.sealed[res.sealKid]++
	c.id, c.visits, c.cookie, c.sealKid = res.rep.ID, res.rep.Visits, res.cookie, res.sealKid
	return true
}

// round makes one request for every client at once, each on its next node.
func (t *tally) round(clients []*client, nodes []*node) {
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { t.visit(c, nodes) })
	}
	wg.Wait()
}

func (t *tally) keptCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, ok := range t.kept {
		if ok {
			n++
		}
	}
	return n
}

// check fails the test for any error, 5xx or lost session.
func (t *tally) check(tb testing.TB, phase string) {
	tb.Helper()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fivexx > 0 || len(t.errors) > 0 {
		tb.Errorf("phase %s: %d 5xx, %d errors; first: %s", phase, t.fivexx, len(t.errors), first(t.errors, 5))
	}
	if len(t.lost) > 0 {
		tb.Errorf("phase %s: %d sessions lost; first: %s", phase, len(t.lost), first(t.lost, 5))
	}
}

func first(s []string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.Join(s, "; ")
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func ringString(r *cookiesession.KeyRing) string {
	return "{" + strings.Join(r.IDs(), ",") + "}"
}

// syncBuffer is a bytes.Buffer safe for a process's output and the test's
// reads at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
