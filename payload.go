package cookiesession

import (
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Payload is what a cookie seals: the session's claims and its values. The
// values stay raw JSON until the application reads them, so a request that
// reads one value decodes only that one.
//
// In JSON the payload is one object with exactly these members, in this
// order when this package writes it:
//
//	"sid"  string  the session id: 1 to 64 base64url characters, new on Renew
//	"iat"  number  issued-at, Unix seconds; the absolute lifetime counts from it
//	"lat"  number  last activity, Unix seconds; the idle timeout counts from it
//	"exp"  number  expiry, Unix seconds: the cookie is void from this second on
//	"rm"   bool    optional: remember-me chosen for this session (persistent
//	               cookie when true, browser-session cookie when false)
//	"sub"  string  optional: the subject (the user id the application set
//	               with Session.SetSubject), 1 to MaxSubjectBytes bytes of
//	               UTF-8; absent when the session has none
//	"dk"   string  optional: the device key of a device-bound session (see
//	               [DeviceBinding]): BINDING-ID "." ALG "." A "." B, the binding
//	               id 1 to 64 base64url characters, ALG "ES256" (A and B the
//	               P-256 point's x and y) or "RS256" (A the modulus, B the
//	               exponent), A and B unpadded base64url of big-endian bytes
//	"v"    object  the values
//
// Times are whole non-negative integers; iat <= lat < exp. A member missing,
// repeated, unknown or of another type makes the cookie invalid.
type Payload struct {
	ID           string
	IssuedAt     time.Time
	LastActivity time.Time
	Expiry       time.Time
	RememberMe   RememberMe
	Subject      string // "" when the session has none
	DeviceKey    string // the "dk" claim, "" for a session not bound to a device
	Values       map[string]json.RawMessage
}

// RememberMe is a session's own choice between a persistent cookie and a
// browser-session cookie, overriding [Config.BrowserSession].
type RememberMe uint8

const (
	RememberDefault RememberMe = iota // follow Config.BrowserSession
	RememberYes                       // persistent cookie (Max-Age set)
	RememberNo                        // browser-session cookie (no Max-Age)
)

// appendPayload appends the JSON of p to b, its values sorted by name, so
// equal payloads give equal bytes. Each value must be valid JSON (it is, when
// it came from json.Marshal or from an opened cookie).
func appendPayload(b []byte, p *Payload) []byte {
	var onStack [32]member
	return writePayload(b, p, sortedMembers(p.Values, onStack[:0]))
}

// writePayload appends the JSON of p's claims and of ms (p.Values is not
// read).
func writePayload(b []byte, p *Payload, ms members) []byte {
	b = append(b, `{"sid":`...)
	b = appendJSONString(b, p.ID)
	b = append(b, `,"iat":`...)
	b = appendInt(b, p.IssuedAt.Unix())
	b = append(b, `,"lat":`...)
	b = appendInt(b, p.LastActivity.Unix())
	b = append(b, `,"exp":`...)
	b = appendInt(b, p.Expiry.Unix())
	switch p.RememberMe {
	case RememberYes:
		b = append(b, `,"rm":true`...)
	case RememberNo:
		b = append(b, `,"rm":false`...)
	}
	if p.Subject != "" {
		b = append(b, `,"sub":`...)
		b = appendJSONString(b, p.Subject)
	}
	if p.DeviceKey != "" {
		b = append(b, `,"dk":"`...)
		b = append(append(b, p.DeviceKey...), '"')
	}
	b = append(b, `,"v":{`...)
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, m.name)
		b = append(b, ':')
		b = append(b, m.value...)
	}
	return append(b, "}}"...)
}

// appendInt is strconv.AppendInt(b, n, 10), quicker for the Unix times and
// counters a payload holds.
func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		return strconv.AppendInt(b, n, 10)
	}
	var digits [20]byte
	i := len(digits)
	for {
		i--
		digits[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			break
		}
	}
	return append(b, digits[i:]...)
}

