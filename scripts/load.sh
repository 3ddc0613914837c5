#!/usr/bin/env bash
# load.sh: throughput of a real HTTP server with and without sessions, on
# loopback, with the wrk load generator. The server (benchmarks/cmd/loadserver)
# is built, started on 127.0.0.1 and killed by this script. Cookies come from
# first requests with curl, as a browser gets them; wrk then measures
#   page        the demo server's counter page (examples/visits' home handler
#               and template) with the session of a logged-in demo user (its
#               login, then one visit): the session read and the visit counter
#               written back, a new Set-Cookie on every response;
#   page-200B   the same page with the benchmarks' ~200 B session instead;
#   page-plain  the same page without sessions, so without a cookie;
#   session     a hello-world body with the ~200 B session's work;
#   plain       the hello-world body alone, without a cookie;
#   untouched   the hello-world body through the middleware, never calling
#               Session, with the ~200 B cookie sent.
# It reports requests/sec of each (the median of the rounds) and the server's
# CPU time per request (user and system time of the server process over the
# route's run, from /proc/PID/stat, over the requests wrk completed), the
# ratios to the routes without sessions, and the errors wrk saw (socket
# errors, non-2xx/3xx). Goals: the demo page with sessions >= 0.85 of it
# without; on the hello-world pair, the session's share of the server's CPU
# per request ((session - plain) / session) <= 0.45 and the requests/sec >=
# 0.70 of the route without sessions; no errors. A ratio is the median of the
# ratios within each round, whose routes ran back to back: on a shared machine
# that is steadier than a ratio of medians taken minutes apart. CPU time per
# request moves far less with the machine's load than requests/sec do: the
# session is judged by it.
#
# Environment:
#   LOAD_DURATION     wrk -d for each route and round, default 3s
#   LOAD_ROUNDS       rounds over the routes, default 5
#   LOAD_THREADS      wrk -t, default 2
#   LOAD_CONNECTIONS  wrk -c, default 32
#   LOAD_OUT          directory for the wrk outputs, default artifacts/load
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

duration=${LOAD_DURATION:-3s}
rounds=${LOAD_ROUNDS:-5}
threads=${LOAD_THREADS:-2}
conns=${LOAD_CONNECTIONS:-32}
out=${LOAD_OUT:-artifacts/load}
mkdir -p "$out"

if ! command -v wrk >/dev/null 2>&1; then
	echo "wrk not found: apt-get install -y wrk" >&2
	sudo=()
	[ "$(id -u)" != 0 ] && sudo=(sudo)
	if ! "${sudo[@]}" apt-get install -y wrk; then
		"${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y wrk || {
			echo "load.sh: cannot install wrk (Debian package wrk); install it and run again" >&2
			exit 1
		}
	fi
fi
command -v curl >/dev/null 2>&1 || { echo "load.sh: curl is required" >&2; exit 1; }

tmp=$(mktemp -d)
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

(cd benchmarks && go build -o "$tmp/loadserver" ./cmd/loadserver)
"$tmp/loadserver" -addr 127.0.0.1:0 >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
base=""
for _ in $(seq 100); do
	base=$(sed -n 's/^listening on //p' "$tmp/server.out")
	[ -n "$base" ] && break
	kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/server.err" >&2; echo "load.sh: the server exited" >&2; exit 1; }
	sleep 0.1
done
[ -n "$base" ] || { echo "load.sh: the server did not start" >&2; exit 1; }
case "$base" in
http://127.0.0.1:*) ;;
*) echo "load.sh: the server is not on 127.0.0.1: $base" >&2; exit 1 ;;
esac

# cookies CURL-ARGS...: the name=value pairs of a response's Set-Cookie lines,
# as a browser would send them back.
cookies() {
	curl -sS -D - -o /dev/null "$@" | tr -d '\r' |
		sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | paste -sd ';' - | sed 's/;/; /g'
}
# The benchmarks' ~200 B session, from a first request to /session.
big=$(cookies "$base/session")
[ -n "$big" ] || { echo "load.sh: no Set-Cookie from $base/session" >&2; exit 1; }
body=$(curl -sS -H "Cookie: $big" "$base/session")
[ "$body" = "visits 2" ] || { echo "load.sh: the session cookie was not read back (got \"$body\")" >&2; exit 1; }
curl -sS -H "Cookie: $big" "$base/page" | grep -q '<span id="visits">2</span>' ||
	{ echo "load.sh: /page did not read the session cookie back" >&2; exit 1; }
# A logged-in demo user: the demo's login, then the page once (which shows
# and drops the login's flash message).
login=$(cookies -d user=ada "$base/login")
demo=$(cookies -H "Cookie: $login" "$base/page")
curl -sS -H "Cookie: $demo" "$base/page" | grep -q '<span id="visits">2</span>.*' ||
	{ echo "load.sh: /page did not read the demo session back" >&2; exit 1; }
curl -sS -H "Cookie: $demo" "$base/page" | grep -q 'id="user">ada<' ||
	{ echo "load.sh: the demo session has no user" >&2; exit 1; }
# The response header bytes the session adds to the page (Set-Cookie, Vary,
# Cache-Control), as a client receives them.
headers() { curl -sS -D - -o /dev/null "$@" | wc -c; }
extra=$(($(headers -H "Cookie: $demo" "$base/page") - $(headers "$base/page-plain")))
echo "server $base; demo session cookie of ${#demo} bytes, ~200 B session cookie of ${#big} bytes;" \
	"the demo session adds $extra bytes of response headers; wrk -t$threads -c$conns -d$duration per route, $rounds round(s)" >&2

