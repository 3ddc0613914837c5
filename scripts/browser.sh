#!/usr/bin/env bash
# Real-browser end-to-end test: headless Chromium (Debian's `chromium`),
# driven by chromedp from the nested module e2e/browser, against the demo
# server examples/visits run as its own process on localhost. Installs
# chromium with apt-get when it is missing and fails loudly if it cannot.
# Writes artifacts/browser/session-inspector.png and artifacts/browser/test.log.
#   bash scripts/browser.sh        # extra arguments go to `go test`
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

die() { echo "FAIL: browser: $*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH"

find_chromium() {
	if [[ -n "${CHROMIUM:-}" ]]; then
		[[ -x "$CHROMIUM" ]] && { echo "$CHROMIUM"; return 0; }
		return 1
	fi
	command -v chromium || command -v chromium-browser
}

if [[ -n "${CHROMIUM:-}" && ! -x "$CHROMIUM" ]]; then
	die "\$CHROMIUM is set to $CHROMIUM, which is not an executable"
fi
if ! chromium_bin="$(find_chromium)"; then
	echo "browser: chromium not found; installing Debian's chromium with apt-get" >&2
	command -v apt-get >/dev/null || die "chromium is missing and apt-get is not available to install it"
	sudo=""
	if [[ "$(id -u)" != 0 ]]; then
		command -v sudo >/dev/null || die "chromium is missing and installing it needs root (no sudo)"
		sudo="sudo"
	fi
	$sudo apt-get update -qq || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium || die "apt-get install -y chromium failed"
	chromium_bin="$(find_chromium)" || die "chromium is still missing after apt-get install"
fi
# The Debian launcher script prints a harmless shell warning on some CPUs; keep the version line.
version="$("$chromium_bin" --version 2>/dev/null | head -1)" || die "$chromium_bin --version failed"
[[ -n "$version" ]] || die "$chromium_bin --version printed nothing"
echo "browser: using $chromium_bin: $version"
export CHROMIUM="$chromium_bin"

mkdir -p artifacts/browser
rm -f artifacts/browser/session-inspector.png
log="artifacts/browser/test.log"

set +e
(cd e2e/browser && go test -v -count=1 -timeout=5m "$@" ./...) 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[[ $rc -eq 0 ]] || die "go test in e2e/browser failed (exit $rc; log in $log)"

checks="$(grep -c 'browser check: .*: ok$' "$log" || true)"
[[ "$checks" -gt 0 ]] || die "the test passed but reported no browser check"
grep -q -- '--- SKIP' "$log" && die "a browser test was skipped"
png="artifacts/browser/session-inspector.png"
[[ -s "$png" ]] || die "no screenshot at $png"
[[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]] || die "$png is not a PNG"

grep -o 'browser check: .*: ok$' "$log" | sed 's/^browser check: /PASS: browser check: /'
echo "PASS: browser: $checks checks ok in $version; screenshot $png ($(wc -c <"$png") bytes)"
