#!/usr/bin/env bash
# Runs the shell commands of README.md as written, in README order, in a fresh
# clone of this repository's HEAD in a temporary directory, and fails on any
# error. Commands are the lines of its code blocks (indented, ```sh) whose
# first word is a command (not the HKDF formula), and the `$ ` lines of its
# ```console transcript. They run offline:
#   - go install ./cmd/cookiesession (into a temporary GOBIN on PATH), and every
#     cookiesession and go run ./cmd/cookiesession command (keygen, rotate,
#     promote, drop, list, seal, open, size, derive), one after the other in
#     the clone, so the rotation walkthrough's keys.json carries over;
#   - the hello server (go run ./examples/hello, on localhost:8080) in the
#     background, and the transcript's curl commands against it: each answer's
#     status line, header names and body must be the transcript's (a cookie cut
#     short with "…" in the README is replaced by the one the previous answer
#     set).
# Not run, and listed: commands that need the network or run elsewhere in CI
# (go get, go install …@latest, go test, the demo server, the edge worker).
# Lines that start with another word (npm, npx, cp, cd, GOOS=…: the edge
# deployment, which scripts/edge.sh runs) are not run either. It fails when it
# extracts no command, or when one of the command line tool's commands above
# or the transcript is missing from the README.
#   bash scripts/readme-commands.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "FAIL: readme-commands: $*" >&2; exit 1; }
command -v go >/dev/null || die "go is not on PATH"
command -v git >/dev/null || die "git is not on PATH"
if ! command -v curl >/dev/null; then
	echo "readme-commands: curl not found; installing Debian's curl with apt-get" >&2
	command -v apt-get >/dev/null || die "curl is missing and apt-get is not available to install it"
	sudo=""; [[ "$(id -u)" == 0 ]] || sudo="sudo"
	$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq curl || die "apt-get install curl failed"
fi

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]]; then
		kill -- "-$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

git clone -q "$root" "$tmp/clone" || die "git clone failed"
cd "$tmp/clone"
echo "readme-commands: README.md of $(git rev-parse --short HEAD), in a fresh clone"
# A newcomer has no cookiesession installed: drop from PATH every directory
# that holds one, so that only the README's own go install provides it.
path="$tmp/bin"
IFS=: read -ra dirs <<<"$PATH"
for d in "${dirs[@]}"; do
	[[ -n "$d" && ! -e "$d/cookiesession" ]] && path+=":$d"
done
export GOBIN="$tmp/bin" PATH="$path"
hash -r

