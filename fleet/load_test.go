package fleet

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// wrkScript counts, in every wrk thread, the 5xx responses and the responses
// in which the session cookie wrk sends did not open ("new":true), and sums
// them over the threads when wrk is done.
const wrkScript = `
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) e5 = 0; lost = 0; checked = 0 end
function response(status, headers, body)
  checked = checked + 1
  if status >= 500 then e5 = e5 + 1 end
  if status ~= 200 or not string.find(body, '"new":false', 1, true) then lost = lost + 1 end
end
function done(summary, latency, requests)
  local e, l, c = 0, 0, 0
  for _, t in ipairs(threads) do
    e = e + t:get("e5"); l = l + t:get("lost"); c = c + t:get("checked")
  end
  io.write(string.format("wrk-lua 5xx=%d lost=%d checked=%d\n", e, l, c))
end
`

// wrkResult is what one or several wrk runs measured.
type wrkResult struct {
	rps                       float64
	requests, non2xx, sockErr int
	fivexx, lost, checked     int
}

var (
	wrkRPS      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSock     = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkLua      = regexp.MustCompile(`wrk-lua 5xx=(\d+) lost=(\d+) checked=(\d+)`)
)

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// parseWrk reads wrk's report. "Non-2xx or 3xx responses" and "Socket
// errors" are printed only when not zero.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := wrkRPS.FindStringSubmatch(out)
	n := wrkRequests.FindStringSubmatch(out)
	l := wrkLua.FindStringSubmatch(out)
	if m == nil || n == nil || l == nil {
		return r, fmt.Errorf("wrk output not understood:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	r.requests = atoi(n[1])
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx = atoi(m[1])
	}
	if m := wrkSock.FindStringSubmatch(out); m != nil {
		r.sockErr = atoi(m[1]) + atoi(m[2]) + atoi(m[3]) + atoi(m[4])
	}
	r.fivexx, r.lost, r.checked = atoi(l[1]), atoi(l[2]), atoi(l[3])
	return r, nil
}

// startWrk starts one wrk per node, each sending cookie for d, and returns
// a function that waits for them and adds up what they measured.
func startWrk(t *testing.T, wrk, script, cookie string, nodes []*node, d time.Duration) func() wrkResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	type run struct {
		cmd *exec.Cmd
		out *syncBuffer
	}
	var runs []run
	for _, n := range nodes {
		cmd := exec.CommandContext(ctx, wrk, "-t1", "-c16", "-d"+d.String(), "--timeout", "5s",
			"-s", script, "-H", "Cookie: "+cookiesession.DefaultName+"="+cookie, n.url+"/")
		out := new(syncBuffer)
		cmd.Stdout, cmd.Stderr = out, out
		dieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			cancel()
			t.Fatalf("starting wrk: %v", err)
		}
		runs = append(runs, run{cmd, out})
	}
	return func() wrkResult {
		defer cancel()
		var sum wrkResult
		for _, r := range runs {
			if err := r.cmd.Wait(); err != nil {
				t.Fatalf("wrk: %v\n%s", err, r.out.String())
			}
			res, err := parseWrk(r.out.String())
			if err != nil {
				t.Fatal(err)
			}
			sum.rps += res.rps
			sum.requests += res.requests
			sum.non2xx += res.non2xx
			sum.sockErr += res.sockErr
			sum.fivexx += res.fivexx
			sum.lost += res.lost
			sum.checked += res.checked
		}
		return sum
	}
}

