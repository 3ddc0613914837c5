package gorilla

import (
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/importers/gorilla/internal/forge"
)

// The tests here write gorilla's format with encodeCookie, a transcription
// of securecookie.Encode with the date and the IV as arguments, so that
// expiry boundaries and hostile payloads under a valid MAC can be built. The
// nested module interop/ checks the decoder against the real gorilla.

var fxNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var (
	fxHash1  = []byte("hash-key-one-32-bytes-long......")
	fxHash2  = []byte("hash-key-two-64-bytes-long......................................")
	fxBlock1 = []byte("block-key-32-bytes-long.........")
	fxBlock2 = []byte("block-key-16-byt")
	fxBlock3 = []byte("block-key-24-bytes-long.")
	fxIV     = []byte("0123456789abcdef")
)

// fxUser is an application type the gorilla application registered.
type fxUser struct {
	Name  string
	Roles []string
	Since time.Time
}

func init() { gob.Register(fxUser{}) }

// encodeCookie is securecookie.Encode at the date ts (any text).
func encodeCookie(name, ts string, hash, block []byte, plain []byte) string {
	return forge.Cookie(name, ts, hash, block, fxIV, plain)
}

// gobSession is GobEncoder.Serialize of a gorilla session's Values.
func gobSession(t testing.TB, values map[interface{}]interface{}) []byte {
	t.Helper()
	return gobValue(t, values)
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func fxImporter(t testing.TB, cfg Config) *Importer {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "gsess"
	}
	if cfg.KeyPairs == nil {
		cfg.KeyPairs = []KeyPair{{Hash: fxHash1}}
	}
	d, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

var fxSentinels = []error{cookiesession.ErrInvalid, cookiesession.ErrExpired, cookiesession.ErrConfig}

// checkErr asserts that err matches want and no other sentinel (want nil:
// no error), and that its text holds no key.
func checkErr(t testing.TB, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %v", want)
	}
	for _, s := range fxSentinels {
		if errors.Is(err, s) != (s == want) {
			t.Fatalf("errors.Is(%q, %v) = %v", err, s, !(s == want))
		}
	}
	noKeys(t, err.Error())
}

// noKeys fails when text holds one of the fixtures' keys in any usual form.
func noKeys(t testing.TB, text string) {
	t.Helper()
	for _, k := range [][]byte{fxHash1, fxHash2, fxBlock1, fxBlock2, fxBlock3} {
		for _, form := range []string{string(k), hex.EncodeToString(k), base64.StdEncoding.EncodeToString(k)[:20]} {
			if strings.Contains(text, form) {
				t.Fatalf("text holds a key: %q", text)
			}
		}
	}
}
