package benchmarks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
)

// floor is the standard library floor: what a careful hand-written cookie
// store costs at the least. AES-256-GCM with a random nonce, encoding/json of
// a map[string]any and base64url, nothing else: no claims, no expiry, no key
// id, no name binding, no chunking.
type floor struct{ aead cipher.AEAD }

func newFloor() floor {
	block, err := aes.NewCipher(Secret32("floor"))
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return floor{aead}
}

var b64 = base64.RawURLEncoding

func (f floor) seal(v map[string]any) (string, error) {
	plaintext, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return f.sealBytes(plaintext), nil
}

func (f floor) open(s string) (map[string]any, error) {
	plaintext, err := f.openBytes(s)
	if err != nil {
		return nil, err
	}
	var v map[string]any
	return v, json.Unmarshal(plaintext, &v)
}

// sealBytes and openBytes are the "crypto only" floor: AES-256-GCM and
// base64url of bytes that are already the payload, no JSON at all.
func (f floor) sealBytes(plaintext []byte) string {
	out := make([]byte, 12, 12+len(plaintext)+16)
	if _, err := rand.Read(out); err != nil {
		panic(err)
	}
	out = f.aead.Seal(out, out[:12], plaintext, nil)
	return b64.EncodeToString(out)
}

func (f floor) openBytes(s string) ([]byte, error) {
	raw, err := b64.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(raw) < 12+16 {
		return nil, errors.New("floor: short value")
	}
	return f.aead.Open(raw[12:12], raw[:12], raw[12:], nil)
}
