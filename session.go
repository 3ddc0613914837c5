package cookiesession

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"
)

// flashKey is the value under which flash messages are kept. Keys, Len and
// Has do not count it.
const flashKey = "_flash"

// A Session is the map the application reads and writes, as it is loaded
// from a request's cookies: empty when there was no valid cookie. Values are
// stored as JSON; they are decoded when read, so reading one value of a large
// session decodes only that one.
//
// A Session is safe for concurrent use by the goroutines of one request. It is
// written back only when it was modified, renewed or destroyed, when its idle
// window needs a touch, when it was opened with a key that is no longer the
// primary, or always with Config.SaveEveryRequest. Chunk cookies beyond the
// set its cookie declared (debris, see the package doc's Limits) are expired
// on the response even when it is not written back.
//
// Concurrent requests of one client each load the cookie they were sent and
// write their own result: the last response to arrive wins. A session is no
// place for a counter that must not lose updates.
type Session struct {
	mu sync.Mutex
	m  *Manager

	st    state // what the application sees now
	saved state // at load or at the last successful Save: what Save restores
	dirty bool  // st changed since saved; st.values is then st's own copy

	lastActivity time.Time // of the loaded cookie
	info         OpenInfo  // how the request's cookie was opened
	loadErr      error     // why the request's cookie was not used, if it was not
	present      uint16    // bit i: the request carried chunk i
	reseal       bool      // opened with a non-primary key, due a touch, or imported
	imported     string    // the Importer's Source when the session was imported
	importExpire []string  // Set-Cookie lines expiring the cookies the import read

	cookies chunkCookies // the request's cookies of this session: load's, here to spare an allocation
	spare   members      // room for the values' copy at the first change, allocated with them
}

// state is the part of a Session that Save can restore.
type state struct {
	id        string
	issuedAt  time.Time // zero until first saved
	expiry    time.Time // zero until first saved
	remember  RememberMe
	subject   string
	device    string // the "dk" claim: bound to a device key when not ""
	bind      bool   // the response must ask the browser to bind (DBSC)
	values    members
	destroyed bool
	sealed    []string // Set-Cookie lines of the last successful Save, while unchanged
}

func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ID returns the session's random identifier (22 base64url characters). It is
// new for a new session and after Renew. It is not a secret in Signed mode,
// and never a way to revoke a session: nothing is stored under it.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.id == "" {
		// A new session gets its identifier when first asked, and keeps it
		// when saved (or restored by a failed Save).
		s.st.id = newSessionID()
		if s.saved.id == "" {
			s.saved.id = s.st.id
		}
	}
	return s.st.id
}

// IsNew reports whether the session has not been issued yet: the request
// carried no valid cookie, or the session was renewed or destroyed and started
// again, and it has not been saved since.
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.issuedAt.IsZero()
}

// IssuedAt returns when the session was issued (by its first save or Renew).
// It is the zero time for a session not saved yet.
func (s *Session) IssuedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.issuedAt
}

// LastActivity returns the last-activity claim of the loaded cookie (zero for
// a new session).
func (s *Session) LastActivity() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastActivity
}

// ExpiresAt returns the expiry claim of the loaded or last saved cookie (zero
// for a new session not saved yet).
func (s *Session) ExpiresAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.expiry
}

// Info returns how the request's cookie was opened: key id, whether that key
// is the primary, chunks, bytes, compression. It is the zero OpenInfo when
// the request carried no valid cookie.
func (s *Session) Info() OpenInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// ImportedFrom returns the [Importer.Source] of the importer that gave this
// request's session ("django", "gorilla", "cookiesession"), or "" when the
// session was not imported on this request.
func (s *Session) ImportedFrom() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.imported
}

// LoadError returns why the request's cookie was not used: nil when it was
// (or when there was none), else an error matching ErrInvalid, ErrExpired or
// ErrRevoked.
// The session is then empty, and the stale cookies are expired on the response.
func (s *Session) LoadError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadErr
}

// Has reports whether the session holds key.
func (s *Session) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.st.values.index(key)
	return ok && key != flashKey
}

// Keys returns the keys of the session's values, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.st.values))
	for _, m := range s.st.values { // sorted already
		if m.name != flashKey {
			keys = append(keys, m.name)
		}
	}
	return keys
}

// Len returns the number of values.
func (s *Session) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.st.values)
	if _, ok := s.st.values.index(flashKey); ok {
		n--
	}
	return n
}

// Raw returns a copy of the JSON of the value under key, or nil. Writing
// into it changes nothing in the session.
func (s *Session) Raw(key string) json.RawMessage {
	return bytes.Clone(s.raw(key))
}

// raw returns the JSON of the value under key, or nil, as the session holds
// it, for the getters, which only read it. A value's bytes are never written
// once stored (a change stores another slice), so they stay valid after the
// lock is released.
func (s *Session) raw(key string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.values.get(key)
}