// checkValue returns an error matching ErrBadValue when the value raw (one
// JSON value, white space around it allowed) could not be opened again under
// name once sealed: it makes the opener's checks on one value.
func checkValue(name string, raw []byte) error {
	// JSON replaces bytes that are not UTF-8: such a name would open
	// renamed, and two of them as a repeated name, an invalid cookie.
	if !utf8.ValidString(name) {
		return badValuef("value name %q is not valid UTF-8", name)
	}
	if end, ok := skipValue(raw, skipSpace(raw, 0), 0); ok && skipSpace(raw, end) == len(raw) {
		return nil
	}
	if json.Valid(raw) {
		return badValuef("value %q is nested deeper than %d arrays and objects", name, MaxNesting)
	}
	return badValuef("value %q is not valid JSON", name)
}

// A member is one value of a payload: its name and its JSON.
type member struct {
	name  string
	value json.RawMessage
}

// members are the values of a payload sorted by name (byte-wise, as Go
// compares strings), each name once. It is how a Session holds its values and
// the order in which they are sealed: no map to fill when a cookie is opened,
// to copy when the session changes, or to sort when it is sealed again.
type members []member

// index returns where name is, or would be inserted, and whether it is there.
func (ms members) index(name string) (int, bool) {
	return slices.BinarySearchFunc(ms, name, func(m member, name string) int { return strings.Compare(m.name, name) })
}

// get returns the JSON under name, or nil.
func (ms members) get(name string) json.RawMessage {
	if i, ok := ms.index(name); ok {
		return ms[i].value
	}
	return nil
}

// toMap returns the members as a map, never nil.
func (ms members) toMap() map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, len(ms))
	for _, x := range ms {
		m[x.name] = x.value
	}
	return m
}

// sortedMembers returns the entries of values sorted by name, appended to
// scratch (which may be an array on the caller's stack).
func sortedMembers(values map[string]json.RawMessage, scratch []member) members {
	ms := members(scratch[:0])
	for k, v := range values {
		ms = append(ms, member{k, v})
	}
	ms.sort()
	return ms
}

// sort sorts ms by name, stably (a repeated name keeps its order).
func (ms members) sort() {
	if len(ms) <= 32 {
		// An insertion sort: few members, small to move.
		for i := 1; i < len(ms); i++ {
			for j := i; j > 0 && ms[j].name < ms[j-1].name; j-- {
				ms[j], ms[j-1] = ms[j-1], ms[j]
			}
		}
		return
	}
	slices.SortStableFunc(ms, func(x, y member) int { return strings.Compare(x.name, y.name) })
}

// appendJSONString appends s as a JSON string, escaped as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	if !jsonVerbatim(s) {
		q, _ := json.Marshal(s)
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// jsonVerbatim reports whether encoding/json writes s between quotes as it
// is, escaping nothing.
func jsonVerbatim(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			return false
		}
	}
	return true
}

// parsePayload reads the JSON of a payload strictly: its claims into p, whose
// Values are left nil, and its values as members. The values alias data, and
// so do the id and the names (see alias): data must not change afterwards. p
// is the caller's, often on its stack: one allocation less per cookie opened.
// On error p holds nothing of use.
func parsePayload(data []byte, p *Payload) (members, error) {
	if ms, ok := parseWritten(data, p); ok {
		return ms, nil
	}
	return parseAny(data, p)
}

// parseWritten reads a payload laid out exactly as appendPayload writes it:
// the claims in their order, no white space, the values last. Every cookie
// this package sealed is read here, without the member-by-member bookkeeping
// of parseAny. It reports false for anything else, which parseAny then reads
// or refuses with its reason; what it accepts, parseAny accepts too, and
// reads the same.
func parseWritten(data []byte, p *Payload) (members, bool) {
	s := scanner{data: data}
	if !s.literal(`{"sid":"`) {
		return nil, false
	}
	start := s.i
	for s.i < len(data) && isBase64URL(data[s.i]) {
		s.i++
	}
	*p = Payload{ID: alias(data[start:s.i])}
	if len(p.ID) == 0 || len(p.ID) > 64 || !s.literal(`","iat":`) {
		return nil, false
	}
	iat, ok := s.unixSeconds()
	if !ok || !s.literal(`,"lat":`) {
		return nil, false
	}
	lat, ok := s.unixSeconds()
	if !ok || !s.literal(`,"exp":`) {
		return nil, false
	}
	exp, ok := s.unixSeconds()
	if !ok || !(iat <= lat && lat < exp) {
		return nil, false
	}
	switch {
	case s.literal(`,"rm":true`):
		p.RememberMe = RememberYes
	case s.literal(`,"rm":false`):
		p.RememberMe = RememberNo
	}
	if s.literal(`,"sub":`) {
		if p.Subject, ok = s.name(); !ok || !validSubject(p.Subject) {
			return nil, false
		}
	}
	if s.literal(`,"dk":`) {
		if p.DeviceKey, ok = s.plainString(); !ok || !validDeviceKey(p.DeviceKey) {
			return nil, false
		}
	}
	if !s.literal(`,"v":`) {
		return nil, false
	}
	ms, ok := s.values()
	if !ok || !s.literal("}") || s.i != len(data) {
		return nil, false
	}
	p.IssuedAt, p.LastActivity, p.Expiry = time.Unix(iat, 0), time.Unix(lat, 0), time.Unix(exp, 0)
	return ms, true
}