# Extract: "cmd<TAB>line<TAB>text" for commands, "out<TAB>line<TAB>text" for a
# transcript's output lines.
awk '
	/^```/ {
		if (fence == "") { fence = substr($0, 4); if (fence == "") fence = "text"; next }
		fence = ""; next
	}
	fence == "sh" || fence == "bash" || fence == "shell" {
		if ($0 !~ /^[ \t]*(#|$)/) printf "cmd\t%d\t%s\n", NR, $0
		next
	}
	fence == "console" {
		if (substr($0, 1, 2) == "$ ") printf "cmd\t%d\t%s\n", NR, substr($0, 3)
		else printf "out\t%d\t%s\n", NR, $0
		next
	}
	fence != "" { next }
	/^    / && (blank || code) { code = 1; line = $0; sub(/^ +/, "", line); printf "cmd\t%d\t%s\n", NR, line; blank = 0; next }
	{ code = 0; blank = ($0 ~ /^[ \t]*$/) }
' README.md >"$tmp/extracted"

ran=0 skipped=0 compared=0
ran_text=""
last_cookie=""

start_hello() {
	(exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && die "localhost:8080 is already in use: the README's hello program listens there"
	echo "--- line $1 (server, in the background): $2"
	setsid bash -c "$2" >"$tmp/hello.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 1 600); do
		curl -s -o /dev/null localhost:8080/ 2>/dev/null && return 0
		kill -0 "$server_pid" 2>/dev/null || { cat "$tmp/hello.log" >&2; die "line $1: the hello server exited"; }
		sleep 0.2
	done
	cat "$tmp/hello.log" >&2
	die "line $1: the hello server did not answer on localhost:8080 within 120 s"
}

# check_answer LINE: compares the answer in $tmp/answer with the transcript's
# output lines that follow README line LINE.
check_answer() {
	local want got
	want="$(awk -F'\t' -v l="$1" '$1 == "cmd" && $2 > l { exit } $1 == "out" && $2 > l { print $3 }' "$tmp/extracted")"
	[[ -n "$want" ]] || die "line $1: the transcript shows no answer"
	got="$(tr -d '\r' <"$tmp/answer")"
	local status_w status_g body_w body_g names_w names_g
	status_w="$(head -1 <<<"$want")" status_g="$(head -1 <<<"$got")"
	body_w="$(tail -1 <<<"$want")" body_g="$(tail -1 <<<"$got")"
	[[ "$status_w" == "$status_g" ]] || die "line $1: status \"$status_g\", the README shows \"$status_w\""
	[[ "$body_w" == "$body_g" ]] || die "line $1: body \"$body_g\", the README shows \"$body_w\""
	if ! grep -qx '\.\.\.' <<<"$want"; then
		names_w="$(sed -n '2,/^$/p' <<<"$want" | sed -n 's/^\([A-Za-z-]*\): .*/\1/p' | sort | tr '\n' ' ')"
		names_g="$(sed -n '2,/^$/p' <<<"$got" | sed -n 's/^\([A-Za-z-]*\): .*/\1/p' | sort | tr '\n' ' ')"
		[[ "$names_w" == "$names_g" ]] || die "line $1: header fields [$names_g], the README shows [$names_w]"
	fi
	last_cookie="$(sed -n 's/^Set-Cookie: session=\([^;]*\);.*/\1/p' <<<"$got" | head -1)"
	compared=$((compared + 1))
	echo "    $status_g, headers as shown, body \"$body_g\": ok"
}

while IFS=$'\t' read -r kind line text; do
	[[ "$kind" == cmd ]] || continue
	first="${text%% *}"
	case "$first" in
	cookiesession | go | curl | echo | COOKIESESSION_KEYS=*) ;;
	*) continue ;; # not a shell command: the HKDF formula
	esac
	case "$text" in
	"go get "* | "go install "*@*)
		echo "--- line $line (not run: needs the network): $text"; skipped=$((skipped + 1)); continue ;;
	"go test "*)
		echo "--- line $line (not run: CI's test step runs it): $text"; skipped=$((skipped + 1)); continue ;;
	"go run ./examples/visits"*)
		echo "--- line $line (not run: the demo server; scripts/browser.sh drives it): $text"; skipped=$((skipped + 1)); continue ;;
	*"go run ./examples/hello"*)
		start_hello "$line" "$text"; ran=$((ran + 1)); ran_text+="$text"$'\n'; continue ;;
	COOKIESESSION_KEYS=*)
		echo "--- line $line (not run: a server that its own script drives): $text"; skipped=$((skipped + 1)); continue ;;
	"curl "*)
		[[ -n "$server_pid" ]] || die "line $line: a curl command before the hello server is started"
		cmd="$text"
		if [[ "$cmd" == *…* ]]; then
			[[ -n "$last_cookie" ]] || die "line $line: a cookie cut short, and no previous answer set one"
			cmd="$(sed "s/session=[^' ]*…[^' ]*/session=$last_cookie/" <<<"$cmd")"
		fi
		echo "--- line $line: $text"
		bash -c "set -euo pipefail; $cmd" >"$tmp/answer" 2>"$tmp/err" || { cat "$tmp/err" >&2; die "line $line failed"; }
		check_answer "$line"
		ran=$((ran + 1)); ran_text+="$text"$'\n'; continue ;;
	esac
	echo "--- line $line: $text"
	if ! bash -c "set -euo pipefail; $text" >"$tmp/out" 2>&1; then
		cat "$tmp/out" >&2
		die "line $line failed: $text"
	fi
	sed 's/^/    /' "$tmp/out" | head -5
	ran=$((ran + 1)); ran_text+="$text"$'\n'
done <"$tmp/extracted"

[[ $ran -gt 0 ]] || die "extracted no command from README.md"
for sub in keygen rotate promote drop list seal open size derive; do
	grep -Eq "(^|[ (|])(cookiesession|go run \./cmd/cookiesession) $sub( |\)|$)" <<<"$ran_text" ||
		die "README.md runs no \"cookiesession $sub\" command"
done
[[ $compared -ge 3 ]] || die "README.md's hello transcript has $compared curl commands compared, want at least 3"
grep -q "1 segments, want 5" "$tmp/hello.log" || die "the hello server did not log why the tampered cookie was refused (the README says it does)"
echo "PASS: readme-commands: $ran commands of README.md ran as written ($compared answers compared with the transcript), $skipped not run"
