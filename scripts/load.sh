#!/usr/bin/env bash
# load.sh: throughput of a real HTTP server with and without sessions, on
# loopback, with the wrk load generator. The server (benchmarks/cmd/loadserver)
# is built, started on 127.0.0.1 and killed by this script. A first request
# with curl obtains a session cookie; wrk then sends it on every request to
#   /page        the demo server's counter page (examples/visits' home handler
#                and template): the session read and the visit counter
#                written back, a new Set-Cookie on every response;
#   /page-plain  the same page without sessions;
#   /session     a hello-world body with the same session work, and
#   /plain       the hello-world body alone, and
#   /untouched   the same through the middleware, never calling Session.
# It reports requests/sec of each, the ratio of each pair (goal, on the demo
# page: >= 0.85; the hello-world pair, nearly all session, is the harsher
# figure) and the errors wrk saw (socket errors, non-2xx/3xx; goal: none).
#
# Environment:
#   LOAD_DURATION     wrk -d for each route and round, default 5s
#   LOAD_ROUNDS       rounds over the four routes, default 3
#   LOAD_THREADS      wrk -t, default 2
#   LOAD_CONNECTIONS  wrk -c, default 32
#   LOAD_OUT          directory for the wrk outputs, default artifacts/load
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

duration=${LOAD_DURATION:-5s}
rounds=${LOAD_ROUNDS:-3}
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

# A session cookie from a first request: the name=value pairs of its
# Set-Cookie lines, as a browser would send them back.
cookie=$(curl -sS -D - -o /dev/null "$base/session" | tr -d '\r' |
	sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\).*/\1/p' | paste -sd ';' - | sed 's/;/; /g')
[ -n "$cookie" ] || { echo "load.sh: no Set-Cookie from $base/session" >&2; exit 1; }
body=$(curl -sS -H "Cookie: $cookie" "$base/session")
[ "$body" = "visits 2" ] || { echo "load.sh: the session cookie was not read back (got \"$body\")" >&2; exit 1; }
curl -sS -H "Cookie: $cookie" "$base/page" | grep -q '<span id="visits">2</span>' ||
	{ echo "load.sh: /page did not read the session cookie back" >&2; exit 1; }
# The response header bytes the session adds to the page (Set-Cookie, Vary,
# Cache-Control), as a client receives them.
headers() { curl -sS -D - -o /dev/null -H "Cookie: $cookie" "$base/$1" | wc -c; }
extra=$(($(headers page) - $(headers page-plain)))
echo "server $base, session cookie of ${#cookie} bytes, $extra bytes of response headers added by the session; wrk -t$threads -c$conns -d$duration per route, $rounds round(s)" >&2

run() { # run NAME PATH ROUND
	wrk -t"$threads" -c"$conns" -d"$duration" -H "Cookie: $cookie" "$base$2" >"$out/wrk-$1.$3.txt" 2>&1 || {
		cat "$out/wrk-$1.$3.txt" >&2
		echo "load.sh: wrk failed on $2" >&2
		exit 1
	}
}
routes="plain untouched session page-plain page"
rm -f "$out"/wrk-*.txt
# Rounds interleave the routes, so that a slow spell of this shared machine
# does not fall on one route only; each route's figure is its median.
for round in $(seq "$rounds"); do
	for route in $routes; do
		run "$route" "/$route" "$round"
	done
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
rps() {
	rates "$1" | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.0f\n", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
errors() {
	cat "$out"/wrk-"$1".*.txt | awk '/Socket errors:/ { gsub(",", ""); for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i }
	     /Non-2xx or 3xx responses:/ { n += $NF }
	     END { print n + 0 }'
}
for route in $routes; do
	[ -n "$(rps "$route")" ] || { echo "load.sh: no Requests/sec in wrk's output for /$route" >&2; exit 1; }
	echo
	echo "== wrk, /$route, round $rounds of $rounds (all rounds: $(rates "$route" | paste -sd ' ' -) requests/sec)"
	cat "$out/wrk-$route.$rounds.txt"
done
echo
awk -v s="$(rps session)" -v p="$(rps plain)" -v ps="$(rps page)" -v pp="$(rps page-plain)" -v u="$(rps untouched)" \
	-v e="$(($(errors session) + $(errors plain) + $(errors page) + $(errors page-plain) + $(errors untouched)))" 'BEGIN {
	r = ps / pp
	h = s / p
	printf "demo counter page  with sessions %.0f rps   without %.0f rps   ratio %.3f\n", ps, pp, r
	printf "hello-world body   with sessions %.0f rps   without %.0f rps   ratio %.3f\n", s, p, h
	printf "hello-world body   through the middleware, session untouched %.0f rps   ratio %.3f\n", u, u / p
	printf "(medians of the rounds)   errors in all runs: %d\n", e
	printf "goal: the demo page with sessions >= 0.85 of it without ... %s\n", (r >= 0.85 ? "MET" : "MISSED")
	printf "      (the hello-world pair, all session and no page, is reported, not judged)\n"
	printf "goal: no errors ... %s\n", (e == 0 ? "MET" : "MISSED")
}' | tee "$out/summary.txt"
