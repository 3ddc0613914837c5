package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	cs "github.com/cookiesession/cookiesession"
)

// result is what one in-process run of the tool produced.
type result struct {
	code           int
	stdout, stderr string
}

// cli runs the tool in-process with the given environment and stdin.
func cli(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr strings.Builder
	code := run(args, strings.NewReader(stdin), &stdout, &stderr, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return result{code, stdout.String(), stderr.String()}
}

// ok runs the tool and fails the test unless it exits 0.
func ok(t *testing.T, env map[string]string, stdin string, args ...string) string {
	t.Helper()
	r := cli(t, env, stdin, args...)
	if r.code != exitOK {
		t.Fatalf("cookiesession %s: exit %d, stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("cookiesession %s: exit 0 but stderr:\n%s", strings.Join(args, " "), r.stderr)
	}
	return r.stdout
}

// fails runs the tool and checks the exit status, that stdout is empty and
// that stderr starts with one line naming the command and containing want.
func fails(t *testing.T, code int, want string, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	r := cli(t, env, stdin, args...)
	if r.code != code {
		t.Fatalf("cookiesession %s: exit %d, want %d; stderr:\n%s", strings.Join(args, " "), r.code, code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("cookiesession %s: stdout not empty on failure:\n%s", strings.Join(args, " "), r.stdout)
	}
	first, _, _ := strings.Cut(r.stderr, "\n")
	if !strings.HasPrefix(first, "cookiesession") || !strings.Contains(first, want) {
		t.Errorf("cookiesession %s: stderr's first line %q does not contain %q", strings.Join(args, " "), first, want)
	}
	return r
}

// keygen writes a new one-key ring with the id kid in dir and returns its path.
func keygen(t *testing.T, dir, kid string) string {
	t.Helper()
	path := filepath.Join(dir, kid+".json")
	ok(t, nil, "", "keygen", "--kid", kid, "--out", path)
	return path
}

// opened is the JSON that open prints.
type opened struct {
	KeyID        string         `json:"kid"`
	Primary      bool           `json:"primary"`
	Mode         string         `json:"mode"`
	ID           string         `json:"id"`
	IssuedAt     string         `json:"issued_at"`
	LastActivity string         `json:"last_activity"`
	ExpiresAt    string         `json:"expires_at"`
	Subject      string         `json:"subject"`
	Values       map[string]any `json:"values"`
	Chunks       int            `json:"chunks"`
	Bytes        int            `json:"bytes"`
	Compressed   bool           `json:"compressed"`
}

func decodeOpened(t *testing.T, out string) opened {
	t.Helper()
	var o opened
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&o); err != nil {
		t.Fatalf("open printed %q: %v", out, err)
	}
	return o
}

func jsonValue(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

const (
	t0     = "2026-03-01T10:00:00Z"
	values = `{"user": "ada", "roles": ["admin", "dev"], "n": 42, "nested": {"ok": true, "none": null}, "text": "héllo <&> \"q\""}`
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name       string
		flags      []string
		mode       string
		compressed bool
	}{
		{"encrypted", nil, "encrypted", false},
		{"signed", []string{"--signed"}, "signed", false},
		{"compressed", []string{"--compress"}, "encrypted", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			keys := keygen(t, dir, "k1")
			vals := values
			if tc.compressed {
				vals = `{"text": "` + strings.Repeat("compress me ", 200) + `"}`
			}
			sealArgs := append([]string{"seal", "--name", "sess", "--keys", keys, "--now", t0}, tc.flags...)
			cookie := ok(t, nil, vals, sealArgs...)
			if !strings.HasPrefix(cookie, "sess=") || strings.Count(cookie, "\n") != 1 {
				t.Fatalf("seal printed %q, want one sess=VALUE line", cookie)
			}
			header := "theme=dark; " + strings.TrimSpace(cookie) + "; other=1"
			openArgs := append([]string{"open", "--name", "sess", "--keys", keys, "--now", "2026-03-01T11:00:00Z"}, tc.flags...)
			o := decodeOpened(t, ok(t, nil, "", append(openArgs, header)...))

			if o.KeyID != "k1" || !o.Primary || o.Mode != tc.mode || o.Chunks != 1 || o.Compressed != tc.compressed {
				t.Errorf("open = %+v", o)
			}
			if o.Bytes != len(strings.TrimSpace(cookie))-len("sess=") {
				t.Errorf("bytes = %d, want the sealed value's length %d", o.Bytes, len(strings.TrimSpace(cookie))-len("sess="))
			}
			if len(o.ID) != 22 || strings.Trim(o.ID, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
				t.Errorf("id = %q, want 22 base64url characters", o.ID)
			}
			if o.IssuedAt != t0 || o.LastActivity != t0 || o.ExpiresAt != "2026-03-02T10:00:00Z" {
				t.Errorf("times = %s, %s, %s", o.IssuedAt, o.LastActivity, o.ExpiresAt)
			}
			if want := jsonValue(t, vals); !reflect.DeepEqual(o.Values, want) {
				t.Errorf("values = %v, want %v", o.Values, want)
			}
			// seal's output works as open's stdin as it is.
			o2 := decodeOpened(t, ok(t, nil, cookie, append(openArgs, "--lifetime", "24h")...))
			if o2.ID != o.ID {
				t.Errorf("open from stdin: id %q, want %q", o2.ID, o.ID)
			}
		})
	}
}

func TestSessionIDsDiffer(t *testing.T) {
	keys := keygen(t, t.TempDir(), "k1")
	seen := map[string]bool{}
	for range 5 {
		c := ok(t, nil, `{}`, "seal", "--name", "s", "--keys", keys)
		o := decodeOpened(t, ok(t, nil, c, "open", "--name", "s", "--keys", keys))
		if seen[o.ID] {
			t.Fatalf("session id %q repeated", o.ID)
		}
		seen[o.ID] = true
	}
}

func TestSealJSONAndID(t *testing.T) {
	keys := keygen(t, t.TempDir(), "k1")
	out := ok(t, nil, `{"a":1}`, "seal", "--name", "s", "--keys", keys, "--now", t0, "--id", "fixed-ID_1", "--lifetime", "2d", "--json")
	var s struct {
		ID          string `json:"id"`
		KeyID       string `json:"kid"`
		IssuedAt    string `json:"issued_at"`
		ExpiresAt   string `json:"expires_at"`
		Cookies     []struct{ Name, Value string }
		HeaderBytes int `json:"header_bytes"`
	}
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.ID != "fixed-ID_1" || s.KeyID != "k1" || s.IssuedAt != t0 || s.ExpiresAt != "2026-03-03T10:00:00Z" ||
		len(s.Cookies) != 1 || s.Cookies[0].Name != "s" || s.HeaderBytes != len("s=")+len(s.Cookies[0].Value) {
		t.Fatalf("seal --json = %s", out)
	}
	o := decodeOpened(t, ok(t, nil, "", "open", "--name", "s", "--keys", keys, "--now", t0, "--lifetime", "2d", "s="+s.Cookies[0].Value))
	if o.ID != "fixed-ID_1" {
		t.Errorf("id = %q", o.ID)
	}
}

func TestTamperedCookie(t *testing.T) {
	keys := keygen(t, t.TempDir(), "k1")
	for _, mode := range [][]string{nil, {"--signed"}} {
		cookie := strings.TrimSpace(ok(t, nil, values, append([]string{"seal", "--name", "sess", "--keys", keys}, mode...)...))
		i := len(cookie) - 30 // inside the ciphertext or the signature
		flipped := "A"
		if cookie[i] == 'A' {
			flipped = "B"
		}
		tampered := cookie[:i] + flipped + cookie[i+1:]
		r := fails(t, exitFail, "invalid session cookie", nil, "", append([]string{"open", "--name", "sess", "--keys", keys, tampered}, mode...)...)
		if strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("stderr is not one line: %q", r.stderr)
		}
		// Another cookie name, purpose or mode does not open it either.
		other := "other" + strings.TrimPrefix(cookie, "sess")
		fails(t, exitFail, "invalid session cookie", nil, "", append([]string{"open", "--name", "other", "--keys", keys, other}, mode...)...)
		fails(t, exitFail, "invalid session cookie", nil, "", append([]string{"open", "--name", "sess", "--purpose", "app2", "--keys", keys, cookie}, mode...)...)
	}
	cookie := strings.TrimSpace(ok(t, nil, values, "seal", "--name", "sess", "--keys", keys))
	fails(t, exitFail, "invalid session cookie", nil, "", "open", "--name", "sess", "--signed", "--keys", keys, cookie)
	fails(t, exitFail, "no cookie named sess", nil, "", "open", "--name", "sess", "--keys", keys, "a=1; sessx=2")
}

