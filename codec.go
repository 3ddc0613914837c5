package cookiesession

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cookiesession/cookiesession/internal/deflate"
)

// The v1 wire format. A sealed value is one of:
//
//	encrypted: BASE64URL(header) "." "" "." BASE64URL(iv) "." BASE64URL(ciphertext) "." BASE64URL(tag)
//	           header {"alg":"dir","enc":"A256GCM","kid":KID} or, compressed,
//	                  {"alg":"dir","enc":"A256GCM","kid":KID,"zip":"DEF"}
//	signed:    BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(HMAC-SHA256)
//	           header {"alg":"HS256","kid":KID}
//
// that is, JWE (RFC 7516) and JWS (RFC 7515) compact serializations, base64url
// without padding, headers with no white space and members in that order (the
// order go-jose writes). The content key is derived from the key KID of the
// ring, see deriveKey. The payload is described on [Payload]. When compressed
// it is raw DEFLATE (RFC 1951) before encryption.
//
// When opening, the header must be exactly one of the headers above for a key
// of the ring: any other algorithm, any other member ("crit", "jwk", "jku",
// "x5u", "b64", "cty", …), other white space or member order is refused before
// any cryptography. Because base64url without padding is canonical once
// trailing bits are checked, comparing the encoded header with the ones this
// package writes is comparing the header bytes.

var (
	b64 = base64.RawURLEncoding.Strict()

	// notAllowed is 1 for the bytes a sealed value may not contain.
	notAllowed = func() (t [256]uint8) {
		for c := 0; c < 256; c++ {
			if !isBase64URL(byte(c)) && c != '.' {
				t[c] = 1
			}
		}
		return t
	}()
)

const (
	ivSize  = 12 // A256GCM nonce (RFC 7518 section 5.3)
	tagSize = 16 // A256GCM tag
	macSize = sha256.Size
)

// CodecConfig configures a [Codec]. Name and Keys are required; the zero value
// of every other field is its default.
type CodecConfig struct {
	// Name is the cookie name: chunks are Name, Name.1, Name.2, ….
	Name string

	// Purpose is bound into the content keys: a value sealed for one purpose
	// never opens under another. The default value is Name, so a cookie
	// cannot be moved to another name. Give two applications that share a
	// ring and a cookie name different purposes.
	Purpose string

	// Keys gives the key ring. Required.
	Keys KeySource

	// Mode is Encrypted (the default value) or Signed.
	Mode Mode

	// Compress enables DEFLATE of a payload of at least MinCompressBytes when
	// it makes the sealed value shorter. It is off by default: when secret values and values an attacker
	// chooses share a cookie, compression leaks the secrets through the
	// cookie's length (as CRIME and BREACH did). It needs Encrypted mode.
	Compress bool

	// Limits are the size and time bounds; see [Limits].
	Limits Limits

	// Lifetime is the absolute lifetime of a session, from issued-at. Opening
	// also enforces it, so shortening it takes effect on cookies already
	// out. The default value is DefaultLifetime (24h); at most MaxLifetime.
	Lifetime time.Duration

	// RememberLifetime is the absolute lifetime, from issued-at, of a session
	// whose payload chose remember-me ("rm":true, see [Session.RememberMe]):
	// "keep me signed in for 30 days" next to a short Lifetime. Opening
	// enforces it from the sealed claim as it enforces Lifetime, so a client
	// cannot move its session from one to the other. IdleTimeout still
	// applies to such sessions. The default value is Lifetime; at most
	// MaxLifetime.
	RememberLifetime time.Duration

	// IdleTimeout, when positive, ends a session that saw no activity for
	// that long, counted from its last-activity claim. The default value is 0:
	// no idle timeout.
	IdleTimeout time.Duration

	// NotBefore, when not zero, invalidates every session issued before it
	// ([ErrExpired]), without touching keys: set it to now to log everybody out.
	NotBefore time.Time
}

// A Codec seals session payloads into cookie values and opens them again, for
// one cookie name, purpose and mode. It is safe for concurrent use. Content
// keys and their ciphers are built once per ring (again only when the
// [KeySource] returns a new ring), never per call. A value it seals without
// compression because its compressor failed (a bug) is logged with log/slog,
// as the default Config.ErrorLog logs; a Manager's codec reports it through
// the Manager's ErrorLog.
type Codec struct {
	cfg     CodecConfig
	names   [MaxChunksLimit]string
	derived atomic.Pointer[derivedRing]

	// errorLog reports what the application should know but no call
	// returns: a value sealed without compression because the compressor
	// failed. It is the default Config.ErrorLog, or the Manager's.
	errorLog func(r *http.Request, err error)
}

// derivedRing holds the content keys of one ring for the codec's mode and
// purpose, indexed by the exact encoded header they accept.
type derivedRing struct {
	ring     *KeyRing
	primary  *contentKey
	byHeader map[string]headerEntry
	byKid    map[string]*contentKey
}

type headerEntry struct {
	key *contentKey
	zip bool
}

type contentKey struct {
	kid     string
	primary bool
	header  string // encoded header, no compression
	zHeader string // encoded header with "zip":"DEF" (encrypted mode)
	aead    cipher.AEAD
	macKey  []byte
	macs    sync.Pool // of *macState (HMAC-SHA256 keyed with macKey)
}

// NewCodec validates cfg and returns a codec. Errors wrap [ErrConfig].
func NewCodec(cfg CodecConfig) (*Codec, error) {
	if err := checkCookieName(cfg.Name); err != nil {
		return nil, err
	}
	if cfg.Purpose == "" {
		cfg.Purpose = cfg.Name
	}
	if cfg.Keys == nil {
		return nil, configErrorf("no key ring (Keys is nil)")
	}
	if ring := cfg.Keys.KeyRing(); ring == nil || len(ring.keys) == 0 {
		return nil, configErrorf("the key ring has no keys (make one with ParseKeyRing, NewKeyRing or GenerateKey)")
	}
	if cfg.Mode != Encrypted && cfg.Mode != Signed {
		return nil, configErrorf("unknown mode %v", cfg.Mode)
	}
	if cfg.Compress && cfg.Mode != Encrypted {
		return nil, configErrorf("Compress needs Encrypted mode (JWS has no compression)")
	}
	var err error
	if cfg.Limits, err = cfg.Limits.withDefaults(); err != nil {
		return nil, err
	}
	switch {
	case cfg.Lifetime == 0:
		cfg.Lifetime = DefaultLifetime
	case cfg.Lifetime < time.Second || cfg.Lifetime > MaxLifetime:
		return nil, configErrorf("Lifetime %s is outside 1 second..%s", durationText(cfg.Lifetime), durationText(MaxLifetime))
	}
	switch {
	case cfg.RememberLifetime == 0:
		cfg.RememberLifetime = cfg.Lifetime
	case cfg.RememberLifetime < time.Second || cfg.RememberLifetime > MaxLifetime:
		return nil, configErrorf("RememberLifetime %s is outside 1 second..%s", durationText(cfg.RememberLifetime), durationText(MaxLifetime))
	}
	if cfg.IdleTimeout < 0 || cfg.IdleTimeout > cfg.Lifetime {
		return nil, configErrorf("IdleTimeout %s is outside 0..Lifetime (%s)", durationText(cfg.IdleTimeout), durationText(cfg.Lifetime))
	}
	if cfg.IdleTimeout > 0 && cfg.IdleTimeout < time.Second {
		return nil, configErrorf("IdleTimeout %s is under one second", durationText(cfg.IdleTimeout))
	}
	c := &Codec{cfg: cfg, errorLog: logError}
	for i := range c.names {
		c.names[i] = ChunkName(cfg.Name, i)
	}
	c.keys() // derive now, so the first request does not pay for it
	return c, nil
}

// checkCookieName refuses names that are not an RFC 6265 token or that would
// collide with the chunk names of another cookie.
func checkCookieName(name string) error {
	if name == "" {
		return configErrorf("cookie name is empty")
	}
	if len(name) > 128 {
		return configErrorf("cookie name longer than 128 bytes")
	}
	if i := nonToken(name); i >= 0 {
		return configErrorf("cookie name %q: character %q not allowed", name, name[i])
	}
	if strings.Contains(name, ".") {
		return configErrorf("cookie name %q: character '.' not allowed (chunks are name.1, name.2, …)", name)
	}
	return nil
}

// nonToken returns the index of the first byte of s not allowed in an RFC
// 6265 cookie name (an RFC 2616 token), or -1.
func nonToken(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return i
		}
	}
	return -1
}

// Config returns the codec's configuration with defaults filled in.
func (c *Codec) Config() CodecConfig { return c.cfg }

// keys returns the content keys of the ring in force, deriving them when the
// ring changed.
// It returns nil when the source gives no ring or an empty one (a custom
// KeySource gone wrong): nothing is sealed or opened then.
func (c *Codec) keys() *derivedRing {
	ring := c.cfg.Keys.KeyRing()
	if d := c.derived.Load(); d != nil && d.ring == ring {
		return d
	}
	if ring == nil || len(ring.keys) == 0 {
		return nil
	}
	d := deriveRing(ring, c.cfg.Mode, c.cfg.Purpose)
	c.derived.Store(d)
	return d
}

