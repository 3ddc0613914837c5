package cookiesession

// Test vectors that pin the v1 wire format: testdata/vectors/*.txt, one
// vector per file, "key: value" lines. They were generated once with fixed
// keys and a fixed clock by TestGenerateVectors -update-vectors; since the
// IV of an encrypted value is random, the generated cookies are stored as
// they came out and must keep opening (or failing the same way) in every
// later release.
//
// Keys of a vector file (unknown keys are an error; "cookie" may repeat,
// no other key may):
//
//	name:        cookie name (required)
//	purpose:     CodecConfig.Purpose
//	mode:        encrypted | signed (required)
//	compress:    CodecConfig.Compress (true | false)
//	budget:      Limits.HeaderBudget
//	max-chunks:  Limits.MaxChunks
//	lifetime:    CodecConfig.Lifetime (time.ParseDuration)
//	idle:        CodecConfig.IdleTimeout
//	not-before:  CodecConfig.NotBefore (RFC 3339)
//	keys:        the key ring, a JWK Set on one line (required)
//	now:         the clock, RFC 3339 (required)
//	expect:      ok | ErrInvalid | ErrExpired | ErrNoCookie (required)
//	reason:      a substring of the error (failures only)
//	kid:         the key id that opens it (ok only, required)
//	primary:     whether that key is the primary (ok only, required)
//	compressed:  whether the payload was compressed (ok only, required)
//	chunks:      how many cookies it came in (ok only, required)
//	remember:    default | yes | no, the "rm" claim (ok only)
//	sid:         the session id (ok only)
//	subject:     the "sub" claim (ok only; absent: the session has none)
//	values:      the values, JSON (ok only, required)
//	cookie:      a Cookie header as a browser sends it (at least one)
//
// Lines starting with "#" are comments.

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var updateVectors = flag.Bool("update-vectors", false, "rewrite testdata/vectors from TestGenerateVectors")

const vectorDir = "testdata/vectors"

type vector struct {
	file   string
	fields map[string]string
	order  []string // keys in file order, for writing
	cookie []string
}

var vectorKeys = []string{
	"name", "purpose", "mode", "compress", "budget", "max-chunks", "lifetime", "idle", "not-before",
	"keys", "now", "expect", "reason", "kid", "primary", "compressed", "chunks", "remember", "sid", "subject", "device-key", "values", "cookie",
}

