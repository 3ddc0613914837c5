package cookiesession

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// A device proof is the JWT a DBSC browser sends in Secure-Session-Response:
// header {"alg":"ES256"|"RS256","typ":"dbsc+jwt"} plus, at registration, the
// public key as "jwk"; claims {"jti": challenge, …}; signed with the device's
// private key. go-jose parses and verifies it, with a one-algorithm
// allow-list at refresh (the sealed key's) and the configured ones at
// registration.

// proof is what a verified device proof says.
type proof struct {
	key string // the device key as sealed in "dk", without the binding id: ALG "." A "." B
	jti string
}

func proofErrorf(format string, args ...any) error {
	return &reasonError{ErrDeviceProof, fmt.Sprintf(format, args...), ""}
}

// verifyProof checks token, a compact JWS, and returns its key and challenge.
// dk is the sealed device key of a refresh ("" at registration, where the key
// comes from the "jwk" header). No error carries go-jose's text.
func verifyProof(token string, algs []string, dk string) (*proof, error) {
	switch {
	case token == "":
		return nil, proofErrorf("no %s header", headerResponse)
	case len(token) > MaxDeviceProofBytes:
		return nil, proofErrorf("proof of %d bytes over %d", len(token), MaxDeviceProofBytes)
	case strings.Count(token, ".") != 2 || badChar(token) >= 0:
		return nil, proofErrorf("proof is not a compact JWS")
	}
	// Canonical base64url only: go-jose's decoder would accept other
	// trailing bits for the same bytes.
	for seg := range strings.SplitSeq(token, ".") {
		if _, err := b64.DecodeString(seg); err != nil {
			return nil, proofErrorf("proof: non-canonical base64url")
		}
	}
	var sealed crypto.PublicKey
	if dk != "" {
		_, key, _ := strings.Cut(dk, ".")
		alg, pub, err := parseDeviceKey(key)
		if err != nil {
			return nil, err
		}
		algs, sealed = []string{alg}, pub
	}
	allowed := make([]jose.SignatureAlgorithm, len(algs))
	for i, a := range algs {
		allowed[i] = jose.SignatureAlgorithm(a)
	}
	jws, err := jose.ParseSignedCompact(token, allowed)
	if err != nil {
		return nil, proofErrorf("proof: malformed JWS or algorithm not allowed")
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dbsc+jwt" {
		return nil, proofErrorf("proof: typ is not dbsc+jwt")
	}
	var pub crypto.PublicKey
	switch {
	case h.JSONWebKey != nil:
		if !h.JSONWebKey.Valid() || !h.JSONWebKey.IsPublic() {
			return nil, proofErrorf("proof: jwk is not a valid public key")
		}
		pub = h.JSONWebKey.Key
		if sealed != nil && !publicKeyEqual(pub, sealed) {
			return nil, proofErrorf("proof: jwk is not the session's device key")
		}
	case sealed != nil:
		pub = sealed
	default:
		return nil, proofErrorf("proof: no jwk header at registration")
	}
	key, err := encodeDeviceKey(h.Algorithm, pub)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(pub)
	if err != nil {
		return nil, proofErrorf("proof: signature does not verify")
	}
	var claims struct {
		JTI string `json:"jti"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.JTI == "" {
		return nil, proofErrorf("proof: claims without a jti")
	}
	return &proof{key: key, jti: claims.JTI}, nil
}

func publicKeyEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// encodeDeviceKey returns the sealed form of a public key for alg, refusing
// keys of another type or size: a P-256 point for ES256, an RSA key of
// MinDeviceRSABits to MaxDeviceRSABits bits with a small odd exponent for
// RS256.
func encodeDeviceKey(alg string, pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if alg != "ES256" || k.Curve != elliptic.P256() {
			return "", proofErrorf("proof: EC key for %q is not a P-256 key for ES256", alg)
		}
		point, err := k.Bytes() // 0x04 || x || y
		if err != nil || len(point) != 65 {
			return "", proofErrorf("proof: EC key is not a valid P-256 point")
		}
		return "ES256." + b64.EncodeToString(point[1:33]) + "." + b64.EncodeToString(point[33:]), nil
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); alg != "RS256" || bits < MinDeviceRSABits || bits > MaxDeviceRSABits || k.E < 3 || k.E%2 == 0 {
			return "", proofErrorf("proof: RSA key for %q is not a %d to %d-bit key for RS256", alg, MinDeviceRSABits, MaxDeviceRSABits)
		}
		return "RS256." + b64.EncodeToString(k.N.Bytes()) + "." + b64.EncodeToString(big.NewInt(int64(k.E)).Bytes()), nil
	}
	return "", proofErrorf("proof: key type %T not allowed", pub)
}

// errDeviceKey reports a sealed device key that passed validDeviceKey's
// syntax but is no key: only a bug could seal one.
var errDeviceKey = &reasonError{ErrDeviceProof, "the sealed device key is malformed", ReasonPayload}

// parseDeviceKey reads ALG "." A "." B as encodeDeviceKey writes it.
func parseDeviceKey(key string) (alg string, pub crypto.PublicKey, err error) {
	alg, rest, _ := strings.Cut(key, ".")
	a, bb, ok := strings.Cut(rest, ".")
	if !ok {
		return "", nil, errDeviceKey
	}
	ab, err1 := b64.DecodeString(a)
	bb2, err2 := b64.DecodeString(bb)
	if err1 != nil || err2 != nil {
		return "", nil, errDeviceKey
	}
	switch alg {
	case "ES256":
		if len(ab) != 32 || len(bb2) != 32 {
			return "", nil, errDeviceKey
		}
		var point [65]byte
		point[0] = 4
		copy(point[1:], ab)
		copy(point[33:], bb2)
		k, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point[:])
		if err != nil {
			return "", nil, errDeviceKey
		}
		pub = k
	case "RS256":
		if len(bb2) == 0 || len(bb2) > 4 || bb2[0] == 0 || len(ab) == 0 || ab[0] == 0 {
			return "", nil, errDeviceKey
		}
		k := &rsa.PublicKey{N: new(big.Int).SetBytes(ab), E: int(new(big.Int).SetBytes(bb2).Int64())}
		if bits := k.N.BitLen(); bits < MinDeviceRSABits || bits > MaxDeviceRSABits || k.E < 3 || k.E%2 == 0 {
			return "", nil, errDeviceKey
		}
		pub = k
	default:
		return "", nil, errDeviceKey
	}
	return alg, pub, nil
}

// validDeviceKey reports whether dk has the syntax of a "dk" claim: binding
// id, algorithm and two base64url parts of plausible lengths. The key itself
// is checked when it is used.
func validDeviceKey(dk string) bool {
	parts := strings.Split(dk, ".")
	if len(parts) != 4 || !validSID(parts[0]) {
		return false
	}
	for _, p := range parts[2:] {
		if p == "" || len(p) > 1024 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if !isBase64URL(p[i]) {
				return false
			}
		}
	}
	return parts[1] == "ES256" || parts[1] == "RS256"
}
