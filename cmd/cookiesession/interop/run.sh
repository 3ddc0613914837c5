#!/usr/bin/env bash
# run.sh proves that cookies sealed by the cookiesession CLI open with a stock
# JOSE library in another language (Node.js `jose`), given only the content
# keys printed by `cookiesession derive`. It builds the CLI, generates and
# rotates a key ring, seals JSON objects (encrypted, compressed, signed,
# split over several cookies, sealed with a non-primary key), opens each with
# open.mjs and checks that the values match. It also checks that a tampered
# cookie and the keys of another cookie name are refused.
#
#   bash cmd/cookiesession/interop/run.sh
#
# Needs go, node (20 or later) and npm. Exits non-zero on the first failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"

die() { echo "interop: FAIL: $*" >&2; exit 1; }
for tool in go node npm; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found in PATH"
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "interop: building the CLI"
(cd "$root" && go build -o "$work/cookiesession" ./cmd/cookiesession)
cli="$work/cookiesession"

if [ ! -d "$here/node_modules/jose" ]; then
	echo "interop: npm ci"
	(cd "$here" && npm ci --no-audit --no-fund --silent) || die "npm ci failed"
fi
echo "interop: node $(node --version), jose $(node -p 'require("'"$here"'/node_modules/jose/package.json").version')"

# same_values WANT_VALUES_FILE PAYLOAD_FILE: the payload's "v" equals the values.
same_values() {
	node -e '
		const fs = require("fs")
		const canon = (v) => Array.isArray(v) ? v.map(canon)
			: v !== null && typeof v === "object"
				? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]))
				: v
		const want = JSON.stringify(canon(JSON.parse(fs.readFileSync(process.argv[1], "utf8"))))
		const p = JSON.parse(fs.readFileSync(process.argv[2], "utf8"))
		const got = JSON.stringify(canon(p.v))
		if (want !== got) {
			console.error("values differ:\n  sealed: " + want + "\n  node:   " + got)
			process.exit(1)
		}
		for (const c of ["sid", "iat", "lat", "exp"]) {
			if (p[c] === undefined) { console.error("claim " + c + " missing"); process.exit(1) }
		}
	' "$1" "$2"
}

checks=0
# check LABEL VALUES_FILE FLAGS...: seal with the CLI, derive, open with node.
check() {
	local label="$1" values="$2"
	shift 2
	"$cli" seal --name sess --keys "$work/keys.json" "$@" <"$values" >"$work/cookie.txt" ||
		die "$label: seal failed"
	local mode=()
	case " $* " in *" --signed "*) mode=(--signed) ;; esac
	# open takes seal's flags (--compress is a no-op there), so the limits match.
	"$cli" derive --name sess --keys "$work/keys.json" "${mode[@]}" --out "$work/derived.json" ||
		die "$label: derive failed"
	node "$here/open.mjs" "$work/derived.json" "$work/cookie.txt" >"$work/payload.json" ||
		die "$label: node could not open the cookie"
	same_values "$values" "$work/payload.json" || die "$label: node decoded other values"
	"$cli" open --name sess --keys "$work/keys.json" "$@" <"$work/cookie.txt" >"$work/open.json" ||
		die "$label: the CLI could not open its own cookie"
	local sid
	sid="$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).sid' "$work/payload.json")"
	grep -q "\"id\": \"$sid\"" "$work/open.json" || die "$label: node and the CLI disagree on the session id"
	checks=$((checks + 1))
	echo "interop: ok   $label ($(wc -l <"$work/cookie.txt" | tr -d ' ') cookie(s), $(wc -c <"$work/cookie.txt" | tr -d ' ') bytes)"
}

# refuse LABEL: node must fail to open cookie.txt with derived.json.
refuse() {
	if node "$here/open.mjs" "$work/derived.json" "$work/cookie.txt" >/dev/null 2>"$work/err.txt"; then
		die "$1: node opened a cookie it must refuse"
	fi
	checks=$((checks + 1))
	echo "interop: ok   $1 refused ($(head -c 120 "$work/err.txt"))"
}

cat >"$work/small.json" <<'EOF'
{"user": "ada", "roles": ["admin", "dev"], "n": 42, "pi": 3.14159, "ok": true, "none": null,
 "nested": {"deep": {"deeper": [1, {"x": "y"}]}}, "text": "héllo ☃ <&> \"quoted\" \\ \u0001"}
EOF
node -e '
	const v = { user: "ada", notes: [] }
	for (let i = 0; i < 300; i++) v.notes.push({ i, text: "note " + i + " " + "x".repeat(i % 7) })
	require("fs").writeFileSync(process.argv[1], JSON.stringify(v))
' "$work/compressible.json"
node -e '
	const crypto = require("crypto")
	require("fs").writeFileSync(process.argv[1], JSON.stringify({ blob: crypto.randomBytes(7000).toString("base64"), user: "ada" }))
' "$work/large.json"

# A one-key ring seals a cookie; after rotation that key is no longer primary.
"$cli" keygen --kid interop-old --out "$work/keys.json"
check "encrypted, one-key ring" "$work/small.json"
cp "$work/cookie.txt" "$work/old-cookie.txt"
"$cli" rotate --keys "$work/keys.json" --kid interop-new --out "$work/keys.json"
"$cli" derive --name sess --keys "$work/keys.json" --out "$work/derived.json"
node "$here/open.mjs" "$work/derived.json" "$work/old-cookie.txt" >"$work/payload.json" ||
	die "rotated ring: node could not open a cookie of the old key"
same_values "$work/small.json" "$work/payload.json" || die "rotated ring: other values"
checks=$((checks + 1))
echo "interop: ok   encrypted, old key opens with the rotated ring's derived keys"

check "encrypted (dir + A256GCM)" "$work/small.json"
check "encrypted + compressed (zip DEF)" "$work/compressible.json" --compress
grep -q '"compressed": true' "$work/open.json" || die "compressed: the cookie was not compressed"
check "signed (HS256)" "$work/small.json" --signed
check "encrypted, split over several cookies" "$work/large.json" --header-budget 16384 --max-chunks 9
[ "$(wc -l <"$work/cookie.txt")" -ge 2 ] || die "large: expected several cookies"
check "signed, split over several cookies" "$work/large.json" --signed --header-budget 16384 --max-chunks 9

# Refusals: a flipped byte, and the keys of another cookie name.
check "encrypted (again, for the refusals)" "$work/small.json"
node -e '
	const fs = require("fs")
	const s = fs.readFileSync(process.argv[1], "utf8").trim()
	const i = s.lastIndexOf(".") - 3 // a ciphertext character
	const c = s[i] === "A" ? "B" : "A"
	fs.writeFileSync(process.argv[1], s.slice(0, i) + c + s.slice(i + 1) + "\n")
' "$work/cookie.txt"
refuse "tampered cookie"
check "encrypted (again)" "$work/small.json"
"$cli" derive --name other --keys "$work/keys.json" --out "$work/derived.json"
refuse "keys derived for another cookie name"

echo "interop: PASS ($checks checks)"