func parseVector(file string, data []byte) (*vector, error) {
	v := &vector{file: file, fields: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, val, ok := strings.Cut(text, ": ")
		if !ok {
			if k, ok = strings.CutSuffix(text, ":"); !ok {
				return nil, fmt.Errorf("%s:%d: not a \"key: value\" line", file, line)
			}
		}
		if !slices.Contains(vectorKeys, k) {
			return nil, fmt.Errorf("%s:%d: unknown key %q", file, line, k)
		}
		if k == "cookie" {
			v.cookie = append(v.cookie, val)
			continue
		}
		if _, dup := v.fields[k]; dup {
			return nil, fmt.Errorf("%s:%d: repeated key %q", file, line, k)
		}
		v.fields[k] = val
		v.order = append(v.order, k)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, k := range []string{"name", "mode", "keys", "now", "expect"} {
		if _, ok := v.fields[k]; !ok {
			return nil, fmt.Errorf("%s: missing %q", file, k)
		}
	}
	if len(v.cookie) == 0 {
		return nil, fmt.Errorf("%s: no cookie line", file)
	}
	okOnly := []string{"kid", "primary", "compressed", "chunks", "values", "remember", "sid", "subject"}
	if v.fields["expect"] == "ok" {
		for _, k := range []string{"kid", "primary", "compressed", "chunks", "values"} {
			if _, ok := v.fields[k]; !ok {
				return nil, fmt.Errorf("%s: expect ok without %q", file, k)
			}
		}
		if _, ok := v.fields["reason"]; ok {
			return nil, fmt.Errorf("%s: expect ok with a reason", file)
		}
	} else {
		for _, k := range okOnly {
			if _, ok := v.fields[k]; ok {
				return nil, fmt.Errorf("%s: %q only goes with expect ok", file, k)
			}
		}
	}
	return v, nil
}

func (v *vector) String() string {
	var b strings.Builder
	for _, k := range vectorKeys {
		if k == "cookie" {
			for _, c := range v.cookie {
				b.WriteString("cookie: " + c + "\n")
			}
			continue
		}
		if val, ok := v.fields[k]; ok {
			b.WriteString(k + ": " + val + "\n")
		}
	}
	return b.String()
}

// codec builds the vector's codec.
func (v *vector) codec() (*Codec, error) {
	f := v.fields
	ring, err := ParseKeyRing([]byte(f["keys"]))
	if err != nil {
		return nil, err
	}
	cfg := CodecConfig{Name: f["name"], Purpose: f["purpose"], Keys: ring}
	switch f["mode"] {
	case "encrypted":
	case "signed":
		cfg.Mode = Signed
	default:
		return nil, fmt.Errorf("mode %q", f["mode"])
	}
	parseBool := func(k string) (bool, error) {
		s, ok := f[k]
		if !ok {
			return false, nil
		}
		return strconv.ParseBool(s)
	}
	parseInt := func(k string) (int, error) {
		s, ok := f[k]
		if !ok {
			return 0, nil
		}
		return strconv.Atoi(s)
	}
	parseDur := func(k string) (time.Duration, error) {
		s, ok := f[k]
		if !ok {
			return 0, nil
		}
		return time.ParseDuration(s)
	}
	if cfg.Compress, err = parseBool("compress"); err != nil {
		return nil, err
	}
	if cfg.Limits.HeaderBudget, err = parseInt("budget"); err != nil {
		return nil, err
	}
	if cfg.Limits.MaxChunks, err = parseInt("max-chunks"); err != nil {
		return nil, err
	}
	if cfg.Lifetime, err = parseDur("lifetime"); err != nil {
		return nil, err
	}
	if cfg.IdleTimeout, err = parseDur("idle"); err != nil {
		return nil, err
	}
	if s, ok := f["not-before"]; ok {
		if cfg.NotBefore, err = time.Parse(time.RFC3339, s); err != nil {
			return nil, err
		}
	}
	return NewCodec(cfg)
}

// run checks the vector.
func (v *vector) run(t *testing.T) {
	t.Helper()
	c, err := v.codec()
	if err != nil {
		t.Fatalf("%s: codec: %v", v.file, err)
	}
	now, err := time.Parse(time.RFC3339, v.fields["now"])
	if err != nil {
		t.Fatalf("%s: now: %v", v.file, err)
	}
	p, info, err := c.Decode(CookieLookup(v.fields["name"], v.cookie...), now)
	want := map[string]error{"ok": nil, "ErrInvalid": ErrInvalid, "ErrExpired": ErrExpired, "ErrNoCookie": ErrNoCookie}
	w, known := want[v.fields["expect"]]
	if !known {
		t.Fatalf("%s: expect %q", v.file, v.fields["expect"])
	}
	fxCheckErr(t, err, w)
	if r := v.fields["reason"]; r != "" && !strings.Contains(err.Error(), r) {
		t.Fatalf("%s: error %q does not say %q", v.file, err, r)
	}
	if w != nil {
		return
	}
	f := v.fields
	if info.KeyID != f["kid"] || strconv.FormatBool(info.Primary) != f["primary"] ||
		strconv.FormatBool(info.Compressed) != f["compressed"] || strconv.Itoa(info.Chunks) != f["chunks"] {
		t.Fatalf("%s: info %+v, want kid %s primary %s compressed %s chunks %s", v.file, info, f["kid"], f["primary"], f["compressed"], f["chunks"])
	}
	var values map[string]json.RawMessage
	if err := json.Unmarshal([]byte(f["values"]), &values); err != nil {
		t.Fatalf("%s: values: %v", v.file, err)
	}
	fxSameValues(t, p.Values, values)
	if s, ok := f["sid"]; ok && p.ID != s {
		t.Fatalf("%s: sid %q, want %q", v.file, p.ID, s)
	}
	if p.Subject != f["subject"] {
		t.Fatalf("%s: subject %q, want %q", v.file, p.Subject, f["subject"])
	}
	if r, ok := f["remember"]; ok && r != map[RememberMe]string{RememberDefault: "default", RememberYes: "yes", RememberNo: "no"}[p.RememberMe] {
		t.Fatalf("%s: remember %v, want %s", v.file, p.RememberMe, r)
	}
	if d := f["device-key"]; p.DeviceKey != d {
		t.Fatalf("%s: device key %q, want %q", v.file, p.DeviceKey, d)
	}
	// The wire format itself: the exact header, and go-jose (the
	// reference) opens the joined value with the derived key.
	sealed, _, err := join(new(buffer), c.names[:], CookieLookup(f["name"], v.cookie...), c.cfg.Limits.MaxChunks, c.cfg.Limits.HeaderBudget)
	if err != nil {
		t.Fatal(err)
	}
	header := `{"alg":"HS256","kid":"` + info.KeyID + `"}`
	if c.cfg.Mode == Encrypted {
		header = `{"alg":"dir","enc":"A256GCM","kid":"` + info.KeyID + `"` + map[bool]string{true: `,"zip":"DEF"`}[info.Compressed] + `}`
	}
	if !strings.HasPrefix(sealed, fxB64([]byte(header))+".") {
		t.Fatalf("%s: header is not %s", v.file, header)
	}
	pt, _, err := fxJoseOpen(t, c.cfg.Mode, sealed, fxDerived(t, c, info.KeyID))
	if err != nil {
		t.Fatalf("%s: go-jose: %v", v.file, err)
	}
	if !bytes.Equal(pt, appendPayload(nil, p)) {
		t.Fatalf("%s: go-jose payload %s, ours %s", v.file, pt, appendPayload(nil, p))
	}
}

// fxLoadVectors reads every vector; it fails when there is none.
func fxLoadVectors(t testing.TB) []*vector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no vectors in %s", vectorDir)
	}
	var out []*vector
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		v, err := parseVector(filepath.Base(file), data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// fxVectorCookies returns the cookie values (each Cookie header, and each
// single value in it) of every vector, to seed the fuzz targets.
func fxVectorCookies(t testing.TB) (headers, values []string) {
	for _, v := range fxLoadVectors(t) {
		for _, h := range v.cookie {
			headers = append(headers, h)
			for part := range strings.SplitSeq(h, "; ") {
				if _, val, ok := strings.Cut(part, "="); ok {
					values = append(values, val)
				}
			}
		}
	}
	if len(values) == 0 {
		t.Fatal("no cookie values in the vectors")
	}
	return headers, values
}

func TestVectors(t *testing.T) {
	vs := fxLoadVectors(t)
	expects := map[string]int{}
	for _, v := range vs {
		expects[v.fields["expect"]]++
		t.Run(strings.TrimSuffix(v.file, ".txt"), v.run)
	}
	if expects["ok"] < 5 || expects["ErrInvalid"] < 4 || expects["ErrExpired"] < 2 || expects["ErrNoCookie"] < 1 {
		t.Fatalf("vector mix %v", expects)
	}
}

// TestVectorParser: the runner refuses what is not a well-formed vector.
func TestVectorParser(t *testing.T) {
	good := "name: s\nmode: encrypted\nkeys: {}\nnow: 2026-01-01T00:00:00Z\nexpect: ErrInvalid\ncookie: s=x\n"
	if _, err := parseVector("good", []byte(good)); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"unknown-key":     good + "colour: red\n",
		"repeated-key":    good + "mode: signed\n",
		"not-key-value":   good + "just text\n",
		"missing-now":     strings.Replace(good, "now: 2026-01-01T00:00:00Z\n", "", 1),
		"missing-cookie":  strings.Replace(good, "cookie: s=x\n", "", 1),
		"ok-without-kid":  strings.Replace(good, "ErrInvalid", "ok", 1) + "primary: true\ncompressed: false\nchunks: 1\nvalues: {}\n",
		"failure-with-kv": good + "kid: k1\n",
		"case-matters":    good + "Name: s\n",
	} {
		if _, err := parseVector(name, []byte(text)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The fixed inputs of the generator.
var (
	vecNow  = time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	vecOld  = fxHex("7f4e1d2c3b4a59687786958473625140312f1e0d0c1b2a3948576675a4b3c2d1")
	vecNew  = fxHex("0badc0de0badc0de112233445566778899aabbccddeeff00102030405060708f")
	vecRing = func(keys ...string) string {
		secrets := map[string][]byte{"2025-10": vecOld, "2026-01": vecNew}
		var parts []string
		for _, k := range keys {
			parts = append(parts, `{"kty":"oct","kid":"`+k+`","k":"`+fxB64(secrets[k])+`"}`)
		}
		return `{"keys":[` + strings.Join(parts, ",") + `]}`
	}
)

// generateVectors builds every vector from the fixed keys and clock.
func generateVectors(t *testing.T) []*vector {
	const values = `{"cart":[1,2,3],"flash":"Welcome back ☃","user":"alice"}`
	var out []*vector
	mk := func(file string, fields map[string]string, p *Payload, edit func(c *Codec, chunks []Chunk) []string) {
		v := &vector{file: file + ".txt", fields: fields}
		c, err := v.codec()
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		chunks, err := c.Encode(p, len("; Path=/; Max-Age=86400; HttpOnly; Secure; SameSite=Lax"))
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if edit != nil {
			v.cookie = edit(c, chunks)
		} else {
			v.cookie = []string{"theme=dark; " + fxCookieHeader(chunks)}
		}
		out = append(out, v)
	}
	payload := func(iat, lat, exp time.Time, vals string) *Payload {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(vals), &m); err != nil {
			t.Fatal(err)
		}
		return &Payload{ID: "dmVjdG9yLXNlc3Npb24", IssuedAt: iat, LastActivity: lat, Expiry: exp, Values: m}
	}
	fresh := payload(vecNow.Add(-time.Hour), vecNow.Add(-5*time.Minute), vecNow.Add(23*time.Hour), values)
	now := vecNow.Format(time.RFC3339)
	base := func(mode string, keys string, extra ...string) map[string]string {
		f := map[string]string{"name": "sess", "mode": mode, "keys": keys, "now": now}
		for i := 0; i+1 < len(extra); i += 2 {
			f[extra[i]] = extra[i+1]
		}
		return f
	}
	ok := func(f map[string]string, kid, primary, compressed, chunks, vals string) map[string]string {
		f["expect"], f["kid"], f["primary"], f["compressed"], f["chunks"], f["values"] = "ok", kid, primary, compressed, chunks, vals
		f["sid"] = "dmVjdG9yLXNlc3Npb24"
		return f
	}
	fail := func(f map[string]string, expect, reason string) map[string]string {
		f["expect"] = expect
		if reason != "" {
			f["reason"] = reason
		}
		return f
	}
	one := vecRing("2026-01")
	rotated := vecRing("2026-01", "2025-10")
	old := vecRing("2025-10")

	mk("encrypted-small", ok(base("encrypted", one), "2026-01", "true", "false", "1", values), fresh, nil)
	remember := payload(vecNow.Add(-time.Hour), vecNow.Add(-5*time.Minute), vecNow.Add(23*time.Hour), values)
	remember.RememberMe = RememberYes
	rf := ok(base("encrypted", one, "purpose", "app-a"), "2026-01", "true", "false", "1", values)
	rf["remember"] = "yes"
	mk("encrypted-purpose-remember", rf, remember, nil)
	// The optional "sub" claim: plain in a signed cookie, and with characters
	// that JSON escapes (and non-ASCII) in an encrypted one.
	for _, sv := range []struct{ file, mode, subject string }{
		{"signed-subject", "signed", "user-42@example.com"},
		{"encrypted-subject", "encrypted", "Zoë <zoe@example.com> & co"},
	} {
		p := payload(vecNow.Add(-time.Hour), vecNow.Add(-5*time.Minute), vecNow.Add(23*time.Hour), values)
		p.Subject = sv.subject
		f := ok(base(sv.mode, one), "2026-01", "true", "false", "1", values)
		f["subject"] = sv.subject
		mk(sv.file, f, p, nil)
	}
	text := `{"article":"` + strings.Repeat("All work and no play makes Jack a dull boy. ", 40) + `"}`
	mk("encrypted-compressed", ok(base("encrypted", one, "compress", "true"), "2026-01", "true", "true", "1", text),
		payload(vecNow.Add(-time.Hour), vecNow.Add(-5*time.Minute), vecNow.Add(23*time.Hour), text), nil)
	mk("signed", ok(base("signed", one), "2026-01", "true", "false", "1", values), fresh, nil)
	bound := payload(vecNow.Add(-time.Hour), vecNow.Add(-5*time.Minute), vecNow.Add(23*time.Hour), values)
	bound.DeviceKey = "YmluZGluZy1pZA." + vecDeviceKey(t)
	bf := ok(base("signed", one), "2026-01", "true", "false", "1", values)
	bf["device-key"] = bound.DeviceKey
	mk("signed-device-bound", bf, bound, nil)
	blob := `{"blob":"` + fxRandomText(7000, 2026) + `","user":"alice"}`
	mk("encrypted-chunked-3", ok(base("encrypted", one, "budget", "16384", "max-chunks", "4"), "2026-01", "true", "false", "3", blob),
		payload(vecNow.Add(-time.Hour), vecNow.Add(-5*time.Minute), vecNow.Add(23*time.Hour), blob), nil)
	// Sealed by the old key, opened by the rotated ring: not primary.
	mkRotated := func(file, mode string) {
		v := &vector{file: file + ".txt", fields: ok(base(mode, rotated), "2025-10", "false", "false", "1", values)}
		sealer, err := (&vector{fields: base(mode, old)}).codec()
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := sealer.Encode(fresh, 0)
		if err != nil {
			t.Fatal(err)
		}
		v.cookie = []string{fxCookieHeader(chunks)}
		out = append(out, v)
	}
	mkRotated("encrypted-rotated-nonprimary", "encrypted")
	mkRotated("signed-rotated-nonprimary", "signed")

	// Failures.
	mk("expired", fail(base("encrypted", one), "ErrExpired", "expired"),
		payload(vecNow.Add(-25*time.Hour), vecNow.Add(-2*time.Hour), vecNow.Add(-time.Hour), values), nil)
	mk("idle-expired", fail(base("encrypted", one, "idle", "30m"), "ErrExpired", "idle"),
		payload(vecNow.Add(-3*time.Hour), vecNow.Add(-31*time.Minute), vecNow.Add(20*time.Hour), values), nil)
	mk("not-before", fail(base("encrypted", one, "not-before", vecNow.Add(-30*time.Minute).Format(time.RFC3339)), "ErrExpired", "not-before"), fresh, nil)
	mk("issued-in-future", fail(base("encrypted", one), "ErrInvalid", "future"),
		payload(vecNow.Add(5*time.Minute), vecNow.Add(5*time.Minute), vecNow.Add(time.Hour), values), nil)
	mk("tampered-tag", fail(base("encrypted", one), "ErrInvalid", "authentication failed"), fresh, func(c *Codec, chunks []Chunk) []string {
		chunks[0].Value = fxMutateDecoded(t, chunks[0].Value, 4, func(b []byte) []byte { b[len(b)-1] ^= 1; return b })
		return []string{fxCookieHeader(chunks)}
	})
	mk("tampered-signed-payload", fail(base("signed", one), "ErrInvalid", "authentication failed"), fresh, func(c *Codec, chunks []Chunk) []string {
		chunks[0].Value = fxMutateDecoded(t, chunks[0].Value, 1, func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"alice"`), []byte(`"admin"`), 1)
		})
		return []string{fxCookieHeader(chunks)}
	})
	// Sealed for "sess", presented as "other".
	mk("wrong-name", fail(base("encrypted", one, "name", "other"), "ErrInvalid", "authentication failed"), fresh, func(c *Codec, chunks []Chunk) []string {
		sealer, err := (&vector{fields: base("encrypted", one)}).codec()
		if err != nil {
			t.Fatal(err)
		}
		return []string{"other=" + fxSeal(t, sealer, fresh)}
	})
	mk("wrong-purpose", fail(base("encrypted", one, "purpose", "app-b"), "ErrInvalid", "authentication failed"), fresh, func(c *Codec, chunks []Chunk) []string {
		sealer, err := (&vector{fields: base("encrypted", one, "purpose", "app-a")}).codec()
		if err != nil {
			t.Fatal(err)
		}
		return []string{"sess=" + fxSeal(t, sealer, fresh)}
	})
	mk("unknown-kid", fail(base("encrypted", one), "ErrInvalid", `unknown key id "2025-10"`), fresh, func(c *Codec, chunks []Chunk) []string {
		sealer, err := (&vector{fields: base("encrypted", old)}).codec()
		if err != nil {
			t.Fatal(err)
		}
		return []string{"sess=" + fxSeal(t, sealer, fresh)}
	})
	mk("signed-fed-to-encrypted", fail(base("encrypted", one), "ErrInvalid", ""), fresh, func(c *Codec, chunks []Chunk) []string {
		sealer, err := (&vector{fields: base("signed", one)}).codec()
		if err != nil {
			t.Fatal(err)
		}
		return []string{"sess=" + fxSeal(t, sealer, fresh)}
	})
	mk("encrypted-fed-to-signed", fail(base("signed", one), "ErrInvalid", ""), fresh, func(c *Codec, chunks []Chunk) []string {
		sealer, err := (&vector{fields: base("encrypted", one)}).codec()
		if err != nil {
			t.Fatal(err)
		}
		return []string{"sess=" + fxSeal(t, sealer, fresh)}
	})
	mk("chunk-missing", fail(base("encrypted", one, "budget", "16384", "max-chunks", "4"), "ErrInvalid", "missing chunk"),
		payload(vecNow.Add(-time.Hour), vecNow.Add(-5*time.Minute), vecNow.Add(23*time.Hour), blob), func(c *Codec, chunks []Chunk) []string {
			if len(chunks) != 3 {
				t.Fatalf("%d chunks", len(chunks))
			}
			return []string{fxCookieHeader([]Chunk{chunks[0], chunks[2]})}
		})
	// Debris beyond the set the first cookie declares is not read: the
	// session opens.
	mk("chunk-stale-extra", ok(base("encrypted", one, "budget", "16384", "max-chunks", "4"), "2026-01", "true", "false", "1", values), fresh, func(c *Codec, chunks []Chunk) []string {
		return []string{fxCookieHeader(chunks), "sess.1=AAAA"}
	})
	// What two racing tabs leave: the one-cookie session of the response
	// that landed last, and chunk 1 of the two-chunk session the other wrote.
	mk("chunk-debris-of-race", ok(base("encrypted", one), "2026-01", "true", "false", "1", values), fresh, func(c *Codec, chunks []Chunk) []string {
		grown, err := c.Encode(payload(vecNow.Add(-time.Hour), vecNow.Add(-5*time.Minute), vecNow.Add(23*time.Hour), `{"blob":"`+fxRandomText(5000, 7)+`"}`), 0)
		if err != nil || len(grown) != 2 {
			t.Fatalf("grown session: %d chunks, %v", len(grown), err)
		}
		return []string{fxCookieHeader(chunks) + "; " + fxCookieHeader(grown[1:])}
	})
	mk("no-cookie", fail(base("encrypted", one), "ErrNoCookie", ""), fresh, func(c *Codec, chunks []Chunk) []string {
		return []string{"theme=dark; session=" + chunks[0].Value}
	})
	return out
}

// vecDeviceKey is the sealed form of the P-256 public key of a fixed
// private scalar, for the device-bound vector.
func vecDeviceKey(t *testing.T) string {
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), fxHex("7e57d3b1ce7e57d3b1ce7e57d3b1ce7e57d3b1ce7e57d3b1ce7e57d3b1ce0001"))
	if err != nil {
		t.Fatal(err)
	}
	dk, err := encodeDeviceKey("ES256", k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return dk
}

// TestGenerateVectors builds the vectors from fixed keys and a fixed clock.
// With -update-vectors it writes them to testdata/vectors. Without, it
// checks that each generated vector holds (so the generator is right) and
// that the files on disk are exactly the generated set, equal in every line
// but the random cookies of encrypted values.
func TestGenerateVectors(t *testing.T) {
	gen := generateVectors(t)
	for _, v := range gen {
		// Round-trip through the text form, then run.
		parsed, err := parseVector(v.file, []byte(v.String()))
		if err != nil {
			t.Fatalf("generated %s does not parse: %v", v.file, err)
		}
		t.Run("generated/"+strings.TrimSuffix(v.file, ".txt"), parsed.run)
	}
	if *updateVectors {
		if err := os.MkdirAll(vectorDir, 0o755); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(vectorDir, "*.txt"))
		for _, f := range old {
			os.Remove(f)
		}
		for _, v := range gen {
			text := "# v1 wire-format vector, generated by TestGenerateVectors -update-vectors.\n" +
				"# Do not edit; a change of format is a new vector, never a rewrite.\n" + v.String()
			if err := os.WriteFile(filepath.Join(vectorDir, v.file), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote %d vectors to %s", len(gen), vectorDir)
	}
	disk := map[string]*vector{}
	for _, v := range fxLoadVectors(t) {
		disk[v.file] = v
	}
	if len(disk) != len(gen) {
		t.Fatalf("%d vectors on disk, %d generated", len(disk), len(gen))
	}
	for _, g := range gen {
		d, ok := disk[g.file]
		if !ok {
			t.Fatalf("generated %s is not on disk", g.file)
		}
		for _, k := range vectorKeys {
			if k != "cookie" && d.fields[k] != g.fields[k] {
				t.Fatalf("%s: %s on disk %q, generated %q", g.file, k, d.fields[k], g.fields[k])
			}
		}
		// Signed values are deterministic: the cookies must be equal too.
		if g.fields["mode"] == "signed" && !strings.Contains(g.file, "fed-to") && !slices.Equal(d.cookie, g.cookie) {
			t.Fatalf("%s: signed cookie on disk differs from the generated one", g.file)
		}
	}
}
