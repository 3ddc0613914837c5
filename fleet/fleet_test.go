package fleet

// The fleet drill. Every test starts real processes of cmd/node (built once
// by TestMain) on 127.0.0.1, each following its OWN ring file with
// cookiesession.OpenKeyFile (re-read at most every 200ms), and drives them
// with clients that each own a net/http/cookiejar jar and move between the
// processes round-robin, as behind a load balancer without sticky sessions.
// Ring files are rewritten atomically (temporary file + rename) and picked up
// without a restart. Every process is killed by t.Cleanup, on failure too, and
// by the kernel if the test binary itself dies (Pdeathsig).
//
// # TestRotationDrill: the rotation, with a 6s session lifetime
//
// Phase 2 follows the README's staged rotation, not the one-step shortcut
// {A} -> {B, A}: while a one-step roll is under way, a process that already
// has {B, A} seals with B, and the same client's next request may go to a
// process still on {A}, which does not know B: the client loses its session.
// Phase 3x shows exactly that, as a control. A fleet that changes one process
// at a time therefore rolls twice, stage then promote:
//
//	1-ring-A     every process on {A}; 20 "active" and 4 "dormant" clients
//	             start sessions and move once round the fleet (all sealed A).
//	2a-stage-B   {A} -> {A, B} one process at a time, two rounds of requests
//	             after each change: the processes disagree, but all still
//	             seal with A and the new ones also open B. Nothing is lost.
//	2b-promote-B {A, B} -> {B, A} one process at a time, two rounds after each:
//	             promoted processes seal B, the others still seal A, and
//	             every process opens both, so cookies cross in both directions
//	             (counted as opened_with_non_primary). Nothing is lost, and
//	             once all are promoted every active session comes back sealed
//	             with B (the Set-Cookie's JWE header, then /api/session's kid
//	             on another process).
//	2c-malformed-file  during the wait below: one process's file is replaced
//	             by a truncated JWK Set, then by a ring with a short key. It
//	             keeps serving with {B, A}, the library logs why (once per bad
//	             content), and the clients it serves keep their sessions.
//	3-retire-A   once the longest lifetime has passed since the last process
//	             sealed with A, {B, A} -> {B} one process at a time.
//	3x           the control: a one-step roll to {C, B} on one process loses
//	             the sessions that cross to a process without C.
//
// The lifetime subtlety. Re-sealing keeps a session's issued-at: an active
// session issued in phase 1 and re-sealed with B in phase 2 still ends at
// its phase-1 issued-at + Lifetime (iat is whole seconds, so 5 to 6 s after
// issue). So phases 1 to 2b must end within that lifetime (they take about
// 1.5 s, and the drill fails with a clear message when the machine is too
// slow for it), and "wait the longest lifetime" then expires every phase-1
// session whatever its key. Phase 3 therefore proves the two reasons apart:
//
//   - a session never touched after phase 1 (dormant, sealed A) is replayed
//     to the {B} fleet: refused for the key, load_error `unknown key id
//     "key-A"` (the key is checked before the claims), and the client gets a
//     fresh session, 200, a new id;
//   - a session touched in phase 2 (active, sealed B) is past its lifetime:
//     the jar has already dropped it (Max-Age follows the sealed expiry), and
//     replayed anyway it is refused as expired, again with a fresh session;
//   - that ring {B} refuses key A for the key alone, not for the time: the
//     test seals a FRESH session with key A (within its lifetime) through the
//     public API; a {B, A} process opens it, every {B} process refuses it as
//     an unknown key. That is the emergency revocation;
//   - sessions started after the promotion ("late" clients, sealed B, issued
//     shortly before phase 3) live through the retirement of A untouched.
//
// # TestLoadDuringRotation
//
// Three processes under wrk (one wrk per process, all sending one valid
// session cookie, so every request opens and re-seals it; a Lua script counts
// 5xx and responses whose cookie did not open) for an unreported 2 s warm-up,
// then three stages of 8 s: before, during (a full staged rotation {L1} ->
// {L1, L2} -> {L2, L1}, six file changes spread over the stage) and after.
// 20 Go jar clients keep moving between the processes the whole time. It
// prints rps, non-2xx/3xx, 5xx and lost sessions per stage. The lifetime is
// an hour, so no session ends during the test: retiring a key under load
// would need a lifetime to pass, and phase 3 of the drill covers it.
//
// # TestKillRestart and TestClockSkew
//
// A process is SIGKILLed while clients move between processes (those that
// hit it fail over to the next one), restarted on the same port and file, and
// must serve every session again, including one it issued before it died.
// Processes whose clocks are 3 s off either way share sessions with a 5 s
// ClockSkew allowance; 9 s off, their cookies are refused as issued (or last
// active) in the future, and the client gets a fresh session.
//
// # TestRevocation: one user's sessions revoked across the fleet
//
// Three processes follow ONE revocation list file (a ConfigMap every pod
// mounts), re-read at most every 200ms on a request, besides their ring
// files. Six sessions of one user (six devices) and eighteen other users log
// in (the node's /login sets the session's subject) and move round the
// fleet. Then the file is rewritten once, atomically, revoking that user at
// now. A probe sends the user's cookie to every process without changing it
// until each refuses it ("session revoked"); how long each took is printed,
// and the slowest must stay within the reload interval (plus a second of
// slack for a loaded machine). Meanwhile and after, the other users keep
// moving and keep their sessions. Each of the six devices is then refused on
// its next request, on whichever process, with a fresh session (200, never
// a 5xx), and the user logging in again afterwards is kept everywhere.

import (
	"flag"
	"fmt"
	"os"
	"testing"
	"time"
)

// enabled reports whether the drill runs: only when FLEET_DRILL is set (as
// scripts/fleet.sh does) and not in -short mode. It starts a dozen processes
// and three wrk runs for about forty seconds, so a plain `go test ./...` over
// the nested modules does not run it a second time.
func enabled() bool { return os.Getenv("FLEET_DRILL") != "" && !testing.Short() }

func TestMain(m *testing.M) {
	flag.Parse()
	if !enabled() {
		os.Exit(m.Run()) // every test skips
	}
	dir, err := os.MkdirTemp("", "fleet-node-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if nodeBin, err = buildNode(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func skipUnlessEnabled(t *testing.T) {
	if !enabled() {
		t.Skip("the fleet drill runs with FLEET_DRILL=1 (bash scripts/fleet.sh), not in -short mode")
	}
}

// The tests, in the order they run.

func TestRotationDrill(t *testing.T)      { skipUnlessEnabled(t); rotationDrill(t) }
func TestLoadDuringRotation(t *testing.T) { skipUnlessEnabled(t); loadDuringRotation(t) }
func TestKillRestart(t *testing.T)        { skipUnlessEnabled(t); killRestart(t) }
func TestClockSkew(t *testing.T)          { skipUnlessEnabled(t); clockSkew(t) }
func TestRevocation(t *testing.T)         { skipUnlessEnabled(t); revocationPhase(t) }

func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }
