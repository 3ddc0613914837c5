// Package forge writes gorilla securecookie values with a chosen date and
// IV, for the tests of the gorilla importer: expiry boundaries and hostile
// payloads under a valid MAC, which the real securecookie (whose clock and
// IV cannot be set) does not produce on demand.
package forge

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/gob"
)

// Cookie is securecookie.Encode with HMAC-SHA256: plain is the serialized
// session, date the date field (any text, so that malformed ones can be
// written), block the optional AES key, and iv its IV (16 bytes).
func Cookie(name, date string, hash, block, iv, plain []byte) string {
	v := append([]byte(nil), plain...)
	if block != nil {
		c, err := aes.NewCipher(block)
		if err != nil {
			panic(err)
		}
		cipher.NewCTR(c, iv).XORKeyStream(v, v)
		v = append(append([]byte(nil), iv...), v...)
	}
	b := []byte(name + "|" + date + "|" + base64.URLEncoding.EncodeToString(v) + "|")
	h := hmac.New(sha256.New, hash)
	h.Write(b[:len(b)-1])
	b = append(b, h.Sum(nil)...)[len(name)+1:]
	return base64.URLEncoding.EncodeToString(b)
}

// Gob is securecookie.GobEncoder's Serialize: the gob of v, a gorilla
// session's Values when v is a map[interface{}]interface{}.
func Gob(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
