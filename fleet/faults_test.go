package fleet

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// killRestart (TestKillRestart) SIGKILLs one process while clients move between the
// processes, restarts it on the same port with the same ring file, and checks
// that it serves every session again, including one it issued itself before
// it died and that nobody touched since.
func killRestart(t *testing.T) {
	ring := ringOf(t, newKey(t, "key-K"))
	nodes := startFleet(t, "kr", 3, ring, nodeOpts{lifetime: time.Hour})
	victim := nodes[1]
	tr := newTransport()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	witness := newClient(t, "witness", 0, tr)
	wt := newTally()
	wt.visitOn(witness, victim) // issued by the victim, then left alone

	users := newClients(t, "user", 20, tr)
	p := newTally()
	var (
		down, restarted atomic.Bool
		refused         atomic.Int64
		mu              sync.Mutex
		servedAfter     = map[string]bool{}
	)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range users {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := c.next(nodes)
				res, err := c.get(n, "/")
				if err != nil && n == victim && down.Load() {
					// A load balancer would send the request elsewhere.
					refused.Add(1)
					n = c.next(nodes)
					res, err = c.get(n, "/")
				}
				ok := p.record(c, n, res, err)
				if ok && n == victim && restarted.Load() {
					mu.Lock()
					servedAfter[c.name] = true
					mu.Unlock()
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	stopUsers := sync.OnceFunc(func() { stop(); wg.Wait() })
	defer stopUsers()

	time.Sleep(time.Second)
	down.Store(true)
	killedAt := time.Now()
	how := victim.kill()
	time.Sleep(time.Second)
	victim.restart()
	tr.CloseIdleConnections()
	downFor := time.Since(killedAt)
	down.Store(false)
	restarted.Store(true)
	time.Sleep(1500 * time.Millisecond)
	stopUsers()

	ids, err := victim.ring(hc)
	sameRing := err == nil && strings.Join(ids, ",") == strings.Join(ring.IDs(), ",")
	wt.visitOn(witness, victim)
	p.check(t, "4")
	wt.check(t, "4 (witness)")
	kept := p.keptCount()
	if wt.keptCount() == 1 {
		kept++
	}
	if !strings.Contains(how, "killed") || refused.Load() == 0 || !sameRing || len(servedAfter) != len(users) || kept != len(users)+1 {
		t.Errorf("phase 4: exit %q, refused while down %d, ring after restart %v (%v), served after restart %d/%d, sessions kept %d/%d",
			how, refused.Load(), ids, err, len(servedAfter), len(users), kept, len(users)+1)
	}
	say("phase=4-kill-restart node=%s exit=%q down_ms=%d refused_while_down=%d requests=%d same_ring=%v sessions_kept=%d served_by_restarted=%d witness_kept=%v 5xx=%d errors=%d",
		victim.name, how, downFor.Milliseconds(), refused.Load(), p.requests+wt.requests, sameRing, kept, len(servedAfter)+wt.keptCount(), wt.keptCount() == 1,
		p.fivexx+wt.fivexx, len(p.errors)+len(wt.errors))
}

// clockSkew (TestClockSkew) runs processes whose clocks are off (Config.Now shifted by
// -clock-offset) next to processes with the right time, all with a 5 s
// ClockSkew allowance. Off by 3 s either way, they share sessions; off by
// 9 s, a cookie dated by one is refused by the other as issued (or last
// active) in the future, and the client gets a fresh session.
func clockSkew(t *testing.T) {
	const skew = 5 * time.Second
	ring := ringOf(t, newKey(t, "key-S"))
	opts := nodeOpts{lifetime: time.Hour, skew: skew}
	normal := startFleet(t, "clock", 3, ring, opts)
	off := func(name string, d time.Duration) *node {
		o := opts
		o.offset = d
		return startNode(t, name, ring, o)
	}
	ahead3, ahead9 := off("ahead3s", 3*time.Second), off("ahead9s", 9*time.Second)
	behind3, behind9 := off("behind3s", -3*time.Second), off("behind9s", -9*time.Second)
	tr := newTransport()
	defer tr.CloseIdleConnections()

	const perCase = 5
	p := newTally()
	cases := []struct {
		label    string
		path     []*node // nodes that touch the session, in order, before the check
		check    func(i int) *node
		accepted bool
		reason   string
	}{
		{"ahead_3s_accepted", []*node{ahead3}, func(i int) *node { return normal[i%3] }, true, ""},
		{"behind_3s_accepted", []*node{normal[0]}, func(int) *node { return behind3 }, true, ""},
		{"ahead_9s_rejected", []*node{ahead9}, func(i int) *node { return normal[i%3] }, false, "issued"},
		{"behind_9s_rejected", []*node{normal[0]}, func(int) *node { return behind9 }, false, "issued"},
		// Issued with the right time, then touched by a process 9 s ahead:
		// its last-activity claim is now in everybody else's future.
		{"touched_ahead_9s_rejected", []*node{normal[0], ahead9}, func(i int) *node { return normal[i%3] }, false, "last activity"},
	}
	var parts []string
	fresh := 0
	for ci, tc := range cases {
		ok := 0
		for i := range perCase {
			c := newClient(t, fmt.Sprintf("%s-%d", tc.label, i), i, tr)
			for _, n := range tc.path {
				p.visitOn(c, n)
			}
			n := tc.check(i)
			if tc.accepted {
				if _, kept := p.visitOn(c, n); kept {
					ok++
				}
				continue
			}
			if p.reject(c, n, tc.reason+" ", "key-S") && strings.Contains(p.lastRejected(), "in the future, beyond the clock skew") {
				ok++
				fresh++
			}
			p.visitOn(c, n) // the fresh session goes on
		}
		if ok != perCase {
			t.Errorf("phase 5 case %d %s: %d of %d as expected", ci, tc.label, ok, perCase)
		}
		parts = append(parts, fmt.Sprintf("%s=%d/%d", tc.label, ok, perCase))
	}
	p.check(t, "5")
	say("phase=5-clock-skew skew=%v %s fresh_sessions=%d requests=%d 5xx=%d errors=%d",
		skew, strings.Join(parts, " "), fresh, p.requests, p.fivexx, len(p.errors))
	if len(p.rejected) > 0 {
		t.Logf("for example: %s", p.rejected[0])
	}
}

// lastRejected returns the load error of the last cookie t saw refused.
func (t *tally) lastRejected() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.rejected) == 0 {
		return ""
	}
	return t.rejected[len(t.rejected)-1]
}