func loadDuringRotation(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Fatal("wrk is not installed: scripts/fleet.sh installs it (apt-get install -y wrk)")
	}
	const stage = 8 * time.Second
	K1, K2 := newKey(t, "key-L1"), newKey(t, "key-L2")
	ring1, ring12, ring21 := ringOf(t, K1), ringOf(t, K1, K2), ringOf(t, K2, K1)
	nodes := startFleet(t, "load", 3, ring1, nodeOpts{lifetime: time.Hour})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	script := filepath.Join(t.TempDir(), "count.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		t.Fatal(err)
	}
	// wrk's session: one visit, then wrk sends that cookie on every request
	// (it ignores Set-Cookie), so every request opens it and seals anew.
	seed := newClient(t, "wrk-seed", 0, tr)
	if _, ok := newTally().visitOn(seed, nodes[0]); !ok || seed.cookie == "" {
		t.Fatal("could not start wrk's session")
	}

	// The Go clients keep their cookies and move between the processes for
	// the whole test, alongside wrk.
	users := newClients(t, "user", 20, tr)
	var cur atomic.Pointer[tally]
	cur.Store(newTally())
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range users {
		wg.Go(func() {
			for ctx.Err() == nil {
				cur.Load().visit(c, nodes)
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	stopUsers := sync.OnceFunc(func() { stop(); wg.Wait() })
	defer stopUsers()
	first := cur.Load()
	time.Sleep(200 * time.Millisecond) // every user has a session
	first.check(t, "load warm-up")

	// rotate is the "during" stage's work: a full staged rotation, six file
	// changes spread over the stage, each picked up by the running process.
	var maxPickup time.Duration
	rotate := func(start time.Time) {
		steps := []struct {
			n    *node
			ring *cookiesession.KeyRing
		}{
			{nodes[0], ring12}, {nodes[1], ring12}, {nodes[2], ring12},
			{nodes[0], ring21}, {nodes[1], ring21}, {nodes[2], ring21},
		}
		for k, s := range steps {
			sleepUntil(start.Add(stage * time.Duration(k+1) / time.Duration(len(steps)+2)))
			maxPickup = max(maxPickup, s.n.setRing(hc, s.ring))
		}
	}

	// A short run that is not reported, so that "before" measures the fleet
	// warm (connections open, heaps grown) as the later stages do.
	if w := startWrk(t, wrk, script, seed.cookie, nodes, 2*time.Second)(); w.non2xx+w.fivexx+w.sockErr+w.lost != 0 {
		t.Errorf("load warm-up: wrk saw non2xx=%d 5xx=%d socket_errors=%d lost=%d", w.non2xx, w.fivexx, w.sockErr, w.lost)
	}

	var total wrkResult
	lostUsers := map[string]bool{}
	for _, st := range []struct {
		name string
		ring *cookiesession.KeyRing
		work func(time.Time)
	}{
		{"before", ring1, nil},
		{"during", ring21, rotate},
		{"after", ring21, nil},
	} {
		tl := newTally()
		cur.Store(tl)
		start := time.Now()
		wait := startWrk(t, wrk, script, seed.cookie, nodes, stage)
		if st.work != nil {
			st.work(start)
		}
		res := wait()
		cur.Store(newTally()) // between stages
		tl.check(t, "load "+st.name)
		tl.mu.Lock()
		for name, kept := range tl.kept {
			if !kept {
				lostUsers[name] = true
			}
		}
		extra := ""
		if st.work != nil {
			extra = fmt.Sprintf(" rotation=%s->%s->%s steps=6 max_pickup_ms=%d", ringString(ring1), ringString(ring12), ringString(ring21), maxPickup.Milliseconds())
		}
		say("load stage=%s ring=%s rps=%.0f requests=%d non2xx=%d 5xx=%d socket_errors=%d wrk_lost=%d go_clients=%d go_requests=%d go_kept=%d go_lost=%d go_5xx=%d go_errors=%d%s",
			st.name, ringString(st.ring), res.rps, res.requests, res.non2xx, res.fivexx, res.sockErr, res.lost,
			len(users), tl.requests, countTrue(tl.kept), len(tl.lost), tl.fivexx, len(tl.errors), extra)
		tl.mu.Unlock()
		if res.non2xx != 0 || res.fivexx != 0 || res.sockErr != 0 || res.lost != 0 || res.checked != res.requests {
			t.Errorf("load stage %s: wrk saw non2xx=%d 5xx=%d socket_errors=%d lost=%d (checked %d of %d)",
				st.name, res.non2xx, res.fivexx, res.sockErr, res.lost, res.checked, res.requests)
		}
		total.requests += res.requests
	}
	stopUsers()
	// Every user's session went on through the rotation and is now sealed
	// with the new primary.
	resealed := 0
	for _, c := range users {
		if res, err := c.get(c.next(nodes), "/api/session"); err == nil && res.rep.KeyID == "key-L2" && res.rep.Primary && res.rep.ID == c.id {
			resealed++
		}
	}
	if resealed != len(users) || len(lostUsers) != 0 {
		t.Errorf("load: %d of %d users resealed with key-L2, %d users lost their session", resealed, len(users), len(lostUsers))
	}
	say("load total wrk_requests=%d go_sessions_kept=%d/%d resealed_with_L2=%d", total.requests, len(users)-len(lostUsers), len(users), resealed)
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}