func TestRotate(t *testing.T) {
	dir := t.TempDir()
	keys := keygen(t, dir, "a")
	old := ok(t, nil, values, "seal", "--name", "sess", "--keys", keys)

	// {b, a}: old cookies open with a, no longer primary; new ones seal with b.
	ok(t, nil, "", "rotate", "--keys", keys, "--kid", "b", "--out", keys)
	if got := ok(t, nil, "", "list", "--keys", keys); !strings.Contains(got, `"primary": "b"`) || !strings.Contains(got, `"a"`) || strings.Contains(got, `"k"`) {
		t.Fatalf("list after rotate = %s", got)
	}
	o := decodeOpened(t, ok(t, nil, old, "open", "--name", "sess", "--keys", keys))
	if o.KeyID != "a" || o.Primary {
		t.Errorf("old cookie after rotate: kid %q primary %v, want a, false", o.KeyID, o.Primary)
	}
	fresh := ok(t, nil, values, "seal", "--name", "sess", "--keys", keys)
	if o := decodeOpened(t, ok(t, nil, fresh, "open", "--name", "sess", "--keys", keys)); o.KeyID != "b" || !o.Primary {
		t.Errorf("new cookie: kid %q primary %v, want b, true", o.KeyID, o.Primary)
	}

	// {c, b} with --keep 1: a is gone.
	keep1 := filepath.Join(dir, "keep1.json")
	ok(t, nil, "", "rotate", "--keys", keys, "--kid", "c", "--keep", "1", "--out", keep1)
	if got := ok(t, nil, "", "list", "--keys", keep1); strings.Join(strings.Fields(got), "") != `{"primary":"c","ids":["c","b"]}` {
		t.Errorf("list after --keep 1 = %s", got)
	}
	fails(t, exitFail, `unknown key id "a"`, nil, old, "open", "--name", "sess", "--keys", keep1)

	// {d} with --keep 0: every earlier cookie stops opening.
	keep0 := filepath.Join(dir, "keep0.json")
	ok(t, nil, "", "rotate", "--keys", keys, "--kid", "d", "--keep", "0", "--out", keep0)
	fails(t, exitFail, "unknown key id", nil, old, "open", "--name", "sess", "--keys", keep0)
	fails(t, exitFail, "unknown key id", nil, fresh, "open", "--name", "sess", "--keys", keep0)

	// drop retires a key explicitly.
	dropped := ok(t, nil, "", "drop", "--keys", keys, "a")
	ring := filepath.Join(dir, "dropped.json")
	if err := os.WriteFile(ring, []byte(dropped), 0o600); err != nil {
		t.Fatal(err)
	}
	fails(t, exitFail, `unknown key id "a"`, nil, old, "open", "--name", "sess", "--keys", ring)
	decodeOpened(t, ok(t, nil, fresh, "open", "--name", "sess", "--keys", ring))
}

