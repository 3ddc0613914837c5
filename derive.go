package cookiesession

import (
	"encoding/json"

	"github.com/go-jose/go-jose/v4"
)

// ExportContentKeys writes, as a JWK Set, the content keys c derives from the
// keys of the ring in force: one "oct" key per master key, with the same
// "kid", primary first. In Encrypted mode each has "alg":"A256GCM" and
// "use":"enc" and is the key of JWE "dir" (the content encryption key
// itself); in Signed mode each has "alg":"HS256" and "use":"sig".
//
// It is how another language's stock JOSE library reads c's cookies without
// this package: join the chunks (see [ChunkName]; the first value of a split
// cookie starts with the count and "~"), pick the key by the header's "kid",
// allow only "dir" with "A256GCM" (or only "HS256"), then check the claims
// described on [Payload], expiry included.
//
// The output is secret. Each content key opens and forges every cookie of
// c's name, purpose and mode, for as long as its master key stays in the
// ring. It cannot open cookies of another name, purpose or mode, and the
// master key cannot be computed from it (HKDF is one-way). Keep it out of
// logs, as the key ring itself.
func (c *Codec) ExportContentKeys() ([]byte, error) {
	ring := c.cfg.Keys.KeyRing()
	if ring == nil || len(ring.keys) == 0 {
		return nil, errNoKeys
	}
	alg, use := "A256GCM", "enc"
	if c.cfg.Mode == Signed {
		alg, use = "HS256", "sig"
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(ring.keys))}
	for i, k := range ring.keys {
		set.Keys[i] = jose.JSONWebKey{
			Key:       deriveKey(k.bytes(), c.cfg.Mode, c.cfg.Purpose),
			KeyID:     k.id,
			Algorithm: alg,
			Use:       use,
		}
	}
	return json.MarshalIndent(set, "", "  ")
}
