package cookiesession

import (
	"encoding/json"
	"slices"
	"strconv"
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
	var onStack [32]string // most sessions: no allocation to sort the keys
	keys := onStack[:0]
	if len(p.Values) > len(onStack) {
		keys = make([]string, 0, len(p.Values))
	}
	for k := range p.Values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = append(b, p.Values[k]...)
	}
	return append(b, "}}"...)
}

// appendJSONString appends s as a JSON string, escaped as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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
		if _, dup := m[name]; dup {
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
		m[name] = s.data[start:s.i:s.i]
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
	if depth > maxJSONDepth || s.i >= len(s.data) {
		return false
	}
	switch c := s.data[s.i]; {
	case c == '"':
		return s.str()
	case c == '{':
		s.i++
		for first := true; ; first = false {
			s.space()
			if s.consume('}') {
				return true
			}
			if !first && !(s.consume(',') && s.spaceThen()) {
				return false
			}
			if !s.str() {
				return false
			}
			s.space()
			if !s.consume(':') {
				return false
			}
			s.space()
			if !s.value(depth + 1) {
				return false
			}
		}
	case c == '[':
		s.i++
		for first := true; ; first = false {
			s.space()
			if s.consume(']') {
				return true
			}
			if !first && !(s.consume(',') && s.spaceThen()) {
				return false
			}
			if !s.value(depth + 1) {
				return false
			}
		}
	case c == '-' || '0' <= c && c <= '9':
		return s.number()
	default:
		return s.literal("true") || s.literal("false") || s.literal("null")
	}
}

// str skips a JSON string, checking escapes and control characters.
func (s *scanner) str() bool {
	if !s.consume('"') {
		return false
	}
	for s.i < len(s.data) {
		s.i = skipPlain(s.data, s.i)
		if s.i == len(s.data) {
			return false
		}
		c := s.data[s.i]
		s.i++
		switch {
		case c == '"':
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if s.i >= len(s.data) {
				return false
			}
			e := s.data[s.i]
			s.i++
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(s.data)-s.i < 4 {
					return false
				}
				for _, h := range s.data[s.i : s.i+4] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				s.i += 4
			default:
				return false
			}
		}
	}
	return false
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
// a run of plain string bytes, or len(data): the hot loop of str, kept in
// locals.
func skipPlain(data []byte, i int) int {
	for i < len(data) && !strStop[data[i]] {
		i++
	}
	return i
}

// number skips a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	s.consume('-')
	switch {
	case s.consume('0'):
	case s.i < len(s.data) && '1' <= s.data[s.i] && s.data[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.consume('.') && !s.digits() {
		return false
	}
	if s.consume('e') || s.consume('E') {
		if !s.consume('+') {
			s.consume('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits skips one or more digits and reports whether there was one.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.data) && '0' <= s.data[s.i] && s.data[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
