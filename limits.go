package cookiesession

import (
	"fmt"
	"strconv"
	"time"
	"unsafe"
)

// Every bound the package enforces lives in this file, with the reason for it.
// Bounds on input from clients are checked before any decoding or parsing.

const (
	// MaxCookieBytes is what one cookie may take: its name, its value and its
	// attributes as written in Set-Cookie. Browsers keep about 4096 bytes per
	// cookie (RFC 6265 section 6.1 asks for at least that much, and RFC 6265bis
	// caps name plus value at 4096); a larger cookie is dropped silently by the
	// browser, which would lose the session without any error.
	MaxCookieBytes = 4096

	// DefaultHeaderBudget is the default for [Limits.HeaderBudget]: the bytes
	// this package's cookies may take in the Cookie header a browser sends back
	// ("name=value" pairs and their "; " separators). nginx, S3 and CloudFront
	// reject a request line or header over 8 KiB, so a session that grew past
	// this would make every later request from that browser fail with 4xx.
	DefaultHeaderBudget = 8192

	// MaxHeaderBudget caps [Limits.HeaderBudget]. AWS ALB allows 16 KiB per header
	// line and Go's net/http 1 MiB for all headers; no deployment we know of
	// accepts a Cookie header much beyond 32 KiB, so a larger budget would be a
	// configuration mistake.
	MaxHeaderBudget = 32 << 10

	// MaxPartitionedBudget caps [Limits.HeaderBudget] with Config.Partitioned.
	// Chromium keeps at most 10 KiB of partitioned cookies (CHIPS) per cookie
	// site in one partition, counting the name and value bytes of each (its
	// kPerPartitionDomainMaxCookieBytes, 10240), and evicts cookies of that
	// site in the partition, least recently used first, beyond it: a session
	// over it would lose chunks and open nowhere. The header budget counts
	// the same bytes plus "=" and "; " per cookie, so a budget within this
	// keeps the session within the browser's.
	MaxPartitionedBudget = 10 << 10

	// DefaultMaxChunks is the default for [Limits.MaxChunks].
	DefaultMaxChunks = 4

	// MaxChunksLimit caps [Limits.MaxChunks]. The count travels as one decimal
	// digit in the first cookie, and nine full cookies already exceed
	// MaxHeaderBudget.
	MaxChunksLimit = 9

	// MaxPlaintextBytes bounds the JSON payload of a session, before
	// compression when sealing and after inflation when opening. It is the cap
	// on inflation that defeats a decompression bomb: a sealed value of at most
	// MaxHeaderBudget bytes never makes the server allocate more than this,
	// whatever its DEFLATE stream claims. A session that compresses well enough
	// to fit a cookie but is larger than this is refused when saving, so
	// nothing is sealed that could not be opened again. It is go-jose's
	// inflation cap (250 kB, or ten times the compressed size, which no
	// cookie reaches), so that every value sealed here opens with go-jose
	// and other stock JOSE libraries with the same cap.
	MaxPlaintextBytes = 250_000

	// MinCompressBytes is the smallest JSON payload that CodecConfig.Compress
	// tries to compress. Below it DEFLATE saves a few dozen bytes at most (a
	// dynamic Huffman block spends tens of bytes on its own code tables)
	// while such a session fits one cookie either way, so the compressor's
	// time is not worth spending on every save.
	MinCompressBytes = 256

	// MaxNesting is the most arrays and objects one inside another that a
	// session value may hold, as in [[1]] (2) or {"a":[{}]} (3). Opening a
	// cookie refuses a deeper value before a recursive decoder (this
	// package's scanner, encoding/json's, the application's) meets it, and
	// Session.Set and Codec.Seal refuse one too ([ErrBadValue]), so that
	// nothing is sealed that the next request could not open.
	MaxNesting = 64

	// DefaultClockSkew is the default for [Limits.ClockSkew].
	DefaultClockSkew = 30 * time.Second

	// MaxClockSkew caps [Limits.ClockSkew]: an allowance larger than this would
	// accept cookies dated well into the future, which only a wrong clock or a
	// forged clock produces.
	MaxClockSkew = 10 * time.Minute

	// DefaultLifetime is the default absolute lifetime of a session, counted
	// from its issued-at claim (Django's SESSION_COOKIE_AGE default is two
	// weeks; scs defaults to 24 hours). We choose 24 hours: a stolen cookie
	// replays until it expires, and there is no server-side revocation short of
	// rotating keys or raising NotBefore.
	DefaultLifetime = 24 * time.Hour

	// MaxSubjectBytes bounds a session's subject (Session.SetSubject) and the
	// subjects of a revocation list. A subject is an identifier (a user id, a
	// UUID, an e-mail address), not data: the bound keeps it from eating the
	// cookie budget, and keeps every entry of a revocation list small.
	MaxSubjectBytes = 256

	// MaxRevocationFileBytes bounds a revocation list file
	// (ParseRevocationList, OpenRevocationFile): it is read and parsed again
	// on a request whenever it changes, so its size bounds that request's
	// work and the memory every process spends on it. An entry of a 36-byte
	// subject (a UUID) takes about 80 bytes, so 4 MiB holds some 50,000
	// revocations: the users revoked within one session lifetime, since
	// older entries can be pruned.
	MaxRevocationFileBytes = 4 << 20

	// MaxLifetime caps the absolute lifetime: 400 days is the longest a
	// Chromium-based browser keeps any cookie (RFC 6265bis section 5.5), so a
	// longer sealed lifetime could never be used.
	MaxLifetime = 400 * 24 * time.Hour
)