func deriveRing(ring *KeyRing, mode Mode, purpose string) *derivedRing {
	d := &derivedRing{
		ring:     ring,
		byHeader: make(map[string]headerEntry, 2*len(ring.keys)),
		byKid:    make(map[string]*contentKey, len(ring.keys)),
	}
	for i, k := range ring.keys {
		ck := &contentKey{kid: k.id, primary: i == 0}
		secret := deriveKey(k.bytes(), mode, purpose)
		if mode == Signed {
			ck.header = b64.EncodeToString([]byte(`{"alg":"HS256","kid":"` + k.id + `"}`))
			ck.macKey = secret
			ck.macs.New = func() any { return &macState{h: hmac.New(sha256.New, ck.macKey)} }
		} else {
			ck.header = b64.EncodeToString([]byte(`{"alg":"dir","enc":"A256GCM","kid":"` + k.id + `"}`))
			ck.zHeader = b64.EncodeToString([]byte(`{"alg":"dir","enc":"A256GCM","kid":"` + k.id + `","zip":"DEF"}`))
			block, err := aes.NewCipher(secret)
			if err != nil {
				panic("cookiesession: " + err.Error()) // 32-byte key: cannot happen
			}
			if ck.aead, err = cipher.NewGCM(block); err != nil {
				panic("cookiesession: " + err.Error())
			}
			d.byHeader[ck.zHeader] = headerEntry{ck, true}
		}
		d.byHeader[ck.header] = headerEntry{ck, false}
		d.byKid[k.id] = ck
		if i == 0 {
			d.primary = ck
		}
	}
	return d
}

// Seal returns the sealed value of p with the primary key of the ring in
// force. It returns a *SizeError when the payload is over MaxPlaintextBytes,
// and an error matching [ErrBadValue] for a value that would not open again:
// one that is not valid JSON, nested deeper than MaxNesting, or under a name
// that is not valid UTF-8. Seal does not check the cookie budget:
// [Codec.Encode] does.
func (c *Codec) Seal(p *Payload) (string, error) {
	var onStack [32]member
	ms := sortedMembers(p.Values, onStack[:0])
	for _, m := range ms {
		if err := checkValue(m.name, m.value); err != nil {
			return "", err
		}
	}
	out, err := c.appendSeal(nil, p, ms)
	if err != nil {
		return "", err
	}
	return unsafe.String(unsafe.SliceData(out), len(out)), nil
}

// appendSeal appends to dst the sealed value of p's claims and of ms, whose
// values have passed checkValue.
func (c *Codec) appendSeal(dst []byte, p *Payload, ms members) ([]byte, error) {
	if !validSID(p.ID) {
		return dst, errors.New("cookiesession: Seal: payload ID is not 1 to 64 base64url characters")
	}
	if p.Subject != "" && !validSubject(p.Subject) {
		return dst, fmt.Errorf("cookiesession: Seal: subject is not 1 to %d bytes of UTF-8", MaxSubjectBytes)
	}
	if p.DeviceKey != "" && !validDeviceKey(p.DeviceKey) {
		return dst, errors.New("cookiesession: Seal: payload DeviceKey is not a device key claim")
	}
	buf := getBuffer()
	defer putBuffer(buf)
	buf.b = writePayload(buf.b[:0], p, ms)
	if len(buf.b) > MaxPlaintextBytes {
		return dst, &SizeError{What: "plaintext", Size: len(buf.b), Budget: MaxPlaintextBytes}
	}
	return c.appendSealed(dst, buf.b)
}

// appendSealed is the JOSE layer of Seal: it appends to dst the payload's
// JSON signed, or compressed and encrypted, with the primary key. dst grows
// once, to the longest value payload can seal to.
func (c *Codec) appendSealed(dst, payload []byte) ([]byte, error) {
	d := c.keys()
	if d == nil {
		return dst, errNoKeys
	}
	key := d.primary
	if c.cfg.Mode == Signed {
		dst = slices.Grow(dst, len(key.header)+2+b64.EncodedLen(len(payload))+b64.EncodedLen(macSize))
		return key.appendSigned(dst, payload), nil
	}
	dst = slices.Grow(dst, len(key.zHeader)+4+b64.EncodedLen(ivSize)+b64.EncodedLen(len(payload))+b64.EncodedLen(tagSize))
	header, plaintext := key.header, payload
	if c.cfg.Compress && len(payload) >= MinCompressBytes {
		zbuf := getBuffer()
		defer putBuffer(zbuf)
		// Compress only when the sealed value gets shorter, the longer
		// header with "zip" included.
		var err error
		zbuf.b, err = compressor(zbuf.b[:0], payload)
		if err != nil {
			// Sealed as it is: larger, but as valid, and not worth the
			// request.
			c.errorLog(nil, fmt.Errorf("cookiesession: sealed without compression: %w", err))
		} else if len(key.zHeader)+b64.EncodedLen(len(zbuf.b)) < len(key.header)+b64.EncodedLen(len(payload)) {
			header, plaintext = key.zHeader, zbuf.b
		}
	}
	return key.appendEncrypted(dst, header, plaintext), nil
}