// parseAny reads a payload whatever its member order and white space.
func parseAny(data []byte, p *Payload) (members, error) {
	s := scanner{data: data}
	*p = Payload{}
	var seen uint8
	const (
		sawSID = 1 << iota
		sawIAT
		sawLAT
		sawEXP
		sawRM
		sawSub
		sawDK
		sawV
		required = sawSID | sawIAT | sawLAT | sawEXP | sawV
	)
	var iat, lat, exp int64
	var ms members
	s.space()
	if !s.consume('{') {
		return nil, invalidf("payload is not a JSON object")
	}
	for first := true; ; first = false {
		s.space()
		if s.consume('}') {
			break
		}
		if !first && !(s.consume(',') && s.spaceThen()) {
			return nil, invalidf("payload: malformed object")
		}
		name, ok := s.plainString()
		if !ok {
			return nil, invalidf("payload: malformed member name")
		}
		s.space()
		if !s.consume(':') {
			return nil, invalidf("payload: malformed object")
		}
		s.space()
		var bit uint8
		var ok2 bool
		switch name {
		case "sid":
			bit = sawSID
			p.ID, ok2 = s.plainString()
			ok2 = ok2 && validSID(p.ID)
		case "iat":
			bit = sawIAT
			iat, ok2 = s.unixSeconds()
		case "lat":
			bit = sawLAT
			lat, ok2 = s.unixSeconds()
		case "exp":
			bit = sawEXP
			exp, ok2 = s.unixSeconds()
		case "rm":
			bit = sawRM
			var yes bool
			yes, ok2 = s.boolean()
			p.RememberMe = RememberNo
			if yes {
				p.RememberMe = RememberYes
			}
		case "sub":
			bit = sawSub
			p.Subject, ok2 = s.name()
			ok2 = ok2 && validSubject(p.Subject)
		case "dk":
			bit = sawDK
			p.DeviceKey, ok2 = s.plainString()
			ok2 = ok2 && validDeviceKey(p.DeviceKey)
		case "v":
			bit = sawV
			ms, ok2 = s.values()
		default:
			return nil, invalidf("payload: unknown claim %.16q", name)
		}
		if !ok2 {
			return nil, invalidf("payload: malformed claim %q", name)
		}
		if seen&bit != 0 {
			return nil, invalidf("payload: repeated claim %q", name)
		}
		seen |= bit
	}
	s.space()
	if s.i != len(s.data) {
		return nil, invalidf("payload: data after the object")
	}
	if seen&required != required {
		return nil, invalidf("payload: missing claim")
	}
	if !(iat <= lat && lat < exp) {
		return nil, invalidf("payload: claims out of order (iat %d, lat %d, exp %d)", iat, lat, exp)
	}
	p.IssuedAt, p.LastActivity, p.Expiry = time.Unix(iat, 0), time.Unix(lat, 0), time.Unix(exp, 0)
	return ms, nil
}

// validSID reports whether id is 1 to 64 base64url characters.
func validSID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isBase64URL(id[i]) {
			return false
		}
	}
	return true
}

// validSubject reports whether sub is a subject this package seals: 1 to
// MaxSubjectBytes bytes of UTF-8.
func validSubject(sub string) bool {
	return len(sub) > 0 && len(sub) <= MaxSubjectBytes && utf8.ValidString(sub)
}

func isBase64URL(c byte) bool { return base64URL[c] }