// TestStagedRotation walks the rotation without downtime: stage, promote,
// drop.
func TestStagedRotation(t *testing.T) {
	dir := t.TempDir()
	keys := keygen(t, dir, "a")
	ids := func() string {
		return strings.Join(strings.Fields(ok(t, nil, "", "list", "--keys", keys)), "")
	}
	old := ok(t, nil, values, "seal", "--name", "sess", "--keys", keys)

	// Stage b: it opens cookies, a still seals.
	ok(t, nil, "", "rotate", "--keys", keys, "--kid", "b", "--stage", "--out", keys)
	if got := ids(); got != `{"primary":"a","ids":["a","b"]}` {
		t.Fatalf("after rotate --stage: %s", got)
	}
	staged := ok(t, nil, values, "seal", "--name", "sess", "--keys", keys)
	if o := decodeOpened(t, ok(t, nil, staged, "open", "--name", "sess", "--keys", keys)); o.KeyID != "a" || !o.Primary {
		t.Errorf("sealed with a staged ring: kid %q primary %v", o.KeyID, o.Primary)
	}

	// Promote b: both open, b seals; promoting it again changes nothing.
	for range 2 {
		ok(t, nil, "", "promote", "--keys", keys, "b", "--out", keys)
		if got := ids(); got != `{"primary":"b","ids":["b","a"]}` {
			t.Fatalf("after promote: %s", got)
		}
	}
	if o := decodeOpened(t, ok(t, nil, old, "open", "--name", "sess", "--keys", keys)); o.KeyID != "a" || o.Primary {
		t.Errorf("old cookie after promote: kid %q primary %v", o.KeyID, o.Primary)
	}
	fresh := ok(t, nil, values, "seal", "--name", "sess", "--keys", keys)
	if o := decodeOpened(t, ok(t, nil, fresh, "open", "--name", "sess", "--keys", keys)); o.KeyID != "b" || !o.Primary {
		t.Errorf("new cookie after promote: kid %q primary %v", o.KeyID, o.Primary)
	}

	// Next period: stage c and drop a in one step.
	ok(t, nil, "", "rotate", "--keys", keys, "--kid", "c", "--stage", "--keep", "1", "--out", keys)
	if got := ids(); got != `{"primary":"b","ids":["b","c"]}` {
		t.Fatalf("after rotate --stage --keep 1: %s", got)
	}
	fails(t, exitFail, `unknown key id "a"`, nil, old, "open", "--name", "sess", "--keys", keys)
	decodeOpened(t, ok(t, nil, fresh, "open", "--name", "sess", "--keys", keys))
}

