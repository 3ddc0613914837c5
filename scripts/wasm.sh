#!/usr/bin/env bash
# Runs the root package's tests on the two WebAssembly targets that edge
# runtimes use:
#   GOOS=js     GOARCH=wasm  under Node.js   ($(go env GOROOT)/lib/wasm/go_js_wasm_exec)
#   GOOS=wasip1 GOARCH=wasm  under wazero    ($(go env GOROOT)/lib/wasm/go_wasip1_wasm_exec)
# Installs wazero with `go install` when it is missing; tries Debian's nodejs
# when node is missing and fails loudly if it still is. Run from anywhere:
#   bash scripts/wasm.sh            # extra arguments go to `go test`, e.g. -run TestX
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

die() { echo "FAIL: wasm: $*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH"
goroot="$(go env GOROOT)"
gobin="$(go env GOBIN)"
[[ -n "$gobin" ]] || gobin="$(go env GOPATH)/bin"
export PATH="$gobin:$PATH"

js_exec="$goroot/lib/wasm/go_js_wasm_exec"
wasi_exec="$goroot/lib/wasm/go_wasip1_wasm_exec"
[[ -x "$js_exec" ]] || die "missing $js_exec (Go toolchain without lib/wasm?)"
[[ -x "$wasi_exec" ]] || die "missing $wasi_exec (Go toolchain without lib/wasm?)"

# node, for GOOS=js.
if ! command -v node >/dev/null; then
	echo "wasm: node not found; trying apt-get install -y nodejs" >&2
	if command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs) >&2 || true
	fi
	command -v node >/dev/null || die "node (Node.js) is required for GOOS=js GOARCH=wasm and is not installed: install it (apt-get install nodejs) and run again"
fi
echo "wasm: node $(node --version)"

# wazero, for GOOS=wasip1.
if ! command -v wazero >/dev/null; then
	echo "wasm: wazero not found; go install github.com/tetratelabs/wazero/cmd/wazero@latest" >&2
	GOFLAGS= go install github.com/tetratelabs/wazero/cmd/wazero@latest || die "could not install wazero"
	command -v wazero >/dev/null || die "wazero installed but not on PATH ($gobin)"
fi
echo "wasm: wazero $(wazero version 2>/dev/null || echo '?')"

# Each run's full output is kept in artifacts/wasm/, so that a failure shows everything.
out="$root/artifacts/wasm"
mkdir -p "$out"

status=0
run() {
	local label="$1" log="$2"
	shift 2
	echo "wasm: running: $*"
	set +e
	"$@" >"$log" 2>&1
	local rc=$?
	set -e
	local passed skipped failed
	passed="$(grep -c '^--- PASS' "$log" || true)"
	skipped="$(grep -c -- '--- SKIP' "$log" || true)"
	failed="$(grep -c -- '--- FAIL' "$log" || true)"
	# Every skip is listed, so none goes unnoticed.
	grep -A1 -- '--- SKIP' "$log" | sed 's/^/wasm: '"$label"': /' || true
	if [[ $rc -eq 0 ]]; then
		echo "PASS: wasm: $label: $passed top-level tests passed, $skipped skipped ($(grep -E '^ok' "$log" | tail -1 | tr -s '\t ' ' '))"
	else
		grep -E -- '--- FAIL|^panic|^FAIL|test timed out|build failed|cannot|error' "$log" | head -40 | sed 's/^/wasm: '"$label"': /' >&2 || true
		tail -20 "$log" | sed 's/^/wasm: '"$label"': | /' >&2
		echo "FAIL: wasm: $label: exit $rc, $failed failed (full log: ${log#"$root"/})" >&2
		status=1
	fi
}

# -v: the log names every test; -count=1: never a cached result; -timeout: a
# test that hangs (goroutines are not preempted on wasm) fails the run.
run "GOOS=js GOARCH=wasm (node)" "$out/js.log" \
	env GOOS=js GOARCH=wasm go test -v -count=1 -timeout=10m -exec="$js_exec" "$@" .
run "GOOS=wasip1 GOARCH=wasm (wazero)" "$out/wasip1.log" \
	env GOOS=wasip1 GOARCH=wasm GOWASIRUNTIME=wazero go test -v -count=1 -timeout=10m -exec="$wasi_exec" "$@" .

if [[ $status -ne 0 ]]; then
	die "at least one wasm test run failed"
fi
echo "PASS: wasm: root package tests pass on js/wasm and wasip1/wasm"
