package fleet

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// rotationDrill is TestRotationDrill; the design of its phases is described
// in fleet_test.go.
func rotationDrill(t *testing.T) {
	const lifetime = 6 * time.Second
	A, B := newKey(t, "key-A"), newKey(t, "key-B")
	ringA, ringAB, ringBA, ringB := ringOf(t, A), ringOf(t, A, B), ringOf(t, B, A), ringOf(t, B)

	nodes := startFleet(t, "node", 3, ringA, nodeOpts{lifetime: lifetime})
	tr := newTransport()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	active := newClients(t, "active", 20, tr)
	dormant := newClients(t, "dormant", 4, tr)
	count := func(cs []*client, kid string) int {
		n := 0
		for _, c := range cs {
			if c.sealKid == kid {
				n++
			}
		}
		return n
	}

	// Phase 1: {A} everywhere.
	start := time.Now()
	p1 := newTally()
	everyone := append(append([]*client(nil), active...), dormant...)
	for range 3 {
		p1.round(everyone, nodes)
	}
	p1.check(t, "1")
	if n := count(everyone, "key-A"); n != len(everyone) {
		t.Errorf("phase 1: %d of %d sessions sealed with key-A", n, len(everyone))
	}
	say("phase=1-ring-A ring=%s nodes=%d clients=%d requests=%d sessions_kept=%d sealed_with_A=%d 5xx=%d errors=%d",
		ringString(ringA), len(nodes), len(everyone), p1.requests, p1.keptCount(), count(everyone, "key-A"), p1.fivexx, len(p1.errors))

	// Phase 2a: stage B, one process at a time, A still primary everywhere.
	p2a := newTally()
	for _, n := range nodes {
		n.setRing(hc, ringAB)
		p2a.round(active, nodes)
		p2a.round(active, nodes)
	}
	p2a.check(t, "2a")
	if n := count(active, "key-A"); n != len(active) {
		t.Errorf("phase 2a: %d of %d sessions sealed with key-A", n, len(active))
	}
	say("phase=2a-stage-B ring=%s rolled=%d requests=%d sessions_kept=%d sealed_with_A=%d resealed_with_B=%d 5xx=%d errors=%d",
		ringString(ringAB), len(nodes), p2a.requests, p2a.keptCount(), count(active, "key-A"), count(active, "key-B"), p2a.fivexx, len(p2a.errors))

	// Phase 2b: promote B, one process at a time.
	p2b := newTally()
	for _, n := range nodes {
		n.setRing(hc, ringBA)
		p2b.round(active, nodes)
		p2b.round(active, nodes)
	}
	promoted := time.Now() // no process seals with A from here on
	if took := promoted.Sub(start); took > lifetime-2*time.Second {
		t.Fatalf("phases 1 to 2b took %v: too slow for a %v session lifetime (sessions issued in phase 1 end 5 to 6 s after issue); the machine is overloaded", took, lifetime)
	}
	p2b.check(t, "2b")
	// Back on another process, every session says it was sealed with B, the
	// primary, and is the same session.
	resealed := 0
	for _, c := range active {
		res, err := c.get(c.next(nodes), "/api/session")
		switch {
		case err != nil || res.status != http.StatusOK:
			t.Errorf("phase 2b: %s /api/session: %v status %d", c.name, err, res.status)
		case c.sealKid == "key-B" && res.rep.KeyID == "key-B" && res.rep.Primary && res.rep.ID == c.id && res.rep.Visits == c.visits:
			resealed++
		default:
			t.Errorf("phase 2b: %s holds a cookie sealed with %s; /api/session says %+v", c.name, c.sealKid, res.rep)
		}
	}
	if p2b.oldKey == 0 {
		t.Errorf("phase 2b: no cookie was ever opened with a non-primary key: the processes never disagreed under the clients")
	}
	say("phase=2b-promote-B ring=%s rolled=%d requests=%d opened_with_non_primary=%d sessions_kept=%d resealed_with_B=%d rejected_as_expected=0 5xx=%d errors=%d phases_1_to_2_took=%.1fs",
		ringString(ringBA), len(nodes), p2b.requests, p2b.oldKey, p2b.keptCount(), resealed, p2b.fivexx, len(p2b.errors), promoted.Sub(start).Seconds())

	// Phase 2c: a malformed file on one process, while we wait for the
	// lifetime to pass.
	malformedFile(t, hc, nodes, ringBA, tr)

	// Phase 3: retire A once every A cookie is past its lifetime. iat and exp
	// are whole seconds, so by promoted+lifetime every one has expired.
	retire := promoted.Add(lifetime + 500*time.Millisecond)
	sleepUntil(retire.Add(-2 * time.Second))
	late := newClients(t, "late", 8, tr)
	p3 := newTally()
	p3.round(late, nodes) // sessions issued after the promotion: sealed B
	p3.round(late, nodes)
	sleepUntil(retire)

	// A fresh, in-lifetime session sealed with A, by the test itself.
	freshA := sealWith(t, ringA, lifetime)
	probe := newClient(t, "fresh-A", 0, tr)
	probe.replay(nodes[0], freshA)
	if res, err := probe.get(nodes[0], "/api/session"); err != nil || res.rep.New || res.rep.KeyID != "key-A" || res.rep.LoadError != "" {
		t.Errorf("phase 3: a fresh key-A session on a %s process: %v %+v; want it opened", ringString(ringBA), err, res.rep)
	}

	for _, n := range nodes {
		n.setRing(hc, ringB)
		p3.round(late, nodes)
		p3.round(late, nodes)
	}
	p3.check(t, "3 (late clients)")
	lateKept := p3.keptCount()

	freshRejected := 0
	for i, n := range nodes {
		c := newClient(t, fmt.Sprintf("fresh-A-%d", i), i, tr)
		c.replay(n, freshA)
		if p3.reject(c, n, `unknown key id "key-A"`, "key-B") {
			freshRejected++
		}
	}
	jarDropped := 0
	rejected := func(cs []*client, reason string) int {
		n := 0
		for _, c := range cs {
			if !c.hasCookie(nodes[0]) {
				jarDropped++ // the jar let it go at its Max-Age, as a browser does
			}
			c.replay(nodes[0], c.cookie) // and the client sends it all the same
			if p3.reject(c, c.next(nodes), reason, "key-B") {
				n++
			}
			p3.visit(c, nodes) // the fresh session goes on
		}
		return n
	}
	unknownKey := rejected(dormant, `unknown key id "key-A"`)
	expired := rejected(active, "session expired")
	p3.check(t, "3")
	if unknownKey != len(dormant) || expired != len(active) || freshRejected != len(nodes) || lateKept != len(late) {
		t.Errorf("phase 3: unknown_key=%d/%d expired=%d/%d fresh_A_rejected=%d/%d late sessions kept %d/%d",
			unknownKey, len(dormant), expired, len(active), freshRejected, len(nodes), lateKept, len(late))
	}
	say("phase=3-retire-A ring=%s after=%.1fs requests=%d sessions_kept=%d rejected_as_expected=%d unknown_key=%d expired=%d fresh_A_rejected=%d jar_dropped=%d fresh_sessions=%d 5xx=%d errors=%d",
		ringString(ringB), retire.Sub(promoted).Seconds(), p3.requests, lateKept, unknownKey+expired, unknownKey, expired, freshRejected,
		jarDropped, len(p3.rejected), p3.fivexx, len(p3.errors))

	oneStepControl(t, hc, nodes, B, tr)

	// No process ever wrote a key's secret, whatever it logged.
	leaks := 0
	for _, n := range nodes {
		log := n.allLogs()
		for _, k := range secretsOf(t, ringAB) {
			if strings.Contains(log, k) {
				leaks++
				t.Errorf("%s logged a secret", n.name)
			}
		}
	}
	say("phase=logs nodes=%d secrets_in_logs=%d", len(nodes), leaks)
}