// appendEncrypted appends the JWE compact serialization of plaintext under
// header.
func (k *contentKey) appendEncrypted(out []byte, header string, plaintext []byte) []byte {
	ctBuf := getBuffer()
	defer putBuffer(ctBuf)
	// The nonce goes first in the pooled buffer, the ciphertext after it: an
	// array handed to the cipher.AEAD interface would escape to the heap.
	ctBuf.b = slices.Grow(ctBuf.b[:0], ivSize+len(plaintext)+tagSize)
	iv := ctBuf.b[:ivSize]
	if _, err := rand.Read(iv); err != nil {
		panic("cookiesession: crypto/rand: " + err.Error())
	}
	sealed := k.aead.Seal(ctBuf.b[ivSize:ivSize], iv, plaintext, unsafe.Slice(unsafe.StringData(header), len(header)))
	ct, tag := sealed[:len(sealed)-tagSize], sealed[len(sealed)-tagSize:]
	out = append(out, header...)
	out = append(out, ".."...) // empty encrypted key for alg dir
	out = b64.AppendEncode(out, iv)
	out = append(out, '.')
	out = b64.AppendEncode(out, ct)
	out = append(out, '.')
	return b64.AppendEncode(out, tag)
}

// appendSigned appends the JWS compact serialization of payload.
func (k *contentKey) appendSigned(out, payload []byte) []byte {
	start := len(out)
	out = append(out, k.header...)
	out = append(out, '.')
	out = b64.AppendEncode(out, payload)
	mac := k.mac(out[start:])
	out = append(out, '.')
	return b64.AppendEncode(out, mac[:])
}

func (k *contentKey) mac(signingInput []byte) (sum [macSize]byte) {
	m := k.macs.Get().(*macState)
	m.h.Reset()
	m.h.Write(signingInput)
	// Summed into the pooled state: a local array handed to the hash.Hash
	// interface would escape to the heap.
	copy(sum[:], m.h.Sum(m.sum[:0]))
	k.macs.Put(m)
	return sum
}

// macState is a pooled HMAC with room for its sum.
type macState struct {
	h   hash.Hash
	sum [macSize]byte
}

// OpenInfo describes how a sealed value was opened.
type OpenInfo struct {
	KeyID      string // kid of the key that opened it
	Primary    bool   // whether that key is the ring's primary; if not, re-seal
	Compressed bool   // whether the payload was DEFLATE-compressed
	Bytes      int    // length of the sealed value
	Chunks     int    // cookies it came in (set by Decode)
}

// Open checks and opens a sealed value, then checks its claims against now.
// Every failure wraps [ErrInvalid] or, for a value that was authentic but is
// past its time, [ErrExpired]; nothing else is ever returned. Authentication
// failures of every kind (bits flipped, truncation, another key, name or mode)
// are one indistinguishable error. The checks run in this order, cheapest and
// least trusting first:
//
//  1. length within the header budget, bytes only from base64url and ".";
//  2. the number of segments and the length of each fixed-size one;
//  3. the header equal to one this package writes for a key of the ring;
//  4. canonical base64url decoding of the rest;
//  5. the AES-256-GCM tag or the HMAC-SHA256, in constant time;
//  6. inflation, capped at MaxPlaintextBytes;
//  7. the payload's JSON and claims (see [Payload]);
//  8. time: not before NotBefore, not issued in the future beyond the clock
//     skew, not past expiry, lifetime or idle timeout.
func (c *Codec) Open(sealed string, now time.Time) (*Payload, OpenInfo, error) {
	p := new(Payload)
	ms, info, err := c.openMembers(sealed, now, p)
	if err != nil {
		return nil, info, err
	}
	p.Values = ms.toMap()
	return p, info, nil
}

