package cookiesession

import (
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
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
	Values       map[string]json.RawMessage
}

// RememberMe is a session's own choice between a persistent cookie and a
// browser-session cookie, overriding the [Manager]'s Persist setting.
type RememberMe uint8

const (
	RememberDefault RememberMe = iota // follow Manager.Persist
	RememberYes                       // persistent cookie (Max-Age set)
	RememberNo                        // browser-session cookie (no Max-Age)
)

// maxJSONDepth bounds the nesting of a value: deeper input is refused before
// it can exhaust the stack of a recursive decoder later on.
const maxJSONDepth = 64

// appendPayload appends the JSON of p to b. Values are written in key order,
// so equal payloads give equal bytes. Each value must be valid JSON (it is,
// when it came from json.Marshal or from an opened cookie).
func appendPayload(b []byte, p *Payload) []byte {
	b = append(b, `{"sid":`...)
	b = appendJSONString(b, p.ID)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, p.IssuedAt.Unix(), 10)
	b = append(b, `,"lat":`...)
	b = strconv.AppendInt(b, p.LastActivity.Unix(), 10)
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, p.Expiry.Unix(), 10)
	switch p.RememberMe {
	case RememberYes:
		b = append(b, `,"rm":true`...)
	case RememberNo:
		b = append(b, `,"rm":false`...)
	}
	b = append(b, `,"v":{`...)
	// The members sorted by name, collected on the stack for most sessions
	// and without a second lookup of each.
	var onStack [32]member
	members := onStack[:0]
	if len(p.Values) > len(onStack) {
		members = make([]member, 0, len(p.Values))
	}
	for k, v := range p.Values {
		members = append(members, member{k, v})
	}
	if len(members) > len(onStack) {
		slices.SortFunc(members, func(x, y member) int { return strings.Compare(x.name, y.name) })
	} else {
		// An insertion sort of their indexes: a few, and small to move.
		var order [len(onStack)]uint8
		for i := range members {
			j := i
			for ; j > 0 && members[i].name < members[order[j-1]].name; j-- {
				order[j] = order[j-1]
			}
			order[j] = uint8(i)
		}
		for i, o := range order[:len(members)] {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMember(b, members[o])
		}
		return append(b, "}}"...)
	}
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendMember(b, m)
	}
	return append(b, "}}"...)
}

func appendMember(b []byte, m member) []byte {
	b = appendJSONString(b, m.name)
	b = append(b, ':')
	return append(b, m.value...)
}

type member struct {
	name  string
	value json.RawMessage
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

// parsePayload reads the JSON of a payload strictly. The values alias data,
// and so do the id and the names (see alias): data must not change afterwards.
func parsePayload(data []byte) (*Payload, error) {
	s := scanner{data: data}
	p := &Payload{}
	var seen uint8
	const (
		sawSID = 1 << iota
		sawIAT
		sawLAT
		sawEXP
		sawRM
		sawV
		required = sawSID | sawIAT | sawLAT | sawEXP | sawV
	)
	var iat, lat, exp int64
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
		case "v":
			bit = sawV
			p.Values, ok2 = s.values()
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
	return p, nil
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

func isBase64URL(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

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
	start := s.i
	var n int64
	for s.i < len(s.data) && '0' <= s.data[s.i] && s.data[s.i] <= '9' {
		n = n*10 + int64(s.data[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || digits > 12 || (digits > 1 && s.data[start] == '0') {
		return 0, false
	}
	if s.i < len(s.data) && (s.data[s.i] == '.' || s.data[s.i] == 'e' || s.data[s.i] == 'E') {
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
// wins, and the payload must mean one thing.
func (s *scanner) values() (map[string]json.RawMessage, bool) {
	if !s.consume('{') {
		return nil, false
	}
	m := make(map[string]json.RawMessage)
	for first := true; ; first = false {
		s.space()
		if s.consume('}') {
			return m, true
		}
		if !first && !(s.consume(',') && s.spaceThen()) {
			return nil, false
		}
		start := s.i
		if !s.str() {
			return nil, false
		}
		name, ok := decodeName(s.data[start:s.i])
		if !ok {
			return nil, false
		}
		s.space()
		if !s.consume(':') {
			return nil, false
		}
		s.space()
		start = s.i
		if !s.value(0) {
			return nil, false
		}
		n := len(m)
		if m[name] = s.data[start:s.i:s.i]; len(m) == n {
			return nil, false // a repeated name: the map did not grow
		}
	}
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
// is a valid one there, nested at most maxJSONDepth deep.
func skipValue(data []byte, i, depth int) (int, bool) {
	if depth > maxJSONDepth || i >= len(data) {
		return i, false
	}
	var ok bool
	switch c := data[i]; {
	case c == '"':
		return skipString(data, i)
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