// malformedFile is phase 2c: node 1's file is replaced by content that does
// not parse. The process keeps its ring, logs why once per bad content, and
// keeps serving the clients' sessions.
func malformedFile(t *testing.T, hc *http.Client, nodes []*node, ring *cookiesession.KeyRing, tr http.RoundTripper) {
	const logged = "previous ring stays in force" // the library's default OnError
	n := nodes[1]
	good, err := ring.ExportJWKS()
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		what, reason string
		content      []byte
	}{
		// What a writer that is not atomic leaves for a moment (written here
		// atomically, so the process sees exactly this content).
		{"truncated", "not a JWK Set", good[:len(good)/2]},
		// A mistake: a well-formed set whose key is 12 bytes.
		{"short-key", "need at least 32", []byte(`{"keys":[{"kty":"oct","kid":"key-B","k":"c2hvcnQtc2VjcmV0"}]}`)},
	}
	probes := newClients(t, "probe", 6, tr)
	p := newTally()
	p.round(probes, nodes)
	kept := true
	for i, b := range bad {
		if err := writeAtomic(n.keyFile, b.content); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for strings.Count(n.currentLog().String(), logged) < i+1 && time.Now().Before(deadline) {
			n.ring(hc) // a request makes the process look at its file
			time.Sleep(20 * time.Millisecond)
		}
		// Three more intervals: the ring stays, and the same bad content is
		// not reported again.
		for range 3 {
			time.Sleep(keyFileInterval)
			if ids, err := n.ring(hc); err != nil || strings.Join(ids, ",") != strings.Join(ring.IDs(), ",") {
				kept = false
				t.Errorf("phase 2c: %s file %s: ring %v (%v), want %v kept", n.name, b.what, ids, err, ring.IDs())
			}
		}
		log := n.currentLog().String()
		if got := strings.Count(log, logged); got != i+1 {
			t.Errorf("phase 2c: %s file %s: %q logged %d times, want %d", n.name, b.what, logged, got, i+1)
		}
		if last := lastLine(log, logged); !strings.Contains(last, b.reason) {
			t.Errorf("phase 2c: %s file %s: log line %q does not say %q", n.name, b.what, last, b.reason)
		}
		for _, c := range probes {
			p.visitOn(c, n) // served by the process with the bad file
		}
		p.round(probes, nodes)
	}
	n.setRing(hc, ring) // repaired: the same ring as in force, so no change
	p.round(probes, nodes)
	p.check(t, "2c")
	say("phase=2c-malformed-file node=%s bad_files=%d logged=%d kept_previous_ring=%v requests=%d sessions_kept=%d 5xx=%d errors=%d",
		n.name, len(bad), strings.Count(n.currentLog().String(), logged), kept, p.requests, p.keptCount(), p.fivexx, len(p.errors))
	if line := lastLine(n.currentLog().String(), logged); line != "" {
		t.Logf("%s logged: %s", n.name, line)
	}
}

