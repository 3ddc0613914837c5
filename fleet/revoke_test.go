package fleet

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// revocationPhase is TestRevocation: three processes follow ONE revocation
// list file; a user's sessions are revoked by rewriting it; the phase
// measures how long each process takes to refuse them.
func revocationPhase(t *testing.T) {
	const victim = "user-victim"
	ring := ringOf(t, newKey(t, "key-R"))
	revFile := filepath.Join(t.TempDir(), "revoked.json")
	if err := writeAtomic(revFile, []byte(`{"revocations":[]}`)); err != nil {
		t.Fatal(err)
	}
	nodes := startFleet(t, "rnode", 3, ring, nodeOpts{lifetime: time.Hour, revFile: revFile})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	bare := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	// Six devices of the victim and eighteen other users log in, one per
	// node in turn, then move round the fleet.
	victims := newClients(t, "victim", 6, tr)
	others := newClients(t, "other", 18, tr)
	p := newTally()
	login := func(c *client, user string) {
		n := c.next(nodes)
		res, err := c.get(n, "/login?user="+user)
		if p.record(c, n, res, err) && res.rep.Subject != user {
			t.Errorf("%s on %s: logged in as %q, subject %q", c.name, n.name, user, res.rep.Subject)
		}
	}
	for _, c := range victims {
		login(c, victim)
	}
	for i, c := range others {
		login(c, fmt.Sprintf("user-%d", i))
	}
	everyone := append(slices.Clone(victims), others...)
	p.round(everyone, nodes)
	p.round(everyone, nodes)
	if p.keptCount() != len(everyone) {
		p.check(t, "6-revoke (before)")
		t.FailNow()
	}

	// The probe: the victim's latest cookie, sent without a jar to each node
	// until the node refuses it; it changes nothing on the node's side.
	probe := victims[0].cookie
	refusedBy := func(n *node) (bool, error) {
		req, _ := http.NewRequest(http.MethodGet, n.url+"/api/session", nil)
		req.Header.Set("Cookie", cookiesession.DefaultName+"="+probe)
		resp, err := bare.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		var rep report
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("%s: status %d", n.name, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(&rep); err != nil {
			return false, err
		}
		return strings.Contains(rep.LoadError, "session revoked"), nil
	}
	for _, n := range nodes {
		if refused, err := refusedBy(n); err != nil || refused {
			t.Fatalf("%s refuses the victim before the revocation: %v %v", n.name, refused, err)
		}
	}

	// Revoke: one write of the shared file, as "cookiesession revoke" does.
	list, err := cookiesession.NewRevocationList(cookiesession.Revocation{Subject: victim, NotBefore: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	data, err := list.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	written := time.Now()
	if err := writeAtomic(revFile, data); err != nil {
		t.Fatal(err)
	}
	pickup := make([]time.Duration, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() {
			for time.Since(written) < 5*time.Second {
				refused, err := refusedBy(n)
				if err != nil {
					t.Errorf("probe: %v", err)
					return
				}
				if refused {
					pickup[i] = time.Since(written)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	// Every other user goes on meanwhile, and after.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	rounds := 0
	for waiting := true; waiting || rounds < 2; rounds++ {
		p.round(others, nodes)
		select {
		case <-done:
			waiting = false
		default:
		}
	}
	slowest := 0
	for i, d := range pickup {
		if d == 0 {
			t.Fatalf("%s did not refuse the revoked session within 5s", nodes[i].name)
		}
		if d > pickup[slowest] {
			slowest = i
		}
	}
	// A process re-reads the file on the first request after its interval
	// has passed: the probe's next request after at most one interval, on a
	// loaded machine a little later.
	if limit := keyFileInterval + time.Second; pickup[slowest] > limit {
		t.Errorf("%s took %v to refuse the revoked session; the reload interval is %v", nodes[slowest].name, pickup[slowest], keyFileInterval)
	}

	// Every device of the victim is refused on its next request, on
	// whichever node, with a fresh session; everybody else is kept.
	refused := 0
	for _, c := range victims {
		if p.reject(c, c.next(nodes), "session revoked", "key-R") {
			refused++
		}
	}
	p.round(others, nodes)
	// The victim logs in again, after the revocation: kept everywhere.
	again := newClient(t, "victim-again", 0, tr)
	login(again, victim)
	for range 3 {
		p.visit(again, nodes)
	}
	relogin := p.kept[again.name]
	p.check(t, "6-revoke")
	if refused != len(victims) || !relogin {
		t.Errorf("phase 6-revoke: %d of %d victim sessions refused, new login kept: %v", refused, len(victims), relogin)
	}
	kept := 0
	for _, c := range others {
		if p.kept[c.name] {
			kept++
		}
	}
	ms := make([]string, len(nodes))
	for i, d := range pickup {
		ms[i] = fmt.Sprintf("%s:%d", nodes[i].name, d.Milliseconds())
	}
	say("phase=6-revoke nodes=%d list_file=shared interval=%v victim_sessions=%d refused_on_next_request=%d others_kept=%d/%d relogin_kept=%v requests=%d 5xx=%d errors=%d pickup_ms=[%s] slowest_process=%s took=%dms",
		len(nodes), keyFileInterval, len(victims), refused, kept, len(others), relogin, p.requests, p.fivexx, len(p.errors),
		strings.Join(ms, " "), nodes[slowest].name, pickup[slowest].Milliseconds())
}
