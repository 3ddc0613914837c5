package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// joinChunks returns the sealed value of seal's NAME=VALUE lines: the
// values in order, without the "N~" count that starts a split cookie.
func joinChunks(t *testing.T, sealOut string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(sealOut), "\n")
	var b strings.Builder
	for i, l := range lines {
		_, v, _ := strings.Cut(l, "=")
		if i == 0 && len(lines) > 1 {
			if len(v) < 2 || v[1] != '~' || int(v[0]-'0') != len(lines) {
				t.Fatalf("first chunk %.10q does not announce %d chunks", v, len(lines))
			}
			v = v[2:]
		}
		b.WriteString(v)
	}
	return b.String()
}

// TestDeriveOpensWithGoJose checks the derive command's promise: its keys
// open the cookie value with a stock JOSE library, here go-jose, using only
// the allow-lists and the kid.
func TestDeriveOpensWithGoJose(t *testing.T) {
	dir := t.TempDir()
	keys := keygen(t, dir, "old")
	oldCookie := ok(t, nil, values, "seal", "--name", "sess", "--keys", keys)
	ok(t, nil, "", "rotate", "--keys", keys, "--kid", "new", "--out", keys)
	big := largeValues(9000)

	for _, tc := range []struct {
		name   string
		flags  []string
		values string
		cookie string // sealed beforehand, else sealed with flags
		kid    string
	}{
		{"encrypted", nil, values, "", "new"},
		{"encrypted, non-primary key", nil, values, oldCookie, "old"},
		{"compressed", []string{"--compress"}, `{"t":"` + strings.Repeat("zip me ", 300) + `"}`, "", "new"},
		{"chunked", []string{"--header-budget", "16384", "--max-chunks", "9"}, big, "", "new"},
		{"purpose", []string{"--purpose", "app2"}, values, "", "new"},
		{"signed", []string{"--signed"}, values, "", "new"},
		{"signed, chunked", []string{"--signed", "--header-budget", "16384", "--max-chunks", "9"}, big, "", "new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cookie := tc.cookie
			if cookie == "" {
				cookie = ok(t, nil, tc.values, append([]string{"seal", "--name", "sess", "--keys", keys}, tc.flags...)...)
			}
			var deriveFlags []string
			signed := false
			for i, f := range tc.flags {
				switch f {
				case "--signed":
					signed = true
					deriveFlags = append(deriveFlags, f)
				case "--purpose":
					deriveFlags = append(deriveFlags, f, tc.flags[i+1])
				}
			}
			out := ok(t, nil, "", append([]string{"derive", "--name", "sess", "--keys", keys}, deriveFlags...)...)
			var set jose.JSONWebKeySet
			if err := json.Unmarshal([]byte(out), &set); err != nil {
				t.Fatalf("derive printed %s: %v", out, err)
			}
			wantAlg, wantUse := "A256GCM", "enc"
			if signed {
				wantAlg, wantUse = "HS256", "sig"
			}
			if len(set.Keys) != 2 || set.Keys[0].KeyID != "new" || set.Keys[1].KeyID != "old" {
				t.Fatalf("derive printed kids %v, want [new old]", set.Keys)
			}
			for _, k := range set.Keys {
				if b, ok := k.Key.([]byte); !ok || len(b) != 32 || k.Algorithm != wantAlg || k.Use != wantUse {
					t.Errorf("derived key %s: alg %q use %q, %T of %d bytes", k.KeyID, k.Algorithm, k.Use, k.Key, len(b))
				}
			}

			sealed := joinChunks(t, cookie)
			var plaintext []byte
			if signed {
				jws, err := jose.ParseSignedCompact(sealed, []jose.SignatureAlgorithm{jose.HS256})
				if err != nil {
					t.Fatal(err)
				}
				kid := jws.Signatures[0].Protected.KeyID
				if kid != tc.kid {
					t.Errorf("kid %q, want %q", kid, tc.kid)
				}
				if plaintext, err = jws.Verify(set.Key(kid)[0]); err != nil {
					t.Fatalf("go-jose does not verify with the derived key: %v", err)
				}
			} else {
				jwe, err := jose.ParseEncryptedCompact(sealed, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
				if err != nil {
					t.Fatal(err)
				}
				if jwe.Header.KeyID != tc.kid {
					t.Errorf("kid %q, want %q", jwe.Header.KeyID, tc.kid)
				}
				if plaintext, err = jwe.Decrypt(set.Key(jwe.Header.KeyID)[0]); err != nil {
					t.Fatalf("go-jose does not decrypt with the derived key: %v", err)
				}
				// The other key of the set must not open it: keys are per kid.
				other := set.Keys[0]
				if other.KeyID == tc.kid {
					other = set.Keys[1]
				}
				if _, err := jwe.Decrypt(other); err == nil {
					t.Error("the other derived key decrypts it too")
				}
			}
			var payload struct {
				SID string         `json:"sid"`
				IAT int64          `json:"iat"`
				LAT int64          `json:"lat"`
				EXP int64          `json:"exp"`
				V   map[string]any `json:"v"`
			}
			dec := json.NewDecoder(strings.NewReader(string(plaintext)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&payload); err != nil {
				t.Fatalf("payload %s: %v", plaintext, err)
			}
			if !reflect.DeepEqual(payload.V, jsonValue(t, tc.values)) {
				t.Errorf("go-jose read other values: %s", plaintext)
			}
			if len(payload.SID) != 22 || payload.IAT != payload.LAT || payload.EXP != payload.IAT+int64(24*time.Hour/time.Second) {
				t.Errorf("claims: %s", plaintext)
			}
		})
	}

	// Keys derived for another name (or mode) do not open the cookie.
	cookie := ok(t, nil, values, "seal", "--name", "sess", "--keys", keys)
	var other jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(ok(t, nil, "", "derive", "--name", "other", "--keys", keys)), &other); err != nil {
		t.Fatal(err)
	}
	jwe, err := jose.ParseEncryptedCompact(joinChunks(t, cookie), []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jwe.Decrypt(other.Key("new")[0]); err == nil {
		t.Error("keys derived for another name decrypt the cookie")
	}
}

// TestDeriveOut writes the derived keys to a file instead of stdout.
func TestDeriveOut(t *testing.T) {
	dir := t.TempDir()
	keys := keygen(t, dir, "k1")
	path := filepath.Join(dir, "derived.json")
	for range 2 { // the second run replaces the file
		if out := ok(t, nil, "", "derive", "--name", "sess", "--keys", keys, "--out", path); out != "" {
			t.Errorf("derive --out printed %q", out)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil || len(set.Key("k1")) != 1 {
		t.Errorf("derive --out wrote %s (%v)", b, err)
	}
}
