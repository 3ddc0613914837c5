package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	cs "github.com/cookiesession/cookiesession"
)

// maxDepth is the nesting bound the package applies to a value (64 levels):
// Seal refuses a deeper value, which would never open again; it is refused
// here first, with the name of the value.
const maxDepth = cs.MaxNesting

// readValues reads the JSON object of session values from stdin.
func (e *env) readValues() (map[string]json.RawMessage, error) {
	data, err := e.readStdin("the values")
	if err != nil {
		return nil, err
	}
	return parseValues(data)
}

// parseValues reads a JSON object into compact raw values. Unlike
// encoding/json, it refuses a repeated name: the package refuses one when it
// opens the cookie, and the session must mean one thing.
func parseValues(data []byte) (map[string]json.RawMessage, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, configf("no values on stdin: want a JSON object, such as {} or {\"user\":\"ada\"}")
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, configf("values on stdin: bad JSON at byte %d: %v", se.Offset, err)
		}
		return nil, configf("values on stdin: bad JSON: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, _ := dec.Token(); tok != json.Delim('{') {
		return nil, configf("values on stdin: want a JSON object, not %s", jsonKind(tok))
	}
	values := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, configf("values on stdin: bad JSON: %v", err)
		}
		name := tok.(string) // a valid object's member name
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, configf("values on stdin: bad JSON: %v", err)
		}
		if _, dup := values[name]; dup {
			return nil, configf("values on stdin: name %q appears twice", name)
		}
		if depth(raw) > maxDepth {
			return nil, configf("values on stdin: value %q is nested deeper than %d levels", name, maxDepth)
		}
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return nil, configf("values on stdin: bad JSON: %v", err)
		}
		values[name] = b.Bytes()
	}
	return values, nil
}

func jsonKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return "an array"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// depth returns the most arrays and objects open at once in the valid JSON
// value raw.
func depth(raw []byte) int {
	d, most, inString := 0, 0, false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			d++
			most = max(most, d)
		case c == ']' || c == '}':
			d--
		}
	}
	return most
}

// newSessionID returns 16 random bytes in base64url: 22 characters.
func newSessionID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// validSessionID reports whether id is 1 to 64 base64url characters, as the
// package requires.
func validSessionID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// newPayload returns a fresh session of values issued at now.
func newPayload(c *cs.Codec, id string, now time.Time, values map[string]json.RawMessage) (*cs.Payload, error) {
	if id == "" {
		var err error
		if id, err = newSessionID(); err != nil {
			return nil, configf("reading random bytes: %v", err)
		}
	}
	now = now.Truncate(time.Second)
	return &cs.Payload{
		ID:           id,
		IssuedAt:     now,
		LastActivity: now,
		Expiry:       c.Expiry(now, now),
		Values:       values,
	}, nil
}

// rfc3339 formats t in UTC.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
