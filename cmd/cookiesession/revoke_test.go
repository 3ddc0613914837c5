package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	cs "github.com/cookiesession/cookiesession"
)

// revokeOut is what revoke prints.
type revokeOut struct {
	Subject     string `json:"subject"`
	NotBefore   string `json:"not_before"`
	Revocations int    `json:"revocations"`
}

func decodeRevoke(t *testing.T, out string) revokeOut {
	t.Helper()
	var r revokeOut
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("revoke printed %q: %v", out, err)
	}
	return r
}

// readListFile parses the list file as the package does.
func readListFile(t *testing.T, path string) *cs.RevocationList {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := cs.ParseRevocationList(b)
	if err != nil {
		t.Fatalf("%s does not parse: %v\n%s", path, err, b)
	}
	return l
}

func TestRevoke(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "revoked.json")

	// Created when missing; the instant rounds up to the second.
	r := decodeRevoke(t, ok(t, nil, "", "revoke", "--list", list, "--subject", "user-1", "--at", "2026-03-01T10:00:00.25Z"))
	if r != (revokeOut{"user-1", "2026-03-01T10:00:01Z", 1}) {
		t.Fatalf("revoke printed %+v", r)
	}
	fi, err := os.Stat(list)
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("list file: %v, %v", fi, err)
	}
	// A second subject, given in another zone, stored in UTC.
	r = decodeRevoke(t, ok(t, nil, "", "revoke", "--list", list, "--subject", "Zoë <z@example.com>", "--at", "2026-03-01T11:00:00+01:00"))
	if r != (revokeOut{"Zoë <z@example.com>", "2026-03-01T10:00:00Z", 2}) {
		t.Fatalf("revoke printed %+v", r)
	}
	// An earlier instant keeps the later one; a later one replaces it.
	r = decodeRevoke(t, ok(t, nil, "", "revoke", "--list", list, "--subject", "user-1", "--at", "2026-02-01T00:00:00Z"))
	if r.NotBefore != "2026-03-01T10:00:01Z" || r.Revocations != 2 {
		t.Fatalf("an earlier --at moved the not-before: %+v", r)
	}
	decodeRevoke(t, ok(t, nil, "", "revoke", "--list", list, "--subject", "user-1", "--at", "2026-03-02T00:00:00Z"))
	l := readListFile(t, list)
	if nb, _ := l.NotBefore("user-1"); nb.Format("2006-01-02T15:04:05Z07:00") != "2026-03-02T00:00:00Z" || l.Len() != 2 {
		t.Fatalf("list %v: user-1 at %v", l.Revocations(), nb)
	}
	// Without --at: now, rounded up.
	r = decodeRevoke(t, ok(t, nil, "", "revoke", "--list", list, "--subject", "user-2"))
	if r.Revocations != 3 || r.NotBefore == "" {
		t.Fatalf("revoke without --at printed %+v", r)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// What revocations prints is the file's content, which parses.
	printed := ok(t, nil, "", "revocations", "--list", list)
	file, _ := os.ReadFile(list)
	if printed != string(file) {
		t.Errorf("revocations printed\n%s\nthe file holds\n%s", printed, file)
	}
	if !strings.Contains(printed, `"subject":"Zo\u00eb \u003cz@example.com\u003e"`) && !strings.Contains(printed, `"subject":"Zoë \u003cz@example.com\u003e"`) {
		t.Errorf("revocations printed %s", printed)
	}
}

func TestRevocationsPrune(t *testing.T) {
	list := filepath.Join(t.TempDir(), "revoked.json")
	ok(t, nil, "", "revoke", "--list", list, "--subject", "old", "--at", "2026-03-01T10:00:00Z")
	ok(t, nil, "", "revoke", "--list", list, "--subject", "new", "--at", "2026-03-01T11:00:00Z")
	before, _ := os.ReadFile(list)

	// A second before the old entry is a lifetime old: nothing pruned, the
	// file untouched.
	out := ok(t, nil, "", "revocations", "--list", list, "--prune", "--lifetime", "24h", "--now", "2026-03-02T09:59:59Z")
	if after, _ := os.ReadFile(list); out != string(before) || string(after) != string(before) {
		t.Fatalf("pruned a second early:\n%s", out)
	}
	// A lifetime after it: dropped from the output and the file.
	out = ok(t, nil, "", "revocations", "--list", list, "--prune", "--lifetime", "1d", "--now", "2026-03-02T10:00:00Z")
	l := readListFile(t, list)
	if _, old := l.NotBefore("old"); old || l.Len() != 1 || strings.Contains(out, `"old"`) || !strings.Contains(out, `"new"`) {
		t.Fatalf("after pruning: %s (file %v)", out, l.Revocations())
	}
	// Everything pruned: an empty list, which still parses.
	ok(t, nil, "", "revocations", "--list", list, "--prune", "--lifetime", "1h", "--now", "2026-03-05T00:00:00Z")
	if l := readListFile(t, list); l.Len() != 0 {
		t.Fatalf("after pruning all: %v", l.Revocations())
	}
}

