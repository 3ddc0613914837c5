// Package gorilla opens the session cookies of gorilla/sessions' CookieStore
// (github.com/gorilla/sessions v1.4.0 over github.com/gorilla/securecookie
// v1.1.2), so that an application moving to cookiesession logs nobody out:
// the first response re-seals the gorilla session in the cookiesession format
// and expires the gorilla cookie. Add an [Importer] to
// cookiesession.Config.Importers with the store's cookie name and key pairs:
//
//	fromGorilla, err := gorilla.New(gorilla.Config{
//		Name:     "app", // store.Get(r, "app")
//		KeyPairs: []gorilla.KeyPair{{Hash: hashKey, Block: blockKey}},
//	})
//
// It uses the standard library only: an application never downloads gorilla
// to import its sessions. It does what securecookie's DecodeMulti does with
// the codecs of sessions.NewCookieStore(keyPairs...), step by step and in the
// same order, and refuses what gorilla refuses:
//
//  1. a value longer than [Config.MaxLength] (securecookie's 4096 bytes);
//  2. a value that is not padded URL base64;
//  3. a value that is not "date|value|mac", or whose HMAC-SHA256 over
//     "name|date|value" does not match under any hash key (compared in
//     constant time);
//  4. a date that is not a decimal integer, or older than [Config.MaxAge]
//     (30 days, NewCookieStore's default);
//  5. a value that does not decrypt (AES-CTR under the pair's block key,
//     when the pair has one: 16, 24 or 32 bytes);
//  6. a value that does not deserialize (gob by default, or JSON).
//
// Key pairs are tried in order, as gorilla tries its codecs: a failure at
// any step under one pair moves on to the next.
//
// # Values
//
// Gorilla's values are a map[interface{}]interface{}; cookiesession's are JSON
// values under string names. A gob session is decoded with encoding/gob into
// that map, exactly as gorilla decodes it, so every type a value holds must
// be registered with gob.Register in the importing program, as it was in the
// gorilla application (the registration calls stay until the migration
// ends). Each value then becomes what encoding/json makes of it, which
// cookiesession.Get[T] reads back into the same type. A session with a key
// that is not a string, or with a value that encoding/json refuses (a
// channel, a NaN, a map with interface{} keys), is refused as a whole with
// an error matching cookiesession.ErrInvalid that names the key and the
// type: an import never loses a value silently, and never costs a 500. A
// type whose state gob carries only through GobEncode or MarshalBinary, with
// no exported field and no MarshalJSON or MarshalText, would arrive as {}:
// give such a type MarshalJSON and UnmarshalJSON before migrating.
//
// Flash messages ("_flash", a []interface{}) become a JSON array under the
// same name, which is where cookiesession keeps its own: string messages
// come back from Session.Flashes.
//
// With the JSON serializer (securecookie.JSONEncoder), the value must be a
// JSON object; its members become the values. gorilla/sessions itself
// cannot save a session with that serializer (encoding/json has no
// map[interface{}]interface{}), so JSON cookies come from applications that
// call securecookie directly with a map or a struct.
//
// # Time
//
// Gorilla stamps a cookie with the time of its last save and accepts it for
// MaxAge seconds from then. The import keeps that stamp as the session's
// issue time (never later than now) and gorilla's limit as its expiry: an
// imported session ends when gorilla would have refused its cookie, or
// earlier under cookiesession's own Lifetime, never later.
//
// # Security properties
//
//   - Nothing of the cookie is decrypted or deserialized before its HMAC
//     matches under a hash key, compared in constant time; only the length
//     and the base64 are checked before. gob therefore only reads what a
//     holder of a hash key wrote.
//   - gorilla's weaknesses are its own and stay until the migration ends: a
//     cookie replays until MaxAge, the date is not bound to an expiry the
//     browser saw, AES-CTR is not authenticated by itself (the HMAC covers it).
//   - The keys never appear in errors, String or any fmt verb.
package gorilla

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/gob"
	"fmt"
	"time"
)

// Default values of [Config].
const (
	// DefaultMaxAge is NewCookieStore's MaxAge: 30 days.
	DefaultMaxAge = 30 * 24 * time.Hour

	// DefaultMaxLength is securecookie's limit on an encoded value.
	DefaultMaxLength = 4096
)

// Serializer is how the gorilla application serialized its values.
type Serializer uint8

const (
	Gob  Serializer = iota // securecookie.GobEncoder, gorilla's default
	JSON                   // securecookie.JSONEncoder
)

