package cookiesession

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Revocation without a store. A session that carries a subject (see
// Session.SetSubject) is refused when a revocation list in force says that
// its subject's sessions issued before some instant are void. The list
// travels as the key ring does: a value replaced from code ([Revocations]) or
// a file that every process follows ([RevocationFile]), so one write revokes
// a user's sessions across a fleet within the reload interval, with no
// database. An entry stops mattering once the longest session lifetime has
// passed since its instant: every session it could refuse has expired by
// then. The Manager ignores such entries from the moment it puts a list in
// force, and [RevocationList.Prune] drops them from a file, so the list stays as
// small as the number of users revoked within one lifetime.

// A Revocation refuses the sessions of Subject issued before NotBefore.
type Revocation struct {
	Subject   string
	NotBefore time.Time
}

// A RevocationList maps subjects to not-before instants: a session whose
// subject is in the list and whose issued-at lies before its instant is
// refused ([ErrRevoked]). Instants are whole seconds, rounded up, as issued-at
// is: a session issued in the second of its revocation is refused too (see
// [Config.Revocations] for the session that asked for the revocation).
//
// A RevocationList is immutable and safe for concurrent use. It is a
// [RevocationSource] that always returns itself. It never prints subjects:
// String shows only their count.
type RevocationList struct {
	nb map[string]int64 // subject -> not-before, Unix seconds
}

// NewRevocationList returns a list of the given revocations. A subject given
// twice keeps its latest instant. A subject that is empty, over
// MaxSubjectBytes or not valid UTF-8 is an error wrapping [ErrConfig].
func NewRevocationList(revs ...Revocation) (*RevocationList, error) {
	l := &RevocationList{nb: make(map[string]int64, len(revs))}
	for i, r := range revs {
		if !validSubject(r.Subject) {
			return nil, configErrorf("revocation %d: subject is not 1 to %d bytes of UTF-8", i+1, MaxSubjectBytes)
		}
		l.put(r.Subject, ceilUnix(r.NotBefore))
	}
	return l, nil
}

// put records subject's not-before, keeping the later one.
func (l *RevocationList) put(subject string, nb int64) {
	if old, ok := l.nb[subject]; !ok || nb > old {
		l.nb[subject] = nb
	}
}

// revocationFile is the JSON of a revocation list file.
type revocationFile struct {
	Revocations *[]revocationEntry `json:"revocations"`
}

type revocationEntry struct {
	Subject   *string `json:"subject"`
	NotBefore *string `json:"not_before"`
}

// ParseRevocationList reads a revocation list file: one JSON object with one
// member, "revocations", an array of entries
//
//	{"revocations": [
//	  {"subject": "user-42", "not_before": "2026-11-26T09:30:00Z"}
//	]}
//
// each with exactly a "subject" (1 to MaxSubjectBytes bytes) and a
// "not_before" (RFC 3339; a fraction of a second rounds up). The file is at
// most MaxRevocationFileBytes long. An unknown member (such as a misspelt
// "not-before", which would otherwise revoke nothing), a missing one, a
// subject listed twice or data after the object is an error wrapping
// [ErrConfig] that names the entry.
func ParseRevocationList(data []byte) (*RevocationList, error) {
	if len(data) > MaxRevocationFileBytes {
		return nil, configErrorf("revocation list: %d bytes, more than %d", len(data), MaxRevocationFileBytes)
	}
	if !utf8.Valid(data) {
		// encoding/json would read bytes that are not UTF-8 as U+FFFD: a
		// subject that no session carries.
		return nil, configErrorf("revocation list: not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f revocationFile
	if err := dec.Decode(&f); err != nil || f.Revocations == nil {
		return nil, configErrorf(`revocation list: not {"revocations":[{"subject":…,"not_before":…},…]}`)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, configErrorf("revocation list: data after the JSON object")
	}
	l := &RevocationList{nb: make(map[string]int64, len(*f.Revocations))}
	for i, e := range *f.Revocations {
		switch {
		case e.Subject == nil || e.NotBefore == nil:
			return nil, configErrorf(`revocation list: entry %d: want "subject" and "not_before"`, i+1)
		case !validSubject(*e.Subject):
			return nil, configErrorf("revocation list: entry %d: subject is not 1 to %d bytes of UTF-8", i+1, MaxSubjectBytes)
		}
		t, err := time.Parse(time.RFC3339, *e.NotBefore)
		if err != nil {
			return nil, configErrorf("revocation list: entry %d: not_before %.40q is not an RFC 3339 time", i+1, *e.NotBefore)
		}
		if _, dup := l.nb[*e.Subject]; dup {
			return nil, configErrorf("revocation list: entry %d: subject %.64q is listed twice", i+1, *e.Subject)
		}
		l.nb[*e.Subject] = ceilUnix(t)
	}
	return l, nil
}

// MarshalJSON writes the list in the file format that ParseRevocationList
// reads, entries sorted by subject, instants in UTC.
func (l *RevocationList) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"revocations":[`)
	for i, r := range l.Revocations() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n  {\"subject\":")
		b.Write(appendJSONString(nil, r.Subject))
		b.WriteString(`,"not_before":"` + r.NotBefore.UTC().Format(time.RFC3339) + `"}`)
	}
	if l.Len() > 0 {
		b.WriteByte('\n')
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

// NotBefore returns the instant before which the sessions of subject are
// refused, and whether the list has one.
func (l *RevocationList) NotBefore(subject string) (time.Time, bool) {
	nb, ok := l.nb[subject]
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(nb, 0).UTC(), true
}

// Len returns the number of subjects in the list.
func (l *RevocationList) Len() int { return len(l.nb) }

// Revocations returns the entries, sorted by subject.
func (l *RevocationList) Revocations() []Revocation {
	out := make([]Revocation, 0, len(l.nb))
	for sub, nb := range l.nb {
		out = append(out, Revocation{sub, time.Unix(nb, 0).UTC()})
	}
	slices.SortFunc(out, func(a, b Revocation) int { return strings.Compare(a.Subject, b.Subject) })
	return out
}

// Revoke returns a new list in which the sessions of subject issued before
// at are refused. An instant earlier than the one the list has for subject
// changes nothing: revoking never brings a session back.
func (l *RevocationList) Revoke(subject string, at time.Time) (*RevocationList, error) {
	if !validSubject(subject) {
		return nil, configErrorf("revoke: subject is not 1 to %d bytes of UTF-8", MaxSubjectBytes)
	}
	n := &RevocationList{nb: make(map[string]int64, len(l.nb)+1)}
	for sub, nb := range l.nb {
		n.nb[sub] = nb
	}
	n.put(subject, ceilUnix(at))
	return n, nil
}

// Prune returns the list without the entries that can no longer refuse
// anything at now for sessions of at most that lifetime: those whose instant
// lies a lifetime or more before now. It returns l itself when nothing is
// dropped.
func (l *RevocationList) Prune(now time.Time, lifetime time.Duration) *RevocationList {
	cut := now.Unix() - int64(lifetime/time.Second)
	drop := 0
	for _, nb := range l.nb {
		if nb <= cut {
			drop++
		}
	}
	if drop == 0 {
		return l
	}
	n := &RevocationList{nb: make(map[string]int64, len(l.nb)-drop)}
	for sub, nb := range l.nb {
		if nb > cut {
			n.nb[sub] = nb
		}
	}
	return n
}

// RevocationList returns l: a fixed list is its own [RevocationSource].
func (l *RevocationList) RevocationList() *RevocationList { return l }

// String returns "RevocationList(N subjects)"; subjects are not printed.
func (l *RevocationList) String() string {
	return "RevocationList(" + strconv.Itoa(l.Len()) + " subjects)"
}

// A RevocationSource gives the revocation list in force. RevocationList is
// called for every request whose session has a subject, so it must be cheap
// and safe for concurrent use; nil means no list. [*RevocationList],
// [*Revocations] and [*RevocationFile] are RevocationSources.
type RevocationSource interface {
	RevocationList() *RevocationList
}

// Revocations holds a revocation list that can be replaced at run time,
// atomically, from code: for a single process, or for an application that
// distributes the list itself.
type Revocations struct {
	list atomic.Pointer[RevocationList]
}

// NewRevocations returns a holder of l; nil means an empty list.
func NewRevocations(l *RevocationList) *Revocations {
	r := new(Revocations)
	r.Replace(l)
	return r
}

// RevocationList returns the list in force.
func (r *Revocations) RevocationList() *RevocationList { return r.list.Load() }

// Replace puts l in force for every later request; nil means an empty list.
func (r *Revocations) Replace(l *RevocationList) {
	if l == nil {
		l = &RevocationList{}
	}
	r.list.Store(l)
}

// Revoke refuses, from now on, the sessions of subject issued before at
// (see [RevocationList.Revoke]). It is safe to call concurrently with
// itself and with Replace: no revocation is lost.
func (r *Revocations) Revoke(subject string, at time.Time) error {
	for {
		old := r.list.Load()
		n, err := old.Revoke(subject, at)
		if err != nil {
			return err
		}
		if r.list.CompareAndSwap(old, n) {
			return nil
		}
	}
}

// String returns the list's String.
func (r *Revocations) String() string { return r.RevocationList().String() }

// DefaultRevocationFileInterval is the default for
// RevocationFileOptions.Interval.
const DefaultRevocationFileInterval = time.Second

// RevocationFileOptions configure [OpenRevocationFile]. A nil
// *RevocationFileOptions means every default.
type RevocationFileOptions struct {
	// Interval is how often the file is read again to notice a change, at
	// most once per Interval and only on a request whose session has a
	// subject. A revocation written to the file is in force in every process
	// within Interval of that process's next such request. The default value
	// is DefaultRevocationFileInterval (one second).
	Interval time.Duration

	// OnError is called when a changed file cannot be read or does not
	// parse, once per failure; the previous list stays in force. The default
	// value logs with log/slog.
	OnError func(error)

	// OnChange is called after a changed file put a new list in force. The
	// default value is nil.
	OnChange func(*RevocationList)
}

// A RevocationFile is a [RevocationSource] that follows a revocation list
// file (see [ParseRevocationList] for its format) that every process of a
// fleet reads, such as a mounted ConfigMap or a file an operator replaces
// with "cookiesession revoke": it is read again at most once per interval,
// from the request that notices the interval passed, and a new list put in
// force when its content changed. A file that cannot be read or no longer
// parses leaves the previous list in force and is reported to OnError once.
// Replace the file atomically (write a temporary file, then rename it), as
// the command line tool does.
type RevocationFile struct {
	f *followed[RevocationList]
}

// OpenRevocationFile reads the list in path, which must parse, and returns
// a source that follows later changes to the file.
func OpenRevocationFile(path string, opts *RevocationFileOptions) (*RevocationFile, error) {
	var o RevocationFileOptions
	if opts != nil {
		o = *opts
	}
	f, err := openFollowed(path, "revocation list file", MaxRevocationFileBytes, ParseRevocationList,
		o.Interval, DefaultRevocationFileInterval, o.OnError, o.OnChange,
		"cookiesession: revocation list file not reloaded; previous list stays in force")
	if err != nil {
		return nil, err
	}
	return &RevocationFile{f: f}, nil
}

// RevocationList returns the list in force, reading the file again first
// when the interval has passed.
func (f *RevocationFile) RevocationList() *RevocationList { return f.f.get() }

// Reload reads the file now and returns why it was not put in force, if it
// was not: call it after writing the file from this process, so that the
// response being written already sees the new list.
func (f *RevocationFile) Reload() error { return f.f.Reload() }

// String names the file and the list in force.
func (f *RevocationFile) String() string {
	return "RevocationFile(" + f.f.path + ": " + f.f.cur.Load().String() + ")"
}

// A RevokedError is the error for a session refused after its cookie opened:
// its subject's sessions issued before NotBefore are revoked
// ([Config.Revocations]), or [Config.Validate] refused it (Err). It matches
// [ErrRevoked] and, for a refusal of Validate, Err.
type RevokedError struct {
	Subject   string    // the session's subject, "" for none
	IssuedAt  time.Time // the session's issued-at
	NotBefore time.Time // the subject's not-before; zero when Validate refused
	Err       error     // what Validate returned; nil when the list refused
}

func (e *RevokedError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%v: subject %.64q: Validate: %v", ErrRevoked, e.Subject, e.Err)
	}
	return fmt.Sprintf("%v: subject %.64q issued %s, before its not-before %s", ErrRevoked, e.Subject,
		e.IssuedAt.UTC().Format(time.RFC3339), e.NotBefore.UTC().Format(time.RFC3339))
}

// Unwrap returns ErrRevoked and Err.
func (e *RevokedError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrRevoked, e.Err}
	}
	return []error{ErrRevoked}
}

// revocationIndex is the list of a source as the Manager uses it: pruned of
// the entries its lifetime makes moot, at the time it was put in force.
type revocationIndex struct {
	src    *RevocationList
	pruned *RevocationList
}

// revokedBefore returns the not-before of subject in the list in force, in
// Unix seconds, and whether there is one.
func (m *Manager) revokedBefore(subject string) (int64, bool) {
	if m.cfg.Revocations == nil {
		return 0, false
	}
	list := m.cfg.Revocations.RevocationList()
	if list == nil {
		return 0, false
	}
	idx := m.revocations.Load()
	if idx == nil || idx.src != list {
		// The longest lifetime: a remember-me session outlives Lifetime.
		idx = &revocationIndex{src: list, pruned: list.Prune(m.now(), max(m.cfg.Lifetime, m.cfg.RememberLifetime))}
		m.revocations.Store(idx)
	}
	nb, ok := idx.pruned.nb[subject]
	return nb, ok
}

// checkRevoked returns a *RevokedError when the list in force revokes the
// opened payload p.
func (m *Manager) checkRevoked(p *Payload) error {
	if p.Subject == "" {
		return nil
	}
	if nb, ok := m.revokedBefore(p.Subject); ok && p.IssuedAt.Unix() < nb {
		return &RevokedError{Subject: strings.Clone(p.Subject), IssuedAt: p.IssuedAt, NotBefore: time.Unix(nb, 0)}
	}
	return nil
}

// issuedAt returns the issued-at of a session of subject sealed for the
// first time (new, or renewed) at now: now in whole seconds, except for a
// subject revoked within this very second. Its not-before is then the next
// second (instants round up), which would refuse the session being issued,
// typically the one that asked to revoke its subject's other sessions: it is
// issued at that not-before instead, less than a second ahead, which every
// reader accepts within its clock skew (with no skew allowance it is not).
func (m *Manager) issuedAt(now time.Time, subject string) time.Time {
	iat := now.Truncate(time.Second)
	if subject != "" && m.cfg.Limits.ClockSkew >= time.Second {
		if nb, ok := m.revokedBefore(subject); ok && nb == iat.Unix()+1 {
			return iat.Add(time.Second)
		}
	}
	return iat
}

// validate calls Config.Validate for s, whose cookie opened. When it refuses
// the session, s goes back to an empty session whose stale cookies the
// response expires, as for any refused cookie.
func (m *Manager) validate(r *http.Request, s *Session) error {
	verr := m.cfg.Validate(r, s)
	if verr == nil {
		return nil
	}
	err := &RevokedError{Subject: s.Subject(), IssuedAt: s.IssuedAt(), Err: verr}
	s.mu.Lock()
	s.st, s.saved, s.dirty, s.reseal, s.imported = state{}, state{}, false, false, ""
	s.info, s.lastActivity, s.spare, s.loadErr = OpenInfo{}, time.Time{}, nil, err
	s.mu.Unlock()
	return err
}