# server_ticks: the server's user + system CPU time so far, in clock ticks
# (fields 14 and 15 of /proc/PID/stat; its name has no space).
clk_tck=$(getconf CLK_TCK)
server_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
run() { # run NAME PATH ROUND [COOKIE]
	local cookie=() t0
	[ -n "${4:-}" ] && cookie=(-H "Cookie: $4")
	t0=$(server_ticks)
	wrk -t"$threads" -c"$conns" -d"$duration" "${cookie[@]}" "$base$2" >"$out/wrk-$1.$3.txt" 2>&1 || {
		cat "$out/wrk-$1.$3.txt" >&2
		echo "load.sh: wrk failed on $2" >&2
		exit 1
	}
	echo $(($(server_ticks) - t0)) >"$out/cpu-$1.$3.txt"
}
routes="plain untouched session page-plain page page-200B"
rm -f "$out"/wrk-*.txt "$out"/cpu-*.txt
# Rounds interleave the routes, so that a slow spell of this shared machine
# does not fall on one route only; each route's figure is its median.
for round in $(seq "$rounds"); do
	run plain /plain "$round"
	run untouched /untouched "$round" "$big"
	run session /session "$round" "$big"
	run page-plain /page-plain "$round"
	run page /page "$round" "$demo"
	run page-200B /page "$round" "$big"
done
if [ -s "$tmp/server.err" ]; then
	echo "server log:" >&2
	head -20 "$tmp/server.err" >&2
fi

# rates ROUTE: wrk's Requests/sec of each round; rps ROUTE: their median;
# errors ROUTE: the socket errors and non-2xx/3xx responses of all rounds.
rates() {
	for f in "$out"/wrk-"$1".*.txt; do sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$f"; done
}
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.4f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
rps() { rates "$1" | median; }
# cpus ROUTE: the server's CPU microseconds per request of each round; cpu
# ROUTE: their median.
cpus() {
	for f in "$out"/wrk-"$1".*.txt; do
		r=${f#"$out"/wrk-"$1".}
		awk -v t="$(cat "$out/cpu-$1.$r")" -v hz="$clk_tck" '/ requests in / { printf "%.3f\n", t * 1e6 / hz / $1 }' "$f"
	done
}
cpu() { cpus "$1" | median; }
# share A B: the median over the rounds of (A's CPU per request - B's) / A's.
share() { paste <(cpus "$1") <(cpus "$2") | awk '{ print ($1 - $2) / $1 }' | median; }
# ratio A B: the median over the rounds of A's rate over B's in that round.
ratio() { paste <(rates "$1") <(rates "$2") | awk '{ print $1 / $2 }' | median; }
errors() {
	cat "$out"/wrk-"$1".*.txt | awk '/Socket errors:/ { gsub(",", ""); for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i }
	     /Non-2xx or 3xx responses:/ { n += $NF }
	     END { print n + 0 }'
}
for route in $routes; do
	[ -n "$(rps "$route")" ] || { echo "load.sh: no Requests/sec in wrk's output for /$route" >&2; exit 1; }
	echo
	echo "== wrk, /$route, round $rounds of $rounds (all rounds: $(rates "$route" | paste -sd ' ' -) requests/sec;" \
		"server CPU $(cpus "$route" | paste -sd ' ' -) µs/request)"
	cat "$out/wrk-$route.$rounds.txt"
done
echo
awk -v s="$(rps session)" -v p="$(rps plain)" -v ps="$(rps page)" -v pb="$(rps page-200B)" -v pp="$(rps page-plain)" \
	-v u="$(rps untouched)" -v rp="$(ratio page page-plain)" -v rb="$(ratio page-200B page-plain)" \
	-v rs="$(ratio session plain)" -v ru="$(ratio untouched plain)" \
	-v cs="$(cpu session)" -v cp="$(cpu plain)" -v cps="$(cpu page)" -v cpb="$(cpu page-200B)" -v cpp="$(cpu page-plain)" \
	-v cu="$(cpu untouched)" -v sh="$(share session plain)" -v shp="$(share page page-plain)" \
	-v e="$(for r in $routes; do errors "$r"; done | awk '{ n += $1 } END { print n + 0 }')" 'BEGIN {
	printf "route                                      requests/s   server CPU/request   ratio of rps   session share of CPU\n"
	printf "demo counter page, logged-in demo session  %10.0f   %14.1f µs   %12.3f   %20.3f\n", ps, cps, rp, shp
	printf "demo counter page, ~200 B session          %10.0f   %14.1f µs   %12.3f\n", pb, cpb, rb
	printf "demo counter page, without sessions        %10.0f   %14.1f µs\n", pp, cpp
	printf "hello-world body,  ~200 B session          %10.0f   %14.1f µs   %12.3f   %20.3f\n", s, cs, rs, sh
	printf "hello-world body,  without sessions        %10.0f   %14.1f µs\n", p, cp
	printf "hello-world body,  middleware, untouched   %10.0f   %14.1f µs   %12.3f\n", u, cu, ru
	printf "(rates and CPU: medians of the rounds; ratios and shares: medians of those within each round;\n"
	printf " session share of CPU = (CPU per request with the session - without) / with)   errors in all runs: %d\n", e
	printf "goal: the demo page with sessions >= 0.85 of it without ... %.3f %s\n", rp, (rp >= 0.85 ? "MET" : "MISSED")
	printf "goal: hello world, the ~200 B session share of server CPU per request <= 0.45 ... %.3f %s\n", sh, (sh <= 0.45 ? "MET" : "MISSED")
	printf "goal: hello world with the ~200 B session >= 0.70 of its requests/s without ... %.3f %s\n", rs, (rs >= 0.70 ? "MET" : "MISSED")
	printf "goal: no errors ... %s\n", (e == 0 ? "MET" : "MISSED")
}' | tee "$out/summary.txt"