// Bounds of device binding (see [DeviceBinding]).
const (
	// DefaultBoundCookieLifetime is the default for
	// DeviceBinding.CookieLifetime: how long a stolen copy of a bound
	// session's cookies keeps working. Chromium refreshes a bound cookie about
	// two minutes before it expires, so five minutes costs one refresh
	// request every three minutes of activity.
	DefaultBoundCookieLifetime = 5 * time.Minute

	// MinBoundCookieLifetime and MaxBoundCookieLifetime bound
	// DeviceBinding.CookieLifetime. Chromium signs a refresh before a request
	// whenever the cookie expires within about two minutes, and stops signing
	// past a quota (SigningQuotaExceeded): under about three minutes an active
	// user is refreshed before nearly every request and soon refused, so the
	// shortest lifetimes are for tests only. Longer than an hour lets a copy
	// work for longer than binding is worth.
	MinBoundCookieLifetime = 10 * time.Second
	MaxBoundCookieLifetime = time.Hour

	// DefaultChallengeLifetime is the default for
	// DeviceBinding.ChallengeLifetime. A browser answers a challenge within
	// seconds; the rest is room for a slow device key.
	DefaultChallengeLifetime = 2 * time.Minute

	// MaxChallengeLifetime caps DeviceBinding.ChallengeLifetime: a challenge
	// is not single-use (nothing is stored), so its lifetime is how long a
	// captured proof can be replayed.
	MaxChallengeLifetime = 10 * time.Minute

	// MaxDeviceProofBytes caps a Secure-Session-Response JWT before any
	// parsing: a 4096-bit RSA key and its signature take about 1,500 bytes.
	MaxDeviceProofBytes = 8192

	// MinDeviceRSABits and MaxDeviceRSABits bound an RS256 device key:
	// weaker keys are breakable, and verifying with larger ones costs a
	// client-chosen amount of server time.
	MinDeviceRSABits = 2048
	MaxDeviceRSABits = 4096
)

// Limits are the size and time bounds of one [Codec]. The zero value of each
// field means its default.
type Limits struct {
	// HeaderBudget is the most bytes this package's cookies may take in the
	// Cookie header a browser sends: the sum of len(name)+1+len(value) of every
	// chunk plus "; " between them. Saving a session over it is an error
	// ([ErrTooLarge], with a [*SizeError]); opening a request over it fails
	// before any decoding. If the application sets other cookies on the same
	// domain, lower it by their size. The default value is DefaultHeaderBudget
	// (8192); at most MaxHeaderBudget.
	HeaderBudget int

	// MaxChunks is the most cookies one session may be split over. The default
	// value is DefaultMaxChunks (4); at most MaxChunksLimit (9).
	MaxChunks int

	// ClockSkew is how far into the future an issued-at or last-activity claim
	// may lie and still be accepted, so that servers whose clocks disagree by
	// that much share sessions. Expiry is never extended by it. The default
	// value is DefaultClockSkew (30s); at most MaxClockSkew. Use a negative value
	// for no allowance at all.
	ClockSkew time.Duration
}

