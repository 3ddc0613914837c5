package django

import (
	"bytes"
	"compress/zlib"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
)

// compress is zlib, as Django's signing.dumps(compress=True) applies it.
func compress(t testing.TB, data []byte) string {
	t.Helper()
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return "." + base64.RawURLEncoding.EncodeToString(b.Bytes())
}

// sign signs payload (base64url, or "." and base64url of zlib) as Django's
// TimestampSigner does, with imp's secret key, at now: for inputs Django
// would never make but a key holder could (a bomb, hostile JSON).
func sign(t testing.TB, imp *Importer, payload string, now time.Time) string {
	t.Helper()
	var stamp []byte
	for n := now.Unix(); n > 0; n /= 62 {
		stamp = append([]byte{"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[n%62]}, stamp...)
	}
	signed := payload + ":" + string(stamp)
	m := hmac.New(sha256.New, imp.keys[0].sha256)
	m.Write([]byte(signed))
	return signed + ":" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// FuzzDjangoCookie feeds hostile bytes to Open: as a whole cookie, and as a
// payload signed with the key, so that mutations reach the decoding,
// inflation and JSON steps behind the signature. Open never panics, fails
// only with ErrInvalid or ErrExpired and without the key, and what it
// accepts is a session the Manager can seal.
func FuzzDjangoCookie(f *testing.F) {
	cases := loadCases(f)
	for _, c := range cases {
		f.Add(c.Cookie, int64(c.At-c.Timestamp))
	}
	f.Add(".eJyrVkpUsoqOVcpPUSoxULJSSlLSUYpWKs7PzkiMBQA", int64(0))
	f.Add("e30:1:x", int64(-5))
	imp, err := New(Config{SecretKey: cases[0].Config.SecretKey})
	if err != nil {
		f.Fatal(err)
	}
	base := time.Unix(cases[0].Timestamp, 0)
	// One zlib writer, reset for each input: a new one costs more than
	// everything else an input does.
	var zbuf bytes.Buffer
	zw := zlib.NewWriter(&zbuf)
	f.Fuzz(func(t *testing.T, cookie string, offset int64) {
		now := base.Add(time.Duration(offset%(30*24*3600)) * time.Second)
		check := func(got *cookiesession.Imported, err error) {
			if err != nil {
				if got != nil || !errors.Is(err, cookiesession.ErrInvalid) && !errors.Is(err, cookiesession.ErrExpired) {
					t.Fatalf("%v, %v", got, err)
				}
				if strings.Contains(err.Error(), cases[0].Config.SecretKey) {
					t.Fatal("error shows the key")
				}
				return
			}
			for k, v := range got.Values {
				if !json.Valid(v) {
					t.Fatalf("value %q not JSON: %q", k, v)
				}
			}
			if !got.IssuedAt.Before(got.Expiry) || !now.Before(got.Expiry.Add(time.Second)) {
				t.Fatalf("issued %v, expiry %v at %v", got.IssuedAt, got.Expiry, now)
			}
		}
		check(imp.Open(cookie, now))
		if len(cookie) < 2048 {
			check(imp.Open(sign(t, imp, base64.RawURLEncoding.EncodeToString([]byte(cookie)), base), now))
			zbuf.Reset()
			zw.Reset(&zbuf)
			zw.Write([]byte(cookie))
			zw.Close()
			check(imp.Open(sign(t, imp, "."+base64.RawURLEncoding.EncodeToString(zbuf.Bytes()), base), now))
		}
	})
}