func lastLine(log, substr string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], substr) {
			return lines[i]
		}
	}
	return ""
}

// sealWith seals a fresh session (issued now, visits 41) with ring's primary,
// through the public API, as a process on that ring would.
func sealWith(t *testing.T, ring *cookiesession.KeyRing, lifetime time.Duration) string {
	t.Helper()
	m, err := cookiesession.New(cookiesession.Config{Keys: ring, Lifetime: lifetime, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := m.LoadHeader()
	s.Set("visits", 41)
	lines, err := m.SetCookies(s)
	if err != nil || len(lines) != 1 {
		t.Fatalf("sealing a session: %v %q", err, lines)
	}
	v, _, _ := strings.Cut(strings.TrimPrefix(lines[0], cookiesession.DefaultName+"="), ";")
	return v
}

// oneStepControl is phase 3x: it rolls {B} -> {C, B} on one process only,
// the one-step roll, and shows the sessions that cross from it to a process
// still on {B} are lost. It proves the drill's clients do cross disagreeing
// processes, and why phase 2 stages the new key first.
func oneStepControl(t *testing.T, hc *http.Client, nodes []*node, B cookiesession.Key, tr http.RoundTripper) {
	C := newKey(t, "key-C")
	ringCB := ringOf(t, C, B)
	cs := newClients(t, "control", 5, tr)
	p := newTally()
	for _, c := range cs {
		p.visitOn(c, nodes[1]) // a session sealed with B
	}
	nodes[0].setRing(hc, ringCB)
	lost, resealedC := 0, 0
	for _, c := range cs {
		if p.visitOn(c, nodes[0]); c.sealKid == "key-C" {
			resealedC++
		}
		old := c.id
		res, err := c.get(nodes[1], "/")
		if err == nil && res.status == http.StatusOK && res.rep.New && res.rep.ID != old &&
			strings.Contains(res.rep.LoadError, `unknown key id "key-C"`) {
			lost++
		}
	}
	p.check(t, "3x (before the crossing)")
	if lost != len(cs) || resealedC != len(cs) {
		t.Errorf("phase 3x: resealed with C on %s: %d/%d; lost on %s: %d/%d; want all", nodes[0].name, resealedC, len(cs), nodes[1].name, lost, len(cs))
	}
	say("phase=3x-one-step-roll-control %s=%s others=%s resealed_with_C=%d sessions_lost=%d/%d (expected: a one-step roll loses sessions)",
		nodes[0].name, ringString(ringCB), "{key-B}", resealedC, lost, len(cs))
}