// withDefaults returns l with zero fields set to their defaults, or an error
// wrapping [ErrConfig] when a field is out of range.
func (l Limits) withDefaults() (Limits, error) {
	if l.HeaderBudget == 0 {
		l.HeaderBudget = DefaultHeaderBudget
	}
	if l.MaxChunks == 0 {
		l.MaxChunks = DefaultMaxChunks
	}
	switch {
	case l.ClockSkew == 0:
		l.ClockSkew = DefaultClockSkew
	case l.ClockSkew < 0:
		l.ClockSkew = 0
	}
	if l.HeaderBudget < 512 || l.HeaderBudget > MaxHeaderBudget {
		return l, configErrorf("HeaderBudget %d is outside 512..%d", l.HeaderBudget, MaxHeaderBudget)
	}
	if l.MaxChunks < 1 || l.MaxChunks > MaxChunksLimit {
		return l, configErrorf("MaxChunks %d is outside 1..%d", l.MaxChunks, MaxChunksLimit)
	}
	if l.ClockSkew > MaxClockSkew {
		return l, configErrorf("ClockSkew %s is over the maximum %s", durationText(l.ClockSkew), durationText(MaxClockSkew))
	}
	return l, nil
}

// SizeError reports a session that does not fit in its cookies. It matches
// [ErrTooLarge] with errors.Is. When it is returned from a save, nothing was
// written and the client keeps its previous cookie.
type SizeError struct {
	What   string // which bound: "cookie header", "chunks" or "plaintext"
	Size   int    // bytes (or chunks) the session needs
	Budget int    // bytes (or chunks) allowed
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("cookiesession: session too large: %s needs %d, budget is %d", e.What, e.Size, e.Budget)
}

// Unwrap makes a *SizeError match ErrTooLarge.
func (e *SizeError) Unwrap() error { return ErrTooLarge }

// ChunkName returns the name of chunk i of the cookie called name: the name
// itself for chunk 0, then name.1, name.2 and so on.
func ChunkName(name string, i int) string {
	if i == 0 {
		return name
	}
	return name + "." + strconv.Itoa(i)
}

// Chunk is one cookie of a split sealed value.
type Chunk struct {
	Name  string
	Value string
}

// chunkMarker separates the chunk count from the first part of the sealed
// value in the first cookie of a chunked session: "3~eyJhbGciOi…". The
// character is a valid cookie-octet (RFC 6265 section 4.1.1) that is not in
// the base64url alphabet nor ".", so a first cookie is unambiguous.
const chunkMarker = '~'

// oneCookie reports whether a sealed value of n bytes goes in one cookie
// ("name=value" plus attributes of attrLen bytes within MaxCookieBytes), and
// a *SizeError when it would but is over the header budget.
func oneCookie(name string, n, attrLen, budget int) (bool, error) {
	if len(name)+1+n+attrLen > MaxCookieBytes {
		return false, nil
	}
	if h := len(name) + 1 + n; h > budget {
		return true, &SizeError{What: "cookie header", Size: h, Budget: budget}
	}
	return true, nil
}

// split cuts the sealed value into cookies named after name, each fitting
// MaxCookieBytes together with attrLen bytes of attributes. It returns a
// *SizeError when the value needs more than maxChunks cookies or more than
// budget bytes of Cookie header.
func split(name, sealed string, attrLen, maxChunks, budget int) ([]Chunk, error) {
	n, room, err := chunking(name, len(sealed), attrLen, maxChunks, budget)
	if err != nil {
		return nil, err
	}
	if n == 1 {
		return []Chunk{{Name: name, Value: sealed}}, nil
	}
	chunks := make([]Chunk, n)
	for i := range chunks {
		part := sealed[i*room : min((i+1)*room, len(sealed))]
		if i == 0 {
			part = string(rune('0'+n)) + string(chunkMarker) + part
		}
		chunks[i] = Chunk{Name: ChunkName(name, i), Value: part}
	}
	return chunks, nil
}

