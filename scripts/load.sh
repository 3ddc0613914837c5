#!/usr/bin/env bash
# load.sh: throughput of a real HTTP server with and without sessions, on
# loopback, with the wrk load generator. The server (benchmarks/cmd/loadserver)
# is built, started on 127.0.0.1 and killed by this script. A first request
# with curl obtains a session cookie; wrk then sends it on every request to
#   /session  opens the session, reads and writes the visit counter (a new
#             Set-Cookie on every response), and to
#   /plain    the same handler without sessions.
# It reports requests/sec of each, their ratio (goal: >= 0.85) and the errors
# wrk saw (socket errors, non-2xx/3xx responses; goal: none).
#
# Environment:
#   LOAD_DURATION     wrk -d for each route, default 10s
#   LOAD_THREADS      wrk -t, default 2
#   LOAD_CONNECTIONS  wrk -c, default 32
#   LOAD_OUT          directory for the wrk outputs, default artifacts/load
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

duration=${LOAD_DURATION:-10s}
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
echo "server $base, session cookie of ${#cookie} bytes; wrk -t$threads -c$conns -d$duration per route" >&2

run() { # run NAME PATH
	wrk -t"$threads" -c"$conns" -d"$duration" -H "Cookie: $cookie" "$base$2" >"$out/wrk-$1.txt" 2>&1 || {
		cat "$out/wrk-$1.txt" >&2
		echo "load.sh: wrk failed on $2" >&2
		exit 1
	}
}
run plain /plain
run session /session
if [ -s "$tmp/server.err" ]; then
	echo "server log:" >&2
	head -20 "$tmp/server.err" >&2
fi

# rps FILE, errors FILE: what wrk printed.
rps() { sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$1"; }
errors() {
	awk '/Socket errors:/ { gsub(",", ""); for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i }
	     /Non-2xx or 3xx responses:/ { n += $NF }
	     END { print n + 0 }' "$1"
}
plain_rps=$(rps "$out/wrk-plain.txt")
session_rps=$(rps "$out/wrk-session.txt")
plain_err=$(errors "$out/wrk-plain.txt")
session_err=$(errors "$out/wrk-session.txt")
[ -n "$plain_rps" ] && [ -n "$session_rps" ] || { echo "load.sh: no Requests/sec in wrk's output" >&2; exit 1; }

echo
echo "== wrk, /session (read + write the session)"
cat "$out/wrk-session.txt"
echo
echo "== wrk, /plain (same handler, no sessions)"
cat "$out/wrk-plain.txt"
echo
awk -v s="$session_rps" -v p="$plain_rps" -v se="$session_err" -v pe="$plain_err" 'BEGIN {
	r = s / p
	printf "requests/sec  with sessions %.0f   without %.0f   ratio %.3f\n", s, p, r
	printf "errors        with sessions %d   without %d\n", se, pe
	printf "goal: ratio >= 0.85 ... %s\n", (r >= 0.85 ? "MET" : "MISSED")
	printf "goal: no errors ....... %s\n", (se + pe == 0 ? "MET" : "MISSED")
}' | tee "$out/summary.txt"
