#!/usr/bin/env bash
# Runs the fleet drill (the nested module fleet/, see fleet/fleet_test.go):
# real processes of fleet/cmd/node on 127.0.0.1, each following its own key
# ring file, rotate keys while cookie-jar clients move between them, under wrk,
# through a SIGKILL and restart, with clocks that disagree, and with one user's
# sessions revoked through a revocation list file they all follow. It prints one
# `fleet phase=…` line per phase and `fleet load stage=…` lines with wrk's
# requests per second, and fails non-zero on any failed assertion.
#
#   bash scripts/fleet.sh            # extra arguments go to `go test`, e.g. -run TestRotationDrill
#
# Installs wrk (Debian package) when it is missing and fails loudly if it
# cannot. Takes about a minute on two cores. The full log is kept in
# artifacts/fleet/fleet.log.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

die() { echo "FAIL: fleet: $*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH"

if ! command -v wrk >/dev/null; then
	echo "fleet: wrk not found; installing it with apt-get install -y wrk" >&2
	sudo=""
	if [[ "$(id -u)" != 0 ]]; then
		command -v sudo >/dev/null || die "wrk is missing and this is not root (no sudo): install it with apt-get install wrk"
		sudo="sudo"
	fi
	command -v apt-get >/dev/null || die "wrk is missing and there is no apt-get: install wrk by hand"
	if ! $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; then
		$sudo apt-get update -qq >&2 || true
		$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2 ||
			die "could not install wrk (apt-get install -y wrk failed)"
	fi
	command -v wrk >/dev/null || die "wrk still not on PATH after apt-get install"
fi
echo "fleet: $(wrk --version 2>&1 | head -n1 || true)"

out="$root/artifacts/fleet"
mkdir -p "$out"
log="$out/fleet.log"

start=$SECONDS
cd fleet
go vet ./...
set +e
FLEET_DRILL=1 go test -count=1 -v -timeout 5m "$@" ./... 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
took=$((SECONDS - start))

echo
echo "fleet: summary (${took}s):"
grep -E '^fleet (phase|load)' "$log" || true
if [[ $rc -ne 0 ]]; then
	die "the drill failed (go test exit $rc); full log in ${log#"$root"/}"
fi
if grep -qE -- '--- SKIP' "$log"; then
	die "a test of the drill was skipped; see ${log#"$root"/}"
fi
echo "PASS: fleet: drill, load, kill/restart, clock skew and revocation in ${took}s"