var base64URL = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
	}
	return t
}()

// scanner is a strict JSON reader over a byte slice: enough to read a payload
// and to check that each value is valid JSON (RFC 8259) without decoding it.
type scanner struct {
	data []byte
	i    int
}

func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// spaceThen skips white space and reports true, for use in conditions.
func (s *scanner) spaceThen() bool { s.space(); return true }

func (s *scanner) consume(c byte) bool {
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

// plainString reads a string with no escapes and no control characters. Claim
// names and the session id are always plain.
func (s *scanner) plainString() (string, bool) {
	if !s.consume('"') {
		return "", false
	}
	start := s.i
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '"':
			s.i++
			return alias(s.data[start : s.i-1]), true
		case c == '\\' || c < 0x20:
			return "", false
		}
		s.i++
	}
	return "", false
}

// unixSeconds reads a non-negative integer of at most 12 digits, without sign,
// fraction, exponent or leading zero.
func (s *scanner) unixSeconds() (int64, bool) {
	data, start := s.data, s.i
	i := start
	var n int64
	for ; i < len(data) && i-start <= 12; i++ {
		d := data[i] - '0'
		if d > 9 {
			break
		}
		n = n*10 + int64(d)
	}
	s.i = i
	digits := i - start
	if digits == 0 || digits > 12 || (digits > 1 && data[start] == '0') {
		return 0, false
	}
	if i < len(data) && (data[i] == '.' || data[i] == 'e' || data[i] == 'E') {
		return 0, false
	}
	return n, true
}

func (s *scanner) boolean() (bool, bool) {
	switch {
	case s.literal("true"):
		return true, true
	case s.literal("false"):
		return false, true
	}
	return false, false
}

