#!/usr/bin/env bash
# bench-peers.sh: cookiesession against gorilla/securecookie, gorilla/sessions
# and a hand-written standard library floor, in one `go test -bench` run of the
# nested module benchmarks/, then benchstat and a ratio table with the
# performance goals (MET or MISSED). See benchmarks/README.md.
#
# Environment:
#   BENCH_COUNT   runs of each benchmark (-count), default 6
#   BENCH_TIME    -benchtime of each run, default 100ms
#   BENCH_FILTER  -bench regular expression, default . (all)
#   BENCH_OUT     directory for the results, default artifacts/bench
#   BENCH_STRICT  1: exit 1 when a goal is missed
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

count=${BENCH_COUNT:-6}
benchtime=${BENCH_TIME:-100ms}
filter=${BENCH_FILTER:-.}
out=${BENCH_OUT:-artifacts/bench}
strict=${BENCH_STRICT:-0}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# benchstat, installed with the Go toolchain when missing.
PATH="$PATH:$(go env GOPATH)/bin"
gobin=$(go env GOBIN)
[ -n "$gobin" ] && PATH="$PATH:$gobin"
export PATH
if ! command -v benchstat >/dev/null 2>&1; then
	echo "benchstat not found: go install golang.org/x/perf/cmd/benchstat@latest" >&2
	go install golang.org/x/perf/cmd/benchstat@latest
fi

raw="$out/peers.txt"
echo "go test -run '^\$' -bench '$filter' -benchmem -count $count -benchtime $benchtime (benchmarks/), raw output in $raw" >&2
start=$(date +%s)
(cd benchmarks && go test -run '^$' -bench "$filter" -benchmem -count "$count" -benchtime "$benchtime" -timeout 2h .) >"$raw"
if ! grep -q '^Benchmark' "$raw"; then
	cat "$raw" >&2
	echo "bench-peers: no benchmark results" >&2
	exit 1
fi
echo "$(grep -c '^Benchmark' "$raw") results in $(($(date +%s) - start))s" >&2

# The codec alone, without JSON, is internal: the root package measures it
# against the crypto-only floor in a run of its own.
layer="$out/layer.txt"
echo "go test -run '^\$' -bench '^BenchmarkCodecLayer\$' -benchmem -count $count -benchtime $benchtime (root), raw output in $layer" >&2
go test -run '^$' -bench '^BenchmarkCodecLayer$' -benchmem -count "$count" -benchtime "$benchtime" -timeout 1h . >"$layer"
if ! grep -q '^BenchmarkCodecLayer' "$layer"; then
	cat "$layer" >&2
	echo "bench-peers: no BenchmarkCodecLayer results" >&2
	exit 1
fi

echo
echo "== benchstat (one row per benchmark; ± is the 95% confidence interval over $count runs)"
(cd "$out" && benchstat peers.txt && benchstat layer.txt) | tee "$out/benchstat.txt"

echo
echo "== ratios and goals (medians)"
strict_flag=()
[ "$strict" = 1 ] && strict_flag=(-strict)
(cd benchmarks && go run ./cmd/ratios "${strict_flag[@]}" "$raw" "$layer") | tee "$out/ratios.txt"