// chunking returns into how many cookies a sealed value of size bytes is
// cut, and how many bytes of it each carries (the last one the rest): one
// cookie while it fits, MaxCookieBytes with the attributes of attrLen bytes
// included, else as few as fit, at most maxChunks, the first value led by
// the count and chunkMarker ("3~"). It returns a *SizeError when the value
// does not fit, or its Cookie header (names, values and "; " between them)
// is over budget.
func chunking(name string, size, attrLen, maxChunks, budget int) (n, room int, err error) {
	if one, err := oneCookie(name, size, attrLen, budget); one || err != nil {
		return 1, size, err
	}
	// Several cookies. The widest name is name.N (one digit), and the first
	// value carries "N~"; reserve both in every chunk for a uniform cut.
	room = MaxCookieBytes - attrLen - (len(name) + 2 + 1) - 2
	if room < 64 {
		return 0, 0, &SizeError{What: "cookie header", Size: len(name) + 1 + size + attrLen, Budget: MaxCookieBytes}
	}
	n = (size + room - 1) / room
	if n > maxChunks {
		return 0, 0, &SizeError{What: "chunks", Size: n, Budget: maxChunks}
	}
	// name=N~…; name.1=…; …: the first name bare, the others with ".i".
	header := n*(len(name)+1) + 2*(n-1) + size + 2 + 2*(n-1)
	if header > budget {
		return 0, 0, &SizeError{What: "cookie header", Size: header, Budget: budget}
	}
	return n, room, nil
}

// join reassembles a sealed value from the cookies of a request. names are
// the chunk names (names[i] = ChunkName(name, i)) up to MaxChunksLimit. lookup
// returns the values of every cookie with the given name, in the order they
// were sent. The first cookie declares the set: its count prefix "n~", or
// none for a session in one cookie. Every check runs before any decoding:
// exactly one cookie of each declared name, each value within MaxCookieBytes
// and the whole within budget. It returns how many cookies the set has.
//
// Cookies named beyond the declared set are debris, of an older and longer
// session or of a concurrent response (two tabs racing: one grew the session
// to name+name.1, the other answered last with one cookie, and the browser
// keeps both). They are not read at all: the declared set is authenticated
// as one unit, so whatever lies beyond it cannot change what opens. Refusing
// them instead would log the user out at every request until the debris
// expires; the Manager expires them on the response (see [Manager.SetCookies]).
//
// A value of several cookies is joined into buf and the string returned
// aliases it: it is valid until buf is used again.
//
// It returns ErrNoCookie when there is no first cookie, and an error
// matching [ErrInvalid] when anything else is wrong.
func join(buf *buffer, names []string, lookup func(string) []string, maxChunks, budget int) (sealed string, chunks int, err error) {
	name := names[0]
	first, err := single(name, lookup)
	if err != nil {
		return "", 0, err
	}
	total := len(name) + 1 + len(first)
	if total > budget {
		return "", 0, invalidf("cookie %d bytes over budget %d", total, budget)
	}
	n := 1 // unchunked: no marker
	if len(first) >= 2 && first[1] == chunkMarker {
		if first[0] < '2' || first[0] > '9' {
			return "", 0, invalidf("chunk count %q", first[0])
		}
		n = int(first[0] - '0')
		if n > maxChunks {
			return "", 0, invalidf("%d chunks over the limit %d", n, maxChunks)
		}
		first = first[2:]
	}
	if n == 1 {
		return first, 1, nil
	}
	b := append(buf.b[:0], first...)
	defer func() { buf.b = b }()
	for i := 1; i < n; i++ {
		part, err := single(names[i], lookup)
		if err == ErrNoCookie {
			return "", 0, invalidf("missing chunk %s", names[i])
		}
		if err != nil {
			return "", 0, err
		}
		total += 2 + len(names[i]) + 1 + len(part)
		if total > budget {
			return "", 0, invalidf("cookies over budget %d", budget)
		}
		b = append(b, part...)
	}
	return unsafe.String(unsafe.SliceData(b), len(b)), n, nil
}

// single returns the one value of the named cookie: ErrNoCookie when there is
// none, an invalid error when there are several or it is over MaxCookieBytes.
func single(name string, lookup func(string) []string) (string, error) {
	values := lookup(name)
	switch {
	case len(values) == 0:
		return "", ErrNoCookie
	case len(values) > 1:
		return "", invalidf("cookie %s sent %d times", name, len(values))
	case len(name)+1+len(values[0]) > MaxCookieBytes:
		return "", invalidf("cookie %s over %d bytes", name, MaxCookieBytes)
	}
	return values[0], nil
}