// openMembers is Open into the caller's p, with the values as members,
// p.Values left nil. On error p holds nothing of use.
func (c *Codec) openMembers(sealed string, now time.Time, p *Payload) (members, OpenInfo, error) {
	info := OpenInfo{Bytes: len(sealed)}
	plaintext, err := c.open(sealed, &info)
	if err != nil {
		return nil, info, withKind(err, ReasonFormat)
	}
	ms, err := parsePayload(plaintext, p)
	if err != nil {
		return nil, info, withKind(err, ReasonPayload)
	}
	if err := c.checkTime(p, now); err != nil {
		return nil, info, err // an expired payload is never handed out
	}
	return ms, info, nil
}

func (c *Codec) open(sealed string, info *OpenInfo) ([]byte, error) {
	if len(sealed) > c.cfg.Limits.HeaderBudget {
		return nil, invalidf("sealed value of %d bytes over budget", len(sealed))
	}
	plaintext, err := c.openChecked(sealed, info)
	if err != nil {
		// A byte outside base64url and "." is reported as such, whatever
		// step refused the value. It is looked for only once a value failed:
		// the header comparison and the strict decoding (decodeSegment)
		// refuse every such byte on their own, so a clean value is not
		// scanned twice.
		if i := badChar(sealed); i >= 0 {
			*info = OpenInfo{Bytes: info.Bytes}
			return nil, invalidf("byte %#02x outside base64url", sealed[i])
		}
	}
	return plaintext, err
}

// decodeSegment decodes the base64url segment seg into dst, which has room
// for b64.DecodedLen(len(seg)) bytes. Beyond b64's own checks (alphabet,
// zero trailing bits) it refuses a length no encoder writes and the "\r" and
// "\n" that encoding/base64 skips: with either, fewer bytes come out than the
// length promises.
func decodeSegment(dst []byte, seg string) (int, bool) {
	if len(seg)%4 == 1 {
		return 0, false
	}
	n, err := b64.Decode(dst, unsafe.Slice(unsafe.StringData(seg), len(seg)))
	return n, err == nil && n == b64.DecodedLen(len(seg))
}

// openChecked is open for a value within the budget.
func (c *Codec) openChecked(sealed string, info *OpenInfo) ([]byte, error) {
	var dots [5]int
	ndots := 0
	for i := 0; ; ndots++ {
		j := strings.IndexByte(sealed[i:], '.')
		if j < 0 {
			break
		}
		if ndots == len(dots) {
			return nil, invalidf("too many segments")
		}
		dots[ndots] = i + j
		i += j + 1
	}
	want := 4
	if c.cfg.Mode == Signed {
		want = 2
	}
	if ndots != want {
		return nil, invalidf("%d segments, want %d", ndots+1, want+1)
	}
	d := c.keys()
	if d == nil {
		return nil, invalidf("no key ring in force")
	}
	header := sealed[:dots[0]]
	// The primary key's header, by far the most common, without hashing it.
	entry, ok := headerEntry{d.primary, false}, header == d.primary.header
	if !ok {
		entry, ok = d.byHeader[header]
	}
	if !ok {
		return nil, c.headerError(d, header)
	}
	info.KeyID, info.Primary, info.Compressed = entry.key.kid, entry.key.primary, entry.zip
	if c.cfg.Mode == Signed {
		return entry.key.verify(sealed, dots[0], dots[1])
	}
	if !entry.zip {
		return entry.key.decrypt(nil, sealed, header, dots)
	}
	// A compressed payload is decrypted into a pooled buffer, inflated into
	// another and copied out: one allocation, the payload's own.
	zbuf := getBuffer()
	defer putBuffer(zbuf)
	zbuf.b = slices.Grow(zbuf.b[:0], len(sealed)) // longer than what it decodes to
	compressed, err := entry.key.decrypt(zbuf.b, sealed, header, dots)
	if err != nil {
		return nil, err
	}
	plaintext, err := inflate(compressed)
	return plaintext, withKind(err, ReasonPayload) // authentic, yet not inflating
}

// badChar returns the index of the first byte of s outside base64url and
// ".", or -1. A clean value, the common case, is checked eight bytes a step
// without a branch per byte.
func badChar(s string) int {
	var bad uint8
	for i := 0; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		bad |= notAllowed[w[0]] | notAllowed[w[1]] | notAllowed[w[2]] | notAllowed[w[3]] |
			notAllowed[w[4]] | notAllowed[w[5]] | notAllowed[w[6]] | notAllowed[w[7]]
	}
	for i := len(s) &^ 7; i < len(s); i++ {
		bad |= notAllowed[s[i]]
	}
	if bad == 0 {
		return -1
	}
	for i := 0; i < len(s); i++ {
		if notAllowed[s[i]] != 0 {
			return i
		}
	}
	return -1
}

