#!/usr/bin/env bash
# Device-bound sessions (DBSC) in a real browser: headless Chromium with its
# DBSC features and software keys, driven by chromedp from the nested module
# e2e/dbsc, over HTTPS against a test server on 127.0.0.1. One line per step:
# registration, refresh after the bound cookie expired, a copy of every
# cookie in a second profile refused after the bound cookie's lifetime, and a
# browser without DBSC that keeps its unbound session. Installs chromium with
# apt-get when it is missing and fails loudly if it cannot.
#   bash scripts/dbsc.sh                          # bound cookie lifetime 15 s, about a minute (what CI runs)
#   DBSC_BOUND_SECONDS=300 bash scripts/dbsc.sh   # the full run: the default lifetime, 5 minutes
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

die() { echo "FAIL: dbsc: $*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH"
if ! chromium_bin="${CHROMIUM:-$(command -v chromium || true)}" || [[ -z "$chromium_bin" ]]; then
	echo "dbsc: chromium not found; installing Debian's chromium with apt-get" >&2
	[[ "$(id -u)" == 0 ]] || die "chromium is missing and installing it needs root"
	apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium || die "apt-get install -y chromium failed"
	chromium_bin="$(command -v chromium)" || die "chromium is still missing after apt-get install"
fi
[[ -x "$chromium_bin" ]] || die "$chromium_bin is not an executable"
version="$("$chromium_bin" --version 2>/dev/null | head -1)" || die "$chromium_bin --version failed"
echo "dbsc: using $chromium_bin: $version"
export CHROMIUM="$chromium_bin"

mkdir -p artifacts/dbsc
log="artifacts/dbsc/test.log"
set +e
(cd e2e/dbsc && go test -v -count=1 -timeout=15m "$@" ./...) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[[ $rc -eq 0 ]] || die "go test in e2e/dbsc failed (exit $rc; log in $log)"
grep -q -- '--- SKIP' "$log" && die "a DBSC test was skipped"
checks="$(grep -c '^dbsc check: .*: ok$' "$log" || true)"
[[ "$checks" -eq 5 ]] || die "the tests passed but printed $checks of their 5 checks"
grep '^dbsc check: ' "$log" | sed 's/^/PASS: /'
echo "PASS: dbsc: $checks checks ok in $version (bound cookie lifetime ${DBSC_BOUND_SECONDS:-15} s; full run: DBSC_BOUND_SECONDS=300 bash scripts/dbsc.sh)"