func TestRevokeErrors(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "revoked.json")
	ok(t, nil, "", "revoke", "--list", list, "--subject", "a", "--at", "2026-03-01T10:00:00Z")
	good, _ := os.ReadFile(list)
	bad := filepath.Join(dir, "bad.json")
	keys := keygen(t, dir, "k1")
	for _, tc := range []struct {
		name, want string
		args       []string
	}{
		{"missing --list", "missing --list", []string{"revoke", "--subject", "a"}},
		{"missing --subject", "missing --subject", []string{"revoke", "--list", list}},
		{"long --subject", "bad --subject", []string{"revoke", "--list", list, "--subject", strings.Repeat("x", cs.MaxSubjectBytes+1)}},
		{"bad --at", `invalid value "noon" for --at`, []string{"revoke", "--list", list, "--subject", "a", "--at", "noon"}},
		{"future --at", "bad --at 2999-01-01T00:00:00Z: more than 1m ahead", []string{"revoke", "--list", list, "--subject", "a", "--at", "2999-01-01T00:00:00Z"}},
		{"argument", `unexpected argument "b"`, []string{"revoke", "--list", list, "--subject", "a", "b"}},
		{"malformed list", "--list " + bad + ": bad configuration: revocation list: not", []string{"revoke", "--list", bad, "--subject", "a"}},
		{"a key ring as the list", "revocation list: not", []string{"revoke", "--list", keys, "--subject", "a"}},
		{"list a directory", "cannot read the revocation list", []string{"revocations", "--list", dir}},
		{"revocations missing file", "cannot read the revocation list", []string{"revocations", "--list", filepath.Join(dir, "none.json")}},
		{"revocations missing --list", "missing --list", []string{"revocations"}},
		{"prune without lifetime", "--prune needs --lifetime", []string{"revocations", "--list", list, "--prune"}},
		{"lifetime without prune", "--lifetime goes with --prune", []string{"revocations", "--list", list, "--lifetime", "1h"}},
		{"long lifetime", "bad --lifetime 401d", []string{"revocations", "--list", list, "--prune", "--lifetime", "401d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.WriteFile(bad, []byte(`{"revocations":[{"subject":"a","not-before":"2026-03-01T10:00:00Z"}]}`), 0o644)
			fails(t, exitUsage, tc.want, nil, "", tc.args...)
			if after, _ := os.ReadFile(list); string(after) != string(good) {
				t.Fatalf("a failed command changed the list:\n%s", after)
			}
			if after, _ := os.ReadFile(bad); !strings.Contains(string(after), "not-before") {
				t.Fatalf("a failed command rewrote the malformed list:\n%s", after)
			}
		})
	}
}

// TestSealSubject: seal --subject seals the "sub" claim, open shows it, and
// a session without one shows none.
func TestSealSubject(t *testing.T) {
	keys := keygen(t, t.TempDir(), "k1")
	cookie := ok(t, nil, `{"a":1}`, "seal", "--name", "s", "--keys", keys, "--subject", "user-42")
	out := ok(t, nil, cookie, "open", "--name", "s", "--keys", keys)
	if o := decodeOpened(t, out); o.Subject != "user-42" {
		t.Fatalf("open printed %s", out)
	}
	plain := ok(t, nil, `{"a":1}`, "seal", "--name", "s", "--keys", keys)
	if out := ok(t, nil, plain, "open", "--name", "s", "--keys", keys); strings.Contains(out, "subject") {
		t.Fatalf("open of a session without subject printed %s", out)
	}
	fails(t, exitUsage, "bad --subject", nil, `{}`, "seal", "--name", "s", "--keys", keys, "--subject", "a\xffb")
}

// TestOpenRevocations: open --revocations refuses, exit 1, a session the list
// revokes, as a Manager following that list would, and opens the others.
func TestOpenRevocations(t *testing.T) {
	dir := t.TempDir()
	keys := keygen(t, dir, "k1")
	list := filepath.Join(dir, "revoked.json")
	seal := func(subject, at string) string {
		return ok(t, nil, `{"a":1}`, "seal", "--name", "s", "--keys", keys, "--subject", subject, "--now", at)
	}
	before := seal("user-1", "2026-03-01T10:00:00Z")
	after := seal("user-1", "2026-03-01T10:00:01Z")
	other := seal("user-2", "2026-03-01T10:00:00Z")
	ok(t, nil, "", "revoke", "--list", list, "--subject", "user-1", "--at", "2026-03-01T10:00:00.5Z")
	open := []string{"open", "--name", "s", "--keys", keys, "--now", "2026-03-01T11:00:00Z", "--revocations", list}
	fails(t, exitFail, `session revoked: subject "user-1" issued 2026-03-01T10:00:00Z, before its not-before 2026-03-01T10:00:01Z`, nil, before, open...)
	if o := decodeOpened(t, ok(t, nil, after, open...)); o.Subject != "user-1" {
		t.Errorf("issued at the not-before: %+v", o)
	}
	if o := decodeOpened(t, ok(t, nil, other, open...)); o.Subject != "user-2" {
		t.Errorf("another subject: %+v", o)
	}
	// Without --revocations the revoked session opens.
	decodeOpened(t, ok(t, nil, before, open[:len(open)-2]...))
	os.WriteFile(list, []byte(`{"revocations":[{"subject":"user-1"}]}`), 0o644)
	fails(t, exitUsage, "want \"subject\" and \"not_before\"", nil, before, open...)
}