// headerError says why a header was refused, for the logs: an unknown key id
// is worth telling apart, since it is what a retired key looks like.
func (c *Codec) headerError(d *derivedRing, header string) error {
	if len(header) > 512 {
		return invalidf("header not of this package's format")
	}
	raw, err := b64.DecodeString(header)
	if err != nil {
		return invalidf("header not base64url")
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return invalidf("header not JSON")
	}
	if _, known := d.byKid[h.Kid]; !known && checkKid(h.Kid) == nil {
		return kindInvalidf(ReasonUnknownKey, "unknown key id %q", h.Kid)
	}
	return invalidf("header not of this package's format (%s mode)", c.cfg.Mode)
}

// decrypt opens the JWE segments of sealed into buf's storage when it has
// room, a new allocation otherwise.
func (k *contentKey) decrypt(buf []byte, sealed, header string, dots [5]int) ([]byte, error) {
	if dots[1] != dots[0]+1 {
		return nil, invalidf("encrypted key not empty for alg dir")
	}
	ivB64 := sealed[dots[1]+1 : dots[2]]
	ctB64 := sealed[dots[2]+1 : dots[3]]
	tagB64 := sealed[dots[3]+1:]
	if len(ivB64) != b64.EncodedLen(ivSize) || len(tagB64) != b64.EncodedLen(tagSize) {
		return nil, errAuth
	}
	// One buffer: the nonce, then the ciphertext and tag, opened in place.
	// (An array for the nonce would escape through the cipher.AEAD interface.)
	if need := ivSize + b64.DecodedLen(len(ctB64)) + tagSize; cap(buf) >= need {
		buf = buf[:need]
	} else {
		buf = make([]byte, need)
	}
	iv, buf := buf[:ivSize], buf[ivSize:]
	if _, ok := decodeSegment(iv, ivB64); !ok {
		return nil, errAuth
	}
	n, ok := decodeSegment(buf, ctB64)
	if !ok {
		return nil, errAuth
	}
	if _, ok := decodeSegment(buf[n:], tagB64); !ok {
		return nil, errAuth
	}
	buf = buf[:n+tagSize]
	plaintext, err := k.aead.Open(buf[:0], iv, buf, unsafe.Slice(unsafe.StringData(header), len(header)))
	if err != nil {
		return nil, errAuth
	}
	return plaintext, nil
}

func (k *contentKey) verify(sealed string, dot1, dot2 int) ([]byte, error) {
	sigB64 := sealed[dot2+1:]
	if len(sigB64) != b64.EncodedLen(macSize) {
		return nil, errAuth
	}
	var sig [macSize]byte
	if _, ok := decodeSegment(sig[:], sigB64); !ok {
		return nil, errAuth
	}
	mac := k.mac(unsafe.Slice(unsafe.StringData(sealed), dot2))
	if !hmac.Equal(mac[:], sig[:]) {
		return nil, errAuth
	}
	payloadB64 := sealed[dot1+1 : dot2]
	payload := make([]byte, b64.DecodedLen(len(payloadB64)))
	if _, ok := decodeSegment(payload, payloadB64); !ok {
		// Authentic but not canonical: this package never writes it.
		return nil, invalidf("payload not canonical base64url")
	}
	return payload, nil
}

// checkTime applies the time rules of Open to an authentic payload.
func (c *Codec) checkTime(p *Payload, now time.Time) error {
	t := now.Unix()
	skew := int64(c.cfg.Limits.ClockSkew / time.Second)
	iat, lat, exp := p.IssuedAt.Unix(), p.LastActivity.Unix(), p.Expiry.Unix()
	switch {
	case iat > t+skew:
		return kindInvalidf(ReasonFuture, "issued %ds in the future, beyond the clock skew", iat-t)
	case lat > t+skew:
		return kindInvalidf(ReasonFuture, "last activity %ds in the future, beyond the clock skew", lat-t)
	case !c.cfg.NotBefore.IsZero() && iat < ceilUnix(c.cfg.NotBefore):
		return expiredf(ReasonNotBefore, "issued before the not-before instant")
	case t >= exp:
		// The sealed expiry is the sooner of the two bounds: say which.
		kind := ReasonLifetime
		if c.cfg.IdleTimeout > 0 && exp == lat+int64(c.cfg.IdleTimeout/time.Second) {
			kind = ReasonIdle
		}
		return expiredf(kind, "expired %ds ago", t-exp)
	case t >= iat+int64(c.lifetime(p.RememberMe)/time.Second):
		return expiredf(ReasonLifetime, "past the absolute lifetime")
	case c.cfg.IdleTimeout > 0 && t >= lat+int64(c.cfg.IdleTimeout/time.Second):
		return expiredf(ReasonIdle, "idle for %ds", t-lat)
	}
	return nil
}

