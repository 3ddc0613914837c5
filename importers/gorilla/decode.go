package gorilla

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Session is a gorilla session that [Importer.Decode] opened.
type Session struct {
	// Values are the session's values as JSON, by name; empty, not nil,
	// when the session holds none.
	Values map[string]json.RawMessage

	// Saved is the cookie's timestamp: when gorilla last saved the session
	// (a date outside the years 1970 to 9999 is clamped to them).
	Saved time.Time

	// Expiry is the first second at which gorilla refuses the cookie:
	// Saved plus MaxAge plus one second (gorilla accepts a cookie exactly
	// MaxAge old). It is the zero time when MaxAge is disabled.
	Expiry time.Time

	// KeyPair is the index in Config.KeyPairs of the pair that opened the
	// cookie: 0 for the first.
	KeyPair int
}

// Decode opens the value of a gorilla session cookie as gorilla does at the
// instant now, with securecookie's steps in securecookie's order (see the
// package documentation), and converts its values to JSON. The error matches
// cookiesession.ErrInvalid when gorilla would refuse the cookie as
// malformed, forged or undecodable, cookiesession.ErrExpired when it is past
// MaxAge under the first pair that authenticates it. A session that gorilla
// would open but whose values cannot become JSON is refused too, matching
// cookiesession.ErrInvalid. No error carries key material or a value.
func (d *Importer) Decode(value string, now time.Time) (*Session, error) {
	// 1. Check the length, before any decoding.
	if len(value) > d.maxLength {
		return nil, invalid(fmt.Sprintf("a value of %d bytes, over MaxLength %d", len(value), d.maxLength))
	}
	// 2. Decode from base64.
	b, err := base64.URLEncoding.DecodeString(value)
	if err != nil {
		return nil, invalid("the value is not URL base64")
	}
	// 3. Split "date|value|mac"; the MAC covers "name|date|value".
	parts := bytes.SplitN(b, []byte("|"), 3)
	if len(parts) != 3 {
		return nil, errAuth
	}
	signed := b[:len(b)-len(parts[2])-1]
	var first error // the first failure past authentication
	for i := range d.codecs {
		plain, ts, err := d.open(&d.codecs[i], signed, parts, now)
		if err != nil {
			if first == nil && err != errAuth {
				first = err
			}
			continue
		}
		s := &Session{Saved: time.Unix(clampUnix(ts), 0), KeyPair: i}
		if d.maxAge != 0 {
			// ts <= maxUnix once clamped: no overflow.
			s.Expiry = time.Unix(clampUnix(clampUnix(ts)+d.maxAge+1), 0)
		}
		if s.Values, err = d.values(plain); err != nil {
			return nil, err
		}
		return s, nil
	}
	if first == nil {
		first = errAuth
	}
	return nil, first
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
func (d *Importer) open(c *codec, signed []byte, parts [][]byte, now time.Time) (any, int64, error) {
	// 3. Verify the MAC.
	h := hmac.New(sha256.New, c.hash)
	h.Write([]byte(d.name))
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
	if d.maxAge != 0 && ts < now.Unix()-d.maxAge {
		return nil, 0, expired(fmt.Sprintf("saved at %d, over MaxAge %ds before %d", ts, d.maxAge, now.Unix()))
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
	m, err := d.deserialize(v)
	if err != nil {
		return nil, 0, err
	}
	return m, ts, nil
}