// KeyPair is one pair of NewCookieStore's arguments.
type KeyPair struct {
	// Hash is the authentication key (HMAC-SHA256). Required.
	Hash []byte
	// Block is the encryption key, 16, 24 or 32 bytes (AES-128, AES-192,
	// AES-256), or nil when the pair has none.
	Block []byte
}

// Config describes the gorilla CookieStore whose cookies to import.
type Config struct {
	// Name is the cookie name, the one the application passed to
	// store.Get(r, name). Required.
	Name string

	// KeyPairs are NewCookieStore's arguments, in the same order: tried in
	// that order, as gorilla tries them. Required.
	KeyPairs []KeyPair

	// MaxAge is how long after its last save gorilla accepts a cookie: the
	// argument of store.MaxAge, in seconds there. A negative value disables
	// the check, as store.MaxAge(0) does. It must be a whole number of
	// seconds. The default value is 30 days (DefaultMaxAge).
	MaxAge time.Duration

	// Serializer is Gob or JSON. The default value is Gob, gorilla's.
	Serializer Serializer

	// MaxLength bounds the cookie value, as securecookie's MaxLength. The
	// default value is 4096 (DefaultMaxLength), which CookieStore keeps.
	MaxLength int
}

// An Importer opens gorilla session cookies of one configuration. It is safe
// for concurrent use; create it with [New].
type Importer struct {
	name       string
	codecs     []codec
	maxAge     int64 // seconds; 0: no check
	serializer Serializer
	maxLength  int
}

// codec is one key pair, as securecookie.New makes it.
type codec struct {
	hash  []byte
	block cipher.Block // nil without a block key
}

func init() {
	// gorilla/sessions registers the type of its flash queue; a program
	// that imports without linking gorilla needs it too.
	gob.Register([]interface{}{})
}

// New validates cfg and returns an Importer. A mistake is an error wrapping
// cookiesession.ErrConfig: no name, no key pair, an empty hash key, a block
// key of another length than 16, 24 or 32 bytes (gorilla would refuse every
// cookie under that pair), a MaxAge that is not whole seconds.
func New(cfg Config) (*Importer, error) {
	if cfg.Name == "" {
		return nil, configError("no cookie name")
	}
	if len(cfg.KeyPairs) == 0 {
		return nil, configError("no key pair")
	}
	im := &Importer{name: cfg.Name, serializer: cfg.Serializer, maxLength: cfg.MaxLength}
	for i, p := range cfg.KeyPairs {
		if len(p.Hash) == 0 {
			return nil, configError(fmt.Sprintf("key pair %d has no hash key", i+1))
		}
		c := codec{hash: append([]byte(nil), p.Hash...)}
		if p.Block != nil {
			block, err := aes.NewCipher(p.Block)
			if err != nil {
				return nil, configError(fmt.Sprintf("key pair %d: the block key has %d bytes, not 16, 24 or 32", i+1, len(p.Block)))
			}
			c.block = block
		}
		im.codecs = append(im.codecs, c)
	}
	switch {
	case cfg.MaxAge == 0:
		im.maxAge = int64(DefaultMaxAge / time.Second)
	case cfg.MaxAge < 0:
		im.maxAge = 0
	case cfg.MaxAge%time.Second != 0:
		return nil, configError(fmt.Sprintf("MaxAge %v is not a whole number of seconds", cfg.MaxAge))
	default:
		im.maxAge = int64(cfg.MaxAge / time.Second)
	}
	if cfg.Serializer > JSON {
		return nil, configError(fmt.Sprintf("unknown serializer %d", cfg.Serializer))
	}
	switch {
	case im.maxLength == 0:
		im.maxLength = DefaultMaxLength
	case im.maxLength < 0:
		return nil, configError(fmt.Sprintf("MaxLength %d is negative", cfg.MaxLength))
	}
	return im, nil
}

// Name returns the cookie name the importer reads.
func (d *Importer) Name() string { return d.name }

// String describes the importer without its keys.
func (im Importer) String() string {
	s := "gob"
	if im.serializer == JSON {
		s = "json"
	}
	return fmt.Sprintf("gorilla.Importer{Name: %q, KeyPairs: %d, MaxAge: %ds, Serializer: %s}", im.name, len(im.codecs), im.maxAge, s)
}

// GoString is String, so that %#v prints no key either.
func (im Importer) GoString() string { return im.String() }