func TestRotateGeneratedKid(t *testing.T) {
	dir := t.TempDir()
	keys := keygen(t, dir, "a")
	out := ok(t, nil, "", "rotate", "--keys", keys)
	var set struct {
		Keys []struct{ Kty, Kid, K string }
	}
	if err := json.Unmarshal([]byte(out), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 || set.Keys[1].Kid != "a" || set.Keys[0].Kid == "" || set.Keys[0].Kty != "oct" || len(set.Keys[0].K) != 43 {
		t.Fatalf("rotate printed %s", out)
	}
}

func TestOutFileIsPrivate(t *testing.T) {
	dir := t.TempDir()
	keys := keygen(t, dir, "a")
	fi, err := os.Stat(keys)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("keygen --out wrote mode %v, want no access for group and others", perm)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestExpired(t *testing.T) {
	keys := keygen(t, t.TempDir(), "k1")
	open := func(cookie string, extra ...string) result {
		return cli(t, nil, cookie, append([]string{"open", "--name", "sess", "--keys", keys}, extra...)...)
	}
	cookie := ok(t, nil, values, "seal", "--name", "sess", "--keys", keys, "--now", t0, "--lifetime", "1h")

	if r := open(cookie, "--lifetime", "1h", "--now", "2026-03-01T10:59:59Z"); r.code != exitOK {
		t.Fatalf("a second before expiry: exit %d, %s", r.code, r.stderr)
	}
	fails(t, exitFail, "session expired", nil, cookie, "open", "--name", "sess", "--keys", keys, "--lifetime", "1h", "--now", "2026-03-01T11:00:00Z")
	// A shorter lifetime at open applies to cookies already out.
	fails(t, exitFail, "session expired", nil, cookie, "open", "--name", "sess", "--keys", keys, "--lifetime", "30m", "--now", "2026-03-01T10:30:00Z")
	// Issued in the future, beyond the clock skew.
	fails(t, exitFail, "in the future", nil, cookie, "open", "--name", "sess", "--keys", keys, "--now", "2026-03-01T09:59:00Z")
	if r := open(cookie, "--now", "2026-03-01T09:59:45Z"); r.code != exitOK {
		t.Errorf("within the default 30s clock skew: exit %d, %s", r.code, r.stderr)
	}
	fails(t, exitFail, "in the future", nil, cookie, "open", "--name", "sess", "--keys", keys, "--now", "2026-03-01T09:59:45Z", "--clock-skew", "0")
	// Not before.
	fails(t, exitFail, "not-before", nil, cookie, "open", "--name", "sess", "--keys", keys, "--now", t0, "--not-before", "2026-03-01T10:00:01Z")
	// Idle timeout.
	idle := ok(t, nil, values, "seal", "--name", "sess", "--keys", keys, "--now", t0, "--idle-timeout", "10m")
	fails(t, exitFail, "session expired", nil, idle, "open", "--name", "sess", "--keys", keys, "--idle-timeout", "10m", "--now", "2026-03-01T10:10:00Z")
}

func largeValues(n int) string {
	var b strings.Builder
	b.WriteString(`{"user":"ada","blob":"`)
	x := uint32(1)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for range n { // incompressible enough: a xorshift stream
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte(alphabet[x%64])
	}
	b.WriteString(`"}`)
	return b.String()
}

func TestChunks(t *testing.T) {
	keys := keygen(t, t.TempDir(), "k1")
	big := largeValues(9000)
	fails(t, exitFail, "session too large", nil, big, "seal", "--name", "sess", "--keys", keys)

	flags := []string{"--name", "sess", "--keys", keys, "--header-budget", "16384"}
	out := ok(t, nil, big, append([]string{"seal"}, flags...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 {
		t.Fatalf("seal printed %d cookies, want several", len(lines))
	}
	for i, l := range lines {
		name, _, _ := strings.Cut(l, "=")
		want := "sess"
		if i > 0 {
			want = "sess." + string(rune('0'+i))
		}
		if name != want {
			t.Errorf("cookie %d is named %q, want %q", i, name, want)
		}
		if len(l) > 4096 {
			t.Errorf("cookie %d is %d bytes", i, len(l))
		}
	}
	header := "a=1; " + strings.Join(lines, "; ") + "; z=2"
	o := decodeOpened(t, ok(t, nil, "", append(append([]string{"open"}, flags...), header)...))
	if o.Chunks != len(lines) {
		t.Errorf("chunks = %d, want %d", o.Chunks, len(lines))
	}
	if !reflect.DeepEqual(o.Values, jsonValue(t, big)) {
		t.Error("values differ after the round trip")
	}
	// The default budget refuses the header before decoding it.
	fails(t, exitFail, "over budget", nil, "", "open", "--name", "sess", "--keys", keys, header)
	// A missing chunk.
	missing := strings.Join(append(lines[:1:1], lines[2:]...), "; ")
	fails(t, exitFail, "missing chunk sess.1", nil, "", append(append([]string{"open"}, flags...), missing)...)
}

func TestSize(t *testing.T) {
	keys := keygen(t, t.TempDir(), "k1")
	type report struct {
		ValuesBytes  int    `json:"values_bytes"`
		SealedBytes  *int   `json:"sealed_bytes"`
		Compressed   bool   `json:"compressed"`
		Cookies      *int   `json:"cookies"`
		HeaderBytes  *int   `json:"header_bytes"`
		HeaderBudget int    `json:"header_budget"`
		MaxChunks    int    `json:"max_chunks"`
		Fits         bool   `json:"fits"`
		Reason       string `json:"reason"`
	}
	size := func(stdin string, flags ...string) report {
		t.Helper()
		out := ok(t, nil, stdin, append([]string{"size", "--name", "sess", "--keys", keys}, flags...)...)
		var r report
		dec := json.NewDecoder(strings.NewReader(out))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("size printed %s: %v", out, err)
		}
		return r
	}
	small := size(`{"a": 1}`)
	cookie := strings.TrimSpace(ok(t, nil, `{"a": 1}`, "seal", "--name", "sess", "--keys", keys))
	if !small.Fits || small.ValuesBytes != len(`{"a":1}`) || *small.Cookies != 1 || *small.HeaderBytes != len(cookie) ||
		*small.SealedBytes != len(cookie)-len("sess=") || small.HeaderBudget != 8192 || small.MaxChunks != 4 || small.Reason != "" {
		t.Errorf("size of a small session = %+v", small)
	}

	big := largeValues(9000)
	over := size(big)
	if over.Fits || over.Reason == "" || over.Cookies == nil || *over.Cookies < 3 || over.HeaderBytes == nil || *over.HeaderBytes <= 8192 {
		t.Errorf("size over the default budget = %+v", over)
	}
	if fits := size(big, "--header-budget", "16384"); !fits.Fits || *fits.HeaderBytes != *over.HeaderBytes {
		t.Errorf("size with --header-budget 16384 = %+v", fits)
	}
	if one := size(big, "--max-chunks", "1", "--header-budget", "16384"); one.Fits || !strings.Contains(one.Reason, "chunks") {
		t.Errorf("size with --max-chunks 1 = %+v", one)
	}
	huge := size(largeValues(300 << 10))
	if huge.Fits || huge.SealedBytes != nil || huge.Cookies != nil || !strings.Contains(huge.Reason, "plaintext") {
		t.Errorf("size over the plaintext cap = %+v", huge)
	}
	compressible := `{"text": "` + strings.Repeat("abc ", 3000) + `"}`
	if c := size(compressible, "--compress"); !c.Fits || !c.Compressed || *c.SealedBytes > 1000 {
		t.Errorf("size --compress = %+v", c)
	}
	if c := size(compressible); c.Compressed {
		t.Errorf("size without --compress reports compression: %+v", c)
	}
}

func TestKeysFromEnvironment(t *testing.T) {
	ring := ok(t, nil, "", "keygen", "--kid", "env1")
	env := map[string]string{envKeys: ring}
	cookie := ok(t, env, values, "seal", "--name", "sess")
	o := decodeOpened(t, ok(t, env, cookie, "open", "--name", "sess"))
	if o.KeyID != "env1" {
		t.Errorf("kid = %q", o.KeyID)
	}
	rotated := ok(t, env, "", "rotate", "--kid", "env2")
	if got := ok(t, nil, rotated, "list", "--keys", "-"); strings.Join(strings.Fields(got), "") != `{"primary":"env2","ids":["env2","env1"]}` {
		t.Errorf("list = %s", got)
	}
	// --keys wins over the environment.
	other := keygen(t, t.TempDir(), "file1")
	fails(t, exitFail, `unknown key id "env1"`, env, cookie, "open", "--name", "sess", "--keys", other)
}

func TestKeysFromStdin(t *testing.T) {
	ring := ok(t, nil, "", "keygen", "--kid", "a")
	out := ok(t, nil, ring, "rotate", "--keys", "-", "--kid", "b")
	if got := ok(t, nil, out, "list", "--keys", "-"); strings.Join(strings.Fields(got), "") != `{"primary":"b","ids":["b","a"]}` {
		t.Errorf("rotate --keys - then list = %s", got)
	}
	// open takes the header as an argument, so stdin is free for the keys.
	dir := t.TempDir()
	path := filepath.Join(dir, "ring.json")
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	cookie := strings.TrimSpace(ok(t, nil, values, "seal", "--name", "sess", "--keys", path))
	decodeOpened(t, ok(t, nil, out, "open", "--name", "sess", "--keys", "-", cookie))
	// seal cannot read both from stdin.
	fails(t, exitUsage, "both need stdin", nil, out, "seal", "--name", "sess", "--keys", "-")
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	keys := keygen(t, dir, "k1")
	notJSON := filepath.Join(dir, "not.json")
	shortKey := filepath.Join(dir, "short.json")
	noKeys := filepath.Join(dir, "nokeys.json")
	emptyFile := filepath.Join(dir, "empty.json")
	for path, content := range map[string]string{
		emptyFile: "",
		notJSON:   "hello",
		shortKey:  `{"keys":[{"kty":"oct","kid":"s","k":"c2hvcnQ"}]}`,
		noKeys:    `{"keys":[]}`,
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cookie := strings.TrimSpace(ok(t, nil, `{}`, "seal", "--name", "sess", "--keys", keys))
	seal := []string{"seal", "--name", "sess", "--keys", keys}
	for _, tc := range []struct {
		name  string
		want  string
		env   map[string]string
		stdin string
		args  []string
	}{
		{"unknown command", `unknown command "frobnicate"`, nil, "", []string{"frobnicate"}},
		{"missing --name", "missing --name", nil, "{}", []string{"seal", "--keys", keys}},
		{"missing --name open", "missing --name", nil, "", []string{"open", "--keys", keys, cookie}},
		{"missing --name size", "missing --name", nil, "{}", []string{"size", "--keys", keys}},
		{"missing --name derive", "missing --name", nil, "", []string{"derive", "--keys", keys}},
		{"unknown flag", "unknown flag --bogus", nil, "{}", append(seal, "--bogus")},
		{"unknown flag rotate", "unknown flag --name", nil, "", []string{"rotate", "--keys", keys, "--name", "x"}},
		{"flag without value", "flag --name needs a value", nil, "{}", []string{"seal", "--keys", keys, "--name"}},
		{"bad --lifetime", `invalid value "banana" for --lifetime`, nil, "{}", append(seal, "--lifetime", "banana")},
		{"zero --lifetime", "bad --lifetime 0s", nil, "{}", append(seal, "--lifetime", "0")},
		{"long --lifetime", "bad --lifetime 401d: must be between 1 second and 400 days", nil, "{}", append(seal, "--lifetime", "401d")},
		{"bad --idle-timeout", "bad --idle-timeout", nil, "{}", append(seal, "--idle-timeout", "48h")},
		{"bad --header-budget", "bad --header-budget 100", nil, "{}", append(seal, "--header-budget", "100")},
		{"bad --max-chunks", "bad --max-chunks 10", nil, "{}", append(seal, "--max-chunks", "10")},
		{"bad --attr-len", "bad --attr-len", nil, "{}", append(seal, "--attr-len", "-1")},
		{"bad --id", "bad --id", nil, "{}", append(seal, "--id", "not base64url!")},
		{"bad --now", `invalid value "yesterday" for --now`, nil, "", []string{"open", "--name", "sess", "--keys", keys, "--now", "yesterday", cookie}},
		{"bad --clock-skew", "bad --clock-skew 1h: must be between 0 and 10 minutes", nil, "", []string{"open", "--name", "sess", "--keys", keys, "--clock-skew", "1h", cookie}},
		{"compress signed", "--compress needs encrypted mode", nil, "{}", append(seal, "--compress", "--signed")},
		{"bad cookie name", "cookie name", nil, "{}", []string{"seal", "--name", "a;b", "--keys", keys}},
		{"bad JSON", "bad JSON at byte", nil, `{"a": }`, seal},
		{"JSON not an object", "want a JSON object, not an array", nil, `[1,2]`, seal},
		{"JSON string", "want a JSON object, not a string", nil, `"x"`, seal},
		{"trailing data", "bad JSON", nil, `{} {}`, seal},
		{"repeated name", `name "a" appears twice`, nil, `{"a":1,"a":2}`, seal},
		{"no values", "no values on stdin", nil, "  \n", seal},
		{"too deep", "nested deeper than 64", nil, `{"d":` + strings.Repeat("[", 65) + strings.Repeat("]", 65) + `}`, seal},
		{"bad JSON size", "bad JSON", nil, `{`, []string{"size", "--name", "sess", "--keys", keys}},
		{"missing keys", "no keys: give --keys FILE or set COOKIESESSION_KEYS", nil, "{}", []string{"seal", "--name", "sess"}},
		{"missing keys rotate", "no keys", nil, "", []string{"rotate"}},
		{"empty environment", "no keys: COOKIESESSION_KEYS is empty", map[string]string{envKeys: ""}, "{}", []string{"seal", "--name", "sess"}},
		{"blank environment", "no keys: COOKIESESSION_KEYS is empty", map[string]string{envKeys: " \n"}, "", []string{"rotate"}},
		{"keygen over a ring", "exists: a new ring in its place would log everybody out", nil, "", []string{"keygen", "--out", keys}},
		{"keygen --force alone", "--force goes with --out FILE", nil, "", []string{"keygen", "--force"}},
		{"missing keys file", "cannot read the key ring", nil, "{}", []string{"seal", "--name", "sess", "--keys", filepath.Join(dir, "nope.json")}},
		{"keys file not JSON", "not a JWK Set", nil, "{}", []string{"seal", "--name", "sess", "--keys", notJSON}},
		{"short key", "need at least 32", nil, "{}", []string{"seal", "--name", "sess", "--keys", shortKey}},
		{"empty key ring", "no keys", nil, "", []string{"rotate", "--keys", noKeys}},
		{"empty keys file", "the key ring is empty (a shell redirection", nil, "", []string{"rotate", "--keys", emptyFile}},
		{"empty keys on stdin", "--keys -: the key ring is empty", nil, "", []string{"rotate", "--keys", "-"}},
		{"bad environment", "$COOKIESESSION_KEYS: bad configuration", map[string]string{envKeys: "{}"}, "{}", []string{"seal", "--name", "sess"}},
		{"keys on stdin not JSON", "--keys -: bad configuration", nil, "nope", []string{"rotate", "--keys", "-"}},
		{"no Cookie header", "no Cookie header", nil, " \n", []string{"open", "--name", "sess", "--keys", keys}},
		{"bad --keep", "bad --keep -2", nil, "", []string{"rotate", "--keys", keys, "--keep", "-2"}},
		{"bad --keep value", `invalid value "all" for --keep`, nil, "", []string{"rotate", "--keys", keys, "--keep", "all"}},
		{"duplicate kid", "duplicate key id", nil, "", []string{"rotate", "--keys", keys, "--kid", "k1"}},
		{"bad --kid", "bad --kid", nil, "", []string{"keygen", "--kid", "no spaces"}},
		{"keygen argument", `unexpected argument "extra"`, nil, "", []string{"keygen", "extra"}},
		{"drop nothing", "missing the id of the key to drop", nil, "", []string{"drop", "--keys", keys}},
		{"promote nothing", "missing the id of the key to promote", nil, "", []string{"promote", "--keys", keys}},
		{"promote unknown", `the key ring has no key "zz" (it has k1)`, nil, "", []string{"promote", "--keys", keys, "zz"}},
		{"promote two", "too many arguments", nil, "", []string{"promote", "--keys", keys, "k1", "k2"}},
		{"drop unknown", `cannot drop "zz"`, nil, "", []string{"drop", "--keys", keys, "zz"}},
		{"drop last", `cannot drop "k1"`, nil, "", []string{"drop", "--keys", keys, "k1"}},
		{"help unknown", `unknown command "nope"`, nil, "", []string{"help", "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := fails(t, exitUsage, tc.want, tc.env, tc.stdin, tc.args...)
			if strings.Contains(r.stderr, `"k":`) {
				t.Errorf("stderr shows key material: %s", r.stderr)
			}
		})
	}
}

func TestUsageText(t *testing.T) {
	r := cli(t, nil, "")
	if r.code != exitUsage || !strings.Contains(r.stderr, "usage:") || r.stdout != "" {
		t.Errorf("no arguments: exit %d, stderr %q", r.code, r.stderr)
	}
	r = cli(t, nil, "{}", "seal", "--keys", "x")
	if !strings.Contains(r.stderr, "usage: cookiesession seal --name NAME") {
		t.Errorf("usage error without a usage reminder: %q", r.stderr)
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		out := ok(t, nil, "", args...)
		for _, c := range commands {
			if !strings.Contains(out, "cookiesession "+c.synopsis) {
				t.Errorf("%v: no synopsis of %s", args, c.name)
			}
		}
	}
	for _, c := range commands {
		for _, args := range [][]string{{"help", c.name}, {c.name, "-h"}, {c.name, "--help"}} {
			out := ok(t, nil, "", args...)
			if !strings.HasPrefix(out, "usage: cookiesession "+c.synopsis+"\n") {
				t.Errorf("%v printed %q", args, out)
			}
		}
	}
	if out := ok(t, nil, "", "help", "seal"); !strings.Contains(out, "--header-budget BYTES") || !strings.Contains(out, "(default 24h)") {
		t.Errorf("help seal lacks its flags:\n%s", out)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "90m": 90 * time.Minute, "24h": 24 * time.Hour,
		"14d": 14 * 24 * time.Hour, "1d12h": 36 * time.Hour, "0": 0,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "1d-1h", "1.5d", "banana", "3 days"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) succeeded", in)
		}
	}
	for d, want := range map[time.Duration]string{
		24 * time.Hour: "24h", 400 * 24 * time.Hour: "400d", 90 * time.Minute: "1h30m", 30 * time.Second: "30s", 10 * time.Minute: "10m",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestOpenDeviceBound opens the device-bound wire-format vector: open shows
// the sealed device key as its binding id, algorithm and JWK.
func TestOpenDeviceBound(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "vectors", "signed-device-bound.txt"))
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(line, "#") {
			fields[k] = v
		}
	}
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(keys, []byte(fields["keys"]), 0o600); err != nil {
		t.Fatal(err)
	}
	out := ok(t, nil, fields["cookie"], "open", "--name", "sess", "--keys", keys, "--signed", "--now", fields["now"])
	var got struct {
		DeviceKey struct {
			BindingID string            `json:"binding_id"`
			Alg       string            `json:"alg"`
			JWK       map[string]string `json:"jwk"`
		} `json:"device_key"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	d := got.DeviceKey
	want := strings.Split(fields["device-key"], ".")
	if d.BindingID != want[0] || d.Alg != "ES256" || d.JWK["kty"] != "EC" || d.JWK["crv"] != "P-256" ||
		d.JWK["x"] != want[2] || d.JWK["y"] != want[3] {
		t.Fatalf("device_key %+v, want the vector's %s", d, fields["device-key"])
	}
}

// TestRememberLifetime: open enforces --remember-lifetime on a session that
// chose remember-me, and --lifetime on the others.
func TestRememberLifetime(t *testing.T) {
	keys := keygen(t, t.TempDir(), "k1")
	data, err := os.ReadFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := cs.ParseKeyRing(data)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := cs.NewCodec(cs.CodecConfig{Name: "sess", Keys: ring, Lifetime: time.Hour, RememberLifetime: 720 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	iat, _ := time.Parse(time.RFC3339, t0)
	sealed, err := codec.Seal(&cs.Payload{ID: "rm", IssuedAt: iat, LastActivity: iat,
		Expiry: codec.ExpiryOf(iat, iat, cs.RememberYes), RememberMe: cs.RememberYes})
	if err != nil {
		t.Fatal(err)
	}
	cookie := "sess=" + sealed
	day2 := "2026-03-03T10:00:00Z"
	fails(t, exitFail, "past the absolute lifetime", nil, cookie, "open", "--name", "sess", "--keys", keys, "--lifetime", "1h", "--now", day2)
	ok(t, nil, cookie, "open", "--name", "sess", "--keys", keys, "--lifetime", "1h", "--remember-lifetime", "30d", "--now", day2)
	fails(t, exitFail, "session expired", nil, cookie, "open", "--name", "sess", "--keys", keys, "--lifetime", "1h", "--remember-lifetime", "30d", "--now", "2026-03-31T10:00:00Z")
	fails(t, exitUsage, "bad --remember-lifetime 401d", nil, cookie, "open", "--name", "sess", "--keys", keys, "--remember-lifetime", "401d")
}

// TestKeygenKeepsExistingRing: keygen --out leaves an existing file as it is
// (rerunning the first line of the rotation walkthrough must not log
// everybody out) and replaces it with --force.
func TestKeygenKeepsExistingRing(t *testing.T) {
	keys := keygen(t, t.TempDir(), "k1")
	before, err := os.ReadFile(keys)
	if err != nil {
		t.Fatal(err)
	}
	fails(t, exitUsage, "exists", nil, "", "keygen", "--kid", "k2", "--out", keys)
	if after, _ := os.ReadFile(keys); string(after) != string(before) {
		t.Fatalf("keygen without --force changed %s", keys)
	}
	ok(t, nil, "", "keygen", "--kid", "k2", "--out", keys, "--force")
	if ids := ok(t, nil, "", "list", "--keys", keys); !strings.Contains(ids, `"k2"`) || strings.Contains(ids, `"k1"`) {
		t.Fatalf("after keygen --force: %s", ids)
	}
}

// TestReadmeListsOpenFields: the README's row for open names every member of
// the JSON that open prints.
func TestReadmeListsOpenFields(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, row, _ := strings.Cut(string(readme), "\n| `open --name NAME")
	row, _, _ = strings.Cut(row, "\n")
	if row == "" {
		t.Fatal("README.md has no row for open")
	}
	fields := reflect.TypeFor[openReport]()
	for i := range fields.NumField() {
		name, _, _ := strings.Cut(fields.Field(i).Tag.Get("json"), ",")
		if !strings.Contains(row, "`"+name+"`") {
			t.Errorf("README.md's row for open does not name %q", name)
		}
	}
}