// Get returns the value under key decoded as encoding/json decodes into an
// any, except that numbers are json.Number (so an int64 is not rounded through
// float64). It returns nil when key is absent. Prefer the generic [Get] or the
// typed getters.
func (s *Session) Get(key string) any {
	raw := s.raw(key)
	if raw == nil {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil
	}
	return v
}

// Get returns the value under key decoded into a T, and whether it was
// present and decoded. A number that does not fit T (1.5 into an int, 300
// into an int8) is not decoded.
//
//	id, ok := cookiesession.Get[int64](s, "user_id")
func Get[T any](s *Session, key string) (T, bool) {
	var v T
	raw := s.raw(key)
	if raw == nil || json.Unmarshal(raw, &v) != nil {
		var zero T
		return zero, false
	}
	return v, true
}

// GetString returns the string under key, or "".
func (s *Session) GetString(key string) string {
	if v, ok := plainJSONString(s.raw(key)); ok {
		return v
	}
	v, _ := Get[string](s, key)
	return v
}

// GetInt returns the int under key, or 0.
func (s *Session) GetInt(key string) int {
	if v, ok := plainJSONInt(s.raw(key)); ok && int64(int(v)) == v {
		return int(v)
	}
	v, _ := Get[int](s, key)
	return v
}

// GetInt64 returns the int64 under key, or 0. Every int64 survives the round
// trip exactly.
func (s *Session) GetInt64(key string) int64 {
	if v, ok := plainJSONInt(s.raw(key)); ok {
		return v
	}
	v, _ := Get[int64](s, key)
	return v
}

// GetFloat64 returns the number under key, or 0.
func (s *Session) GetFloat64(key string) float64 { v, _ := Get[float64](s, key); return v }

// GetBool returns the bool under key, or false.
func (s *Session) GetBool(key string) bool { v, _ := Get[bool](s, key); return v }

// GetTime returns the time under key (stored by Set as RFC 3339 with
// nanoseconds), or the zero time.
func (s *Session) GetTime(key string) time.Time { v, _ := Get[time.Time](s, key); return v }

// GetBytes returns the []byte under key (stored by Set as base64), or nil.
func (s *Session) GetBytes(key string) []byte { v, _ := Get[[]byte](s, key); return v }

// Set stores value under key as its JSON (encoding/json). It returns the
// marshalling error, if any, or an error matching [ErrBadValue] for a value
// that the next request could not read back (nested deeper than MaxNesting,
// or under a key that is not valid UTF-8), and then leaves the session
// unchanged. What Set accepts reads back byte for byte once saved, unless
// the session no longer fits its cookies: Save reports that.
func (s *Session) Set(key string, value any) error {
	raw, err := marshalJSON(value)
	if err != nil {
		return err
	}
	if err := checkValue(key, raw); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(key, raw)
	return nil
}

func (s *Session) put(key string, raw json.RawMessage) {
	s.change()
	if i, ok := s.st.values.index(key); ok {
		s.st.values[i].value = raw
	} else {
		s.st.values = slices.Insert(s.st.values, i, member{key, raw})
	}
}

// remove deletes key, which the session holds.
func (s *Session) remove(key string) {
	s.change()
	if i, ok := s.st.values.index(key); ok {
		s.st.values = slices.Delete(s.st.values, i, i+1)
	}
}

// change records a modification. Values are copied on the first change
// after a load or Save, so that Save can restore them.
func (s *Session) change() {
	if s.st.destroyed {
		// Changing a destroyed session starts a new one.
		s.st = state{id: newSessionID()}
	}
	if !s.dirty {
		values := s.spare[:0]
		if cap(values) < len(s.st.values) {
			// With room for two more values: a change often adds one.
			values = make(members, 0, len(s.st.values)+2)
		}
		s.st.values, s.spare = append(values, s.st.values...), nil
		s.dirty = true
	}
	s.st.sealed = nil
}

// Delete removes key. Deleting an absent key changes nothing.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.values.index(key); ok {
		s.remove(key)
	}
}

// Pop returns the value under key as Get does, and removes it.
func (s *Session) Pop(key string) any {
	v := s.Get(key)
	s.Delete(key)
	return v
}

// PopString returns the string under key, or "", and removes it.
func (s *Session) PopString(key string) string {
	v := s.GetString(key)
	s.Delete(key)
	return v
}

// Clear removes every value, flash messages included. The session keeps its
// identity: use Renew or Destroy at a change of privilege.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.st.values) > 0 {
		s.change()
		s.st.values = nil
	}
}

// AddFlash queues a message for the next request that calls Flashes.
func (s *Session) AddFlash(message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var queue []string
	if raw := s.st.values.get(flashKey); raw != nil {
		_ = json.Unmarshal(raw, &queue)
	}
	raw, _ := json.Marshal(append(queue, message))
	s.put(flashKey, raw)
}

// Flashes returns the queued flash messages and removes them, so each is
// shown once.
func (s *Session) Flashes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	raw := s.st.values.get(flashKey)
	if raw == nil {
		return nil
	}
	var queue []string
	_ = json.Unmarshal(raw, &queue)
	s.remove(flashKey)
	return queue
}

