package gorilla

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/cookiesession/cookiesession"
)

// Source returns "gorilla".
func (im *Importer) Source() string { return "gorilla" }

// Import opens the session cookie among lookup's cookies, checked against
// now: the first cookie of the configured name whose value net/http's
// Request.Cookie accepts, the one gorilla reads. It returns nil and no error
// when there is none. See [cookiesession.Importer].
func (im *Importer) Import(lookup func(name string) []string, now time.Time) (*cookiesession.Imported, error) {
	for _, v := range lookup(im.name) {
		if validCookieValue(v) {
			s, err := im.Open(v, now)
			if err != nil {
				return nil, err
			}
			s.Cookies = []string{im.name}
			return s, nil
		}
	}
	return nil, nil
}

// validCookieValue reports whether net/http keeps a cookie of value v (its
// quotes already removed): it skips a cookie with any other byte.
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

// Open opens the value of a gorilla session cookie as gorilla does at the
// instant now, with securecookie's steps in securecookie's order (see the
// package documentation), and converts its values to JSON.
//
// The session's IssuedAt is the cookie's timestamp, when gorilla last saved
// it (now, if the timestamp is later; a date outside the years 1970 to 9999
// is clamped to them), and its Expiry the first second at which gorilla
// refuses it: the timestamp plus MaxAge plus one second, since gorilla
// accepts a cookie exactly MaxAge old; the zero time when MaxAge is
// disabled.
//
// The error matches cookiesession.ErrInvalid when gorilla would refuse the
// cookie as malformed, forged or undecodable, or would open it but its
// values cannot become JSON, and cookiesession.ErrExpired when it is past
// MaxAge under the first pair that authenticates it. No error carries key
// material or a value.
func (im *Importer) Open(value string, now time.Time) (*cookiesession.Imported, error) {
	m, ts, _, err := im.decode(value, now)
	if err != nil {
		return nil, err
	}
	s := &cookiesession.Imported{IssuedAt: time.Unix(clampUnix(ts), 0)}
	if s.IssuedAt.After(now) {
		s.IssuedAt = now
	}
	if im.maxAge != 0 {
		// ts <= maxUnix once clamped: no overflow.
		s.Expiry = time.Unix(clampUnix(clampUnix(ts)+im.maxAge+1), 0)
	}
	if s.Values, err = values(m); err != nil {
		return nil, err
	}
	return s, nil
}

// decode is securecookie.DecodeMulti: it returns the deserialized session,
// its timestamp and the index of the key pair that opened it.
func (im *Importer) decode(value string, now time.Time) (session any, ts int64, pair int, err error) {
	// 1. Check the length, before any decoding.
	if len(value) > im.maxLength {
		return nil, 0, 0, invalid(fmt.Sprintf("a value of %d bytes, over MaxLength %d", len(value), im.maxLength))
	}
	// 2. Decode from base64.
	b, err := base64.URLEncoding.DecodeString(value)
	if err != nil {
		return nil, 0, 0, invalid("the value is not URL base64")
	}
	// 3. Split "date|value|mac"; the MAC covers "name|date|value".
	parts := bytes.SplitN(b, []byte("|"), 3)
	if len(parts) != 3 {
		return nil, 0, 0, errAuth
	}
	signed := b[:len(b)-len(parts[2])-1]
	var first error // the first failure past authentication
	for i := range im.codecs {
		session, ts, err := im.open(&im.codecs[i], signed, parts, now)
		if err == nil {
			return session, ts, i, nil
		}
		if first == nil && err != errAuth {
			first = err
		}
	}
	if first == nil {
		first = errAuth
	}
	return nil, 0, 0, first
}

// maxUnix is the last second of year 9999, the end of the times that
// time.Time compares correctly and that encoding/json can write.
const maxUnix = 253402300799

// clampUnix returns ts within 0 to maxUnix: gorilla takes any int64 as a
// date, time.Unix does not.
func clampUnix(ts int64) int64 { return min(max(ts, 0), maxUnix) }

// open runs securecookie's Decode steps 3 to 6 under one key pair: it
// returns the deserialized session (a map[interface{}]interface{} for gob, a
// map[string]any for JSON) and the timestamp, or errAuth when the pair does
// not authenticate the value.
func (im *Importer) open(c *codec, signed []byte, parts [][]byte, now time.Time) (any, int64, error) {
	// 3. Verify the MAC.
	h := hmac.New(sha256.New, c.hash)
	h.Write([]byte(im.name))
	h.Write([]byte{'|'})
	h.Write(signed)
	if !hmac.Equal(h.Sum(nil), parts[2]) {
		return nil, 0, errAuth
	}
	// 4. Verify the date range.
	ts, err := strconv.ParseInt(string(parts[0]), 10, 64)
	if err != nil {
		return nil, 0, invalid("invalid timestamp")
	}
	if im.maxAge != 0 && ts < now.Unix()-im.maxAge {
		return nil, 0, expired(fmt.Sprintf("saved at %d, over MaxAge %ds before %d", ts, im.maxAge, now.Unix()))
	}
	// 5. Decrypt (when the pair has a block key).
	v, err := base64.URLEncoding.DecodeString(string(parts[1]))
	if err != nil {
		return nil, 0, invalid("the inner value is not URL base64")
	}
	if c.block != nil {
		size := c.block.BlockSize()
		if len(v) <= size {
			return nil, 0, invalid("the value could not be decrypted")
		}
		cipher.NewCTR(c.block, v[:size]).XORKeyStream(v[size:], v[size:])
		v = v[size:]
	}
	// 6. Deserialize.
	m, err := im.deserialize(v)
	if err != nil {
		return nil, 0, err
	}
	return m, ts, nil
}