// errNoKeys is what Seal returns when the KeySource gives no key.
var errNoKeys = &reasonError{ErrConfig, "the key source gives no key: nothing can be sealed", "no-keys"}

// ceilUnix returns t in Unix seconds, rounded up: issued-at is whole seconds,
// so a session issued in the same second as NotBefore but before it is caught.
func ceilUnix(t time.Time) int64 {
	if t.Nanosecond() > 0 {
		return t.Unix() + 1
	}
	return t.Unix()
}

// Expiry returns the expiry claim for a session issued at iat and last active
// at lat that did not choose remember-me: the sooner of iat + Lifetime and
// lat + IdleTimeout (when set). [Codec.ExpiryOf] covers every session.
func (c *Codec) Expiry(iat, lat time.Time) time.Time {
	return c.ExpiryOf(iat, lat, RememberDefault)
}

// ExpiryOf is Expiry for a session whose remember-me choice is rm: its
// absolute lifetime is RememberLifetime when rm is RememberYes, else Lifetime.
func (c *Codec) ExpiryOf(iat, lat time.Time, rm RememberMe) time.Time {
	exp := iat.Add(c.lifetime(rm))
	if c.cfg.IdleTimeout > 0 {
		if idle := lat.Add(c.cfg.IdleTimeout); idle.Before(exp) {
			exp = idle
		}
	}
	return exp.Truncate(time.Second)
}

// kidOf returns the id of the key whose header starts sealed, in the ring in
// force, or "".
func (c *Codec) kidOf(sealed []byte) string {
	dot := bytes.IndexByte(sealed, '.')
	d := c.keys()
	if dot < 0 || d == nil {
		return ""
	}
	if e, ok := d.byHeader[string(sealed[:dot])]; ok {
		return e.key.kid
	}
	return ""
}

// lifetime returns the absolute lifetime of a session whose remember-me
// choice is rm.
func (c *Codec) lifetime(rm RememberMe) time.Duration {
	if rm == RememberYes {
		return c.cfg.RememberLifetime
	}
	return c.cfg.Lifetime
}

// Encode seals p and splits the result into cookies. attrLen is the length of
// the attributes each Set-Cookie line will carry ("; Path=/; HttpOnly; …"),
// counted against MaxCookieBytes. A session over any budget returns a
// *SizeError matching [ErrTooLarge].
func (c *Codec) Encode(p *Payload, attrLen int) ([]Chunk, error) {
	sealed, err := c.Seal(p)
	if err != nil {
		return nil, err
	}
	return split(c.cfg.Name, sealed, attrLen, c.cfg.Limits.MaxChunks, c.cfg.Limits.HeaderBudget)
}

// Decode joins the cookies that lookup returns (see [CookieLookup]) and opens
// them. It returns [ErrNoCookie] when the request carries no session cookie.
func (c *Codec) Decode(lookup func(name string) []string, now time.Time) (*Payload, OpenInfo, error) {
	p := new(Payload)
	ms, info, err := c.decode(lookup, now, p)
	if err != nil {
		return nil, info, err
	}
	p.Values = ms.toMap()
	return p, info, nil
}

// decode is Decode into the caller's p, with the values as members, p.Values
// left nil.
func (c *Codec) decode(lookup func(name string) []string, now time.Time, p *Payload) (members, OpenInfo, error) {
	// The chunks are joined in a pooled buffer: nothing keeps the sealed
	// value once it is opened.
	buf := getBuffer()
	defer putBuffer(buf)
	sealed, n, err := join(buf, c.names[:], lookup, c.cfg.Limits.MaxChunks, c.cfg.Limits.HeaderBudget)
	if err != nil {
		return nil, OpenInfo{}, withKind(err, ReasonCookies)
	}
	ms, info, err := c.openMembers(sealed, now, p)
	info.Chunks = n
	return ms, info, err
}

// ChunkNames returns every name a session of this codec may use, Name first:
// the names to expire when the session is destroyed or shrinks.
func (c *Codec) ChunkNames() []string { return c.names[:c.cfg.Limits.MaxChunks] }