func (s *scanner) literal(lit string) bool {
	if len(s.data)-s.i >= len(lit) && string(s.data[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// values reads the "v" object: names are decoded, values kept raw after being
// checked. A repeated name is refused: JSON decoders disagree on which copy
// wins, and the payload must mean one thing. The members come out sorted,
// as this package writes them; others are sorted here.
func (s *scanner) values() (members, bool) {
	if !s.consume('{') {
		return nil, false
	}
	// Collected on the stack, then copied once (see the end).
	var onStack [32]member
	ms := members(onStack[:0])
	sorted := true
	for first := true; ; first = false {
		s.space()
		if s.consume('}') {
			break
		}
		if !first && !(s.consume(',') && s.spaceThen()) {
			return nil, false
		}
		name, ok := s.name()
		if !ok {
			return nil, false
		}
		s.space()
		if !s.consume(':') {
			return nil, false
		}
		s.space()
		start := s.i
		if !s.value(0) {
			return nil, false
		}
		if len(ms) > 0 && name <= ms[len(ms)-1].name {
			sorted = false
		}
		ms = append(ms, member{name, s.data[start:s.i:s.i]})
	}
	if !sorted {
		ms.sort()
		for i := 1; i < len(ms); i++ {
			if ms[i].name == ms[i-1].name {
				return nil, false // a repeated name
			}
		}
	}
	// Copied once into room for twice as many and two more: a Session keeps
	// the second half for its copy on the first change, which often adds a
	// value (see Session.change).
	out := make(members, len(ms), 2*len(ms)+2)
	copy(out, ms)
	return out, true
}

// name reads a member name: in one pass when it is printable ASCII without
// escapes, as names almost always are, else through str and decodeName.
func (s *scanner) name() (string, bool) {
	start := s.i
	if start >= len(s.data) || s.data[start] != '"' {
		return "", false
	}
	for i := start + 1; i < len(s.data); i++ {
		c := s.data[i]
		if c == '"' {
			s.i = i + 1
			return alias(s.data[start+1 : i]), true
		}
		if c < 0x20 || c >= 0x80 || c == '\\' {
			break
		}
	}
	if !s.str() {
		return "", false
	}
	return decodeName(s.data[start:s.i])
}

// decodeName unquotes a JSON string already checked by str.
func decodeName(quoted []byte) (string, bool) {
	for _, c := range quoted[1 : len(quoted)-1] {
		if c == '\\' || c >= 0x80 {
			var name string
			return name, json.Unmarshal(quoted, &name) == nil
		}
	}
	return alias(quoted[1 : len(quoted)-1]), true
}

// alias returns the bytes of b as a string without copying them: one
// allocation less for every name of a payload. It is safe because a payload is
// parsed from a plaintext that belongs to it alone (freshly decrypted,
// decoded or inflated) and that nothing writes after parsing; the raw values
// alias the same bytes, capped so that no append reaches the names.
func alias(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// value skips one JSON value, checking it.
func (s *scanner) value(depth int) bool {
	var ok bool
	s.i, ok = skipValue(s.data, s.i, depth)
	return ok
}

// str skips a JSON string, checking escapes and control characters.
func (s *scanner) str() bool {
	var ok bool
	s.i, ok = skipString(s.data, s.i)
	return ok
}

// The hot loops of the scanner are functions of the data and an index,
// which stay in registers, rather than methods that go through s.i in memory.

// skipValue returns the end of the JSON value at data[i], and whether there
// is a valid one there, inside depth arrays and objects: the value is refused
// when it would open one more than MaxNesting.
func skipValue(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	var ok bool
	switch c := data[i]; {
	case c == '"':
		return skipString(data, i)
	case (c == '{' || c == '[') && depth >= MaxNesting:
		return i, false
	case c == '{':
		i++
		for first := true; ; first = false {
			i = skipSpace(data, i)
			if i < len(data) && data[i] == '}' {
				return i + 1, true
			}
			if !first {
				if i >= len(data) || data[i] != ',' {
					return i, false
				}
				i = skipSpace(data, i+1)
			}
			if i, ok = skipString(data, i); !ok {
				return i, false
			}
			i = skipSpace(data, i)
			if i >= len(data) || data[i] != ':' {
				return i, false
			}
			if i, ok = skipValue(data, skipSpace(data, i+1), depth+1); !ok {
				return i, false
			}
		}
	case c == '[':
		i++
		for first := true; ; first = false {
			i = skipSpace(data, i)
			if i < len(data) && data[i] == ']' {
				return i + 1, true
			}
			if !first {
				if i >= len(data) || data[i] != ',' {
					return i, false
				}
				i = skipSpace(data, i+1)
			}
			if i, ok = skipValue(data, i, depth+1); !ok {
				return i, false
			}
		}
	case c == '-' || '0' <= c && c <= '9':
		return skipNumber(data, i)
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit {
			return i + len(lit), true
		}
	}
	return i, false
}

// skipString returns the end of the JSON string at data[i], and whether
// there is a valid one there: escapes and control characters checked.
func skipString(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return i, false
	}
	for i++; ; {
		if i = skipPlain(data, i); i >= len(data) {
			return i, false
		}
		switch c := data[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20 || i+1 >= len(data):
			return i, false
		}
		switch data[i+1] { // after a backslash
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if len(data)-i < 6 {
				return i, false
			}
			for _, h := range data[i+2 : i+6] {
				if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
					return i, false
				}
			}
			i += 6
		default:
			return i, false
		}
	}
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && data[i] <= ' ' && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// strStop marks the bytes that end a run of plain bytes inside a JSON string.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// skipPlain returns the index of the first byte of data from i on that ends
// a run of plain string bytes, or len(data): the hot loop of the scanner. It
// looks at eight bytes a step while none of them is '"', '\\' or a control
// character.
func skipPlain(data []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(data); i += 8 {
		x := binary.LittleEndian.Uint64(data[i:])
		q, bs := x^('"'*ones), x^('\\'*ones)
		// Each term is non-zero exactly when a byte of x is a quote, a
		// backslash or under 0x20 (the classic "has zero byte" tests).
		if ((q-ones)&^q|(bs-ones)&^bs|(x-0x20*ones)&^x)&highs != 0 {
			break
		}
	}
	for i < len(data) && !strStop[data[i]] {
		i++
	}
	return i
}

// skipNumber returns the end of the JSON number at data[i], and whether
// there is a valid one there: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(data []byte, i int) (int, bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i = skipDigits(data, i)
	default:
		return i, false
	}
	if i < len(data) && data[i] == '.' {
		j := skipDigits(data, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := skipDigits(data, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

// skipDigits returns the index of the first byte from data[i] on that is not
// a digit.
func skipDigits(data []byte, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}