// Renew gives the session a new identity and a new issued-at, keeping its
// values: call it when privilege changes, at login and logout. An attacker who
// planted a cookie in the victim's browser before login (session fixation)
// then holds a cookie for the old identity, not the logged-in one. The old
// cookie stays valid until its expiry: nothing is stored to revoke it.
func (s *Session) Renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.change()
	s.st.id = newSessionID()
	s.st.issuedAt, s.st.expiry = time.Time{}, time.Time{} // set when saved
}

// Destroy empties the session and expires its cookie and every chunk on the
// response. Setting a value afterwards starts a new session.
func (s *Session) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.change()
	s.st = state{id: s.st.id, destroyed: true}
}

// RememberMe chooses, for this session only, a persistent cookie (true: it
// carries Max-Age and survives closing the browser) or a browser-session
// cookie (false), overriding Config.BrowserSession. The choice is sealed in
// the cookie and kept by later requests. A session that chose true lives
// Config.RememberLifetime from its issue instead of Lifetime: at login, call
// Renew and then RememberMe(true) for "keep me signed in".
func (s *Session) RememberMe(remember bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := RememberNo
	if remember {
		want = RememberYes
	}
	if s.st.remember != want {
		s.change()
		s.st.remember = want
	}
}

// SetSubject sets the session's subject: the id of the user it belongs to,
// sealed with the session (the "sub" claim) and read back by [Session.Subject]
// on later requests. Set it at login, next to Renew:
//
//	s.Renew()
//	s.SetSubject(user.ID)
//
// A session with a subject can be revoked with every other session of that
// subject through [Config.Revocations], without a server store. Renew and
// Clear keep the subject; Destroy drops it; an empty subject removes it. It
// returns an error, and leaves the session unchanged, for a subject over
// MaxSubjectBytes or not valid UTF-8.
func (s *Session) SetSubject(subject string) error {
	if subject != "" && !validSubject(subject) {
		return fmt.Errorf("cookiesession: subject of %d bytes is not 1 to %d bytes of UTF-8", len(subject), MaxSubjectBytes)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.subject != subject {
		s.change()
		s.st.subject = subject
	}
	return nil
}

// Subject returns the session's subject, set by [Session.SetSubject] on this
// request or an earlier one; "" when it has none.
func (s *Session) Subject() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.subject
}

// Save seals the session now and returns an error if it cannot be written:
// a [*SizeError] (matching [ErrTooLarge]) when it no longer fits its cookies.
// On that error Save restores the session to what it was at the last
// successful Save or at load, so the response keeps the client's previous
// cookie; the handler can tell the user and carry on. Calling Save is
// optional: the middleware seals at the end anyway, re-using what Save sealed
// when nothing changed since.
func (s *Session) Save() error {
	_, err := s.commitLines()
	return err
}

// commitLines returns the Set-Cookie lines the session needs now. On success
// they become the saved state; on error the session goes back to the last
// saved state.
func (s *Session) commitLines() ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := Event{Op: OpSave}
	lines, err := s.m.setCookieLines(s, &ev)
	if s.m.cfg.Observer != nil {
		if err != nil {
			ev.Outcome, ev.Reason, ev.Err = saveOutcome(err), reasonOf(err), err
		}
		s.m.cfg.Observer(ev)
	}
	if err != nil {
		s.st, s.dirty = s.saved, false
		return nil, err
	}
	s.st.sealed = lines
	s.saved, s.dirty, s.reseal = s.st, false, false
	return lines, nil
}

// The shortcuts below give exactly what encoding/json gives for the simplest
// and most common values, without its reflection: they keep a request that
// reads a counter and writes it back cheap. Anything else goes to
// encoding/json.

// plainJSONString returns the string raw holds when it is a JSON string of
// printable ASCII without escapes, which encoding/json decodes unchanged.
func plainJSONString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(raw[1 : len(raw)-1]), true
}

// plainJSONInt returns the integer raw holds when it is an optional minus and
// 1 to 18 digits without a leading zero: a number encoding/json decodes into an
// int64 as strconv does, and that cannot overflow.
func plainJSONInt(raw []byte) (int64, bool) {
	digits := raw
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 || digits[0] == '0' && len(digits) > 1 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) < len(raw) {
		n = -n
	}
	return n, true
}

// marshalJSON is json.Marshal, with the same output, cheaper for ints, bools
// and plain strings.
func marshalJSON(v any) ([]byte, error) {
	switch v := v.(type) {
	case int:
		var buf [20]byte
		return slices.Clone(appendInt(buf[:0], int64(v))), nil
	case int64:
		var buf [20]byte
		return slices.Clone(appendInt(buf[:0], v)), nil
	case bool:
		return strconv.AppendBool(nil, v), nil
	case string:
		if jsonVerbatim(v) {
			return appendJSONString(make([]byte, 0, len(v)+2), v), nil
		}
	}
	return json.Marshal(v)
}
