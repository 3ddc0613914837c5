#!/usr/bin/env bash
# Tests the serverless example, the nested module examples/lambda: the AWS
# Lambda handler for API Gateway HTTP API (payload 2.0) events replayed from
# testdata/ across invocations, and the plain http.HandlerFunc of httpfunc/.
# Also checks that the function builds for the Lambda runtime (linux/arm64).
#   bash scripts/lambda.sh        # extra arguments go to `go test`
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/examples/lambda"

die() { echo "FAIL: lambda: $*" >&2; exit 1; }
command -v go >/dev/null || die "go is not on PATH"

go vet ./... || die "go vet failed"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
go test -v -count=1 "$@" ./... 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
[[ $rc -eq 0 ]] || die "go test in examples/lambda failed (exit $rc)"
grep -q -- '--- SKIP' "$log" && die "a test was skipped"
passed="$(grep -c -- '^--- PASS' "$log" || true)"
[[ "$passed" -gt 0 ]] || die "no test ran"
grep -- '^--- PASS' "$log" | sed 's/^--- PASS: /PASS: lambda: /'

out="$(mktemp -d)"
trap 'rm -f "$log"; rm -rf "$out"' EXIT
GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o "$out/bootstrap" . || die "the function does not build for linux/arm64"
echo "PASS: lambda: bootstrap builds for provided.al2023 (linux/arm64, $(wc -c <"$out/bootstrap") bytes)"
echo "PASS: lambda: $passed tests"