// CookieLookup returns a lookup for [Codec.Decode] over raw Cookie header
// values, as a browser sends them ("a=1; b=2"). Only names equal to name or
// starting with name+"." are kept, so an application's other cookies cost
// nothing and a malformed one of theirs does not matter. An empty name keeps
// every cookie, as an [Importer]'s lookup does.
func CookieLookup(name string, headers ...string) func(string) []string {
	var found map[string][]string
	eachCookie(name, headers, func(k, v string) {
		if found == nil {
			found = make(map[string][]string, 2)
		}
		found[k] = append(found[k], v)
	})
	return func(n string) []string { return found[n] }
}

// eachCookie calls f with the name and value of each cookie of the Cookie
// header values whose name is name or starts with name+".", or of every
// cookie with a name when name is empty, in order.
func eachCookie(name string, headers []string, f func(k, v string)) {
	for _, h := range headers {
		for len(h) > 0 {
			var part string
			part, h, _ = strings.Cut(h, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || k == "" || !strings.HasPrefix(k, name) || (name != "" && len(k) > len(name) && k[len(name)] != '.') {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			f(k, v)
		}
	}
}

// chunkCookies is CookieLookup for the chunk names only (ChunkName(name, i),
// i < MaxChunksLimit), all that a Manager looks up: one small allocation
// instead of a map, its entries and a closure. Its lookup returns what
// CookieLookup's would for those names.
type chunkCookies struct {
	name  string
	n     [MaxChunksLimit]uint8  // how many cookies of each chunk name were sent (at most 255 counted)
	first [MaxChunksLimit]string // the first value of each
	more  []chunkCookie          // the values after the first, rarely any
}

type chunkCookie struct {
	i int
	v string
}

func (j *chunkCookies) add(headers []string) {
	eachCookie(j.name, headers, func(k, v string) {
		i := chunkIndex(j.name, k)
		switch {
		case i < 0:
			return
		case j.n[i] == 0:
			j.first[i] = v
		default:
			j.more = append(j.more, chunkCookie{i, v})
		}
		if j.n[i] < 255 {
			j.n[i]++
		}
	})
}

func (j *chunkCookies) lookup(k string) []string {
	i := chunkIndex(j.name, k)
	switch {
	case i < 0 || j.n[i] == 0:
		return nil
	case j.n[i] == 1:
		return j.first[i : i+1 : i+1]
	}
	all := []string{j.first[i]}
	for _, c := range j.more {
		if c.i == i {
			all = append(all, c.v)
		}
	}
	return all
}

// chunkIndex returns i when k is ChunkName(name, i) for an i below
// MaxChunksLimit, else -1.
func chunkIndex(name, k string) int {
	switch {
	case k == name:
		return 0
	case len(k) == len(name)+2 && k[len(name)] == '.' && k[:len(name)] == name &&
		'1' <= k[len(name)+1] && k[len(name)+1] < '0'+MaxChunksLimit:
		return int(k[len(name)+1] - '0')
	}
	return -1
}

// buffer pooling: seal and open work in pooled scratch buffers, so a request
// allocates little more than its result.
type buffer struct{ b []byte }

var buffers = sync.Pool{New: func() any { return &buffer{b: make([]byte, 0, 1024)} }}

func getBuffer() *buffer { return buffers.Get().(*buffer) }

func putBuffer(b *buffer) {
	if cap(b.b) <= 64<<10 { // do not keep the rare huge one
		buffers.Put(b)
	}
}

// compressor is deflate.Compress, its failures (a bug, none known) matching
// errDeflate; a variable so that a test can make it fail.
var compressor = func(dst, src []byte) ([]byte, error) {
	out, err := deflate.Compress(dst, src)
	if err != nil {
		return out, fmt.Errorf("%w: %w", errDeflate, err)
	}
	return out, nil
}

// inflateBuffers hold MaxPlaintextBytes each: inflation writes into one, so a
// stream that inflates past the cap costs no allocation, and a valid one
// costs exactly its length (the copy returned).
var inflateBuffers = sync.Pool{New: func() any {
	b := make([]byte, 0, MaxPlaintextBytes)
	return &b
}}

// inflate decompresses a raw DEFLATE stream, refusing more than
// MaxPlaintextBytes of output: the decompression bomb stops there.
func inflate(compressed []byte) ([]byte, error) {
	scratch := inflateBuffers.Get().(*[]byte)
	defer inflateBuffers.Put(scratch)
	out, err := deflate.Decompress((*scratch)[:0], compressed, MaxPlaintextBytes)
	switch {
	case errors.Is(err, deflate.ErrTooLarge):
		return nil, invalidf("compressed payload inflates past %d bytes", MaxPlaintextBytes)
	case err != nil:
		return nil, invalidf("compressed payload malformed")
	}
	return bytes.Clone(out), nil
}
