package cookiesession

import "errors"

// An Event is what [Config.Observer] receives: one per load of a request's
// session and one per save. Its strings are stable, meant for metric labels
// and alerts; the Outcome and Reason constants below list them, and others
// may be added, so an
// observer must count a string it does not know rather than refuse it.
type Event struct {
	// Op is OpLoad or OpSave.
	Op string

	// Outcome is what happened: for a load OutcomeNoCookie, OutcomeOpened,
	// OutcomeImported, OutcomeInvalid, OutcomeExpired, OutcomeRevoked or
	// OutcomeUnbound; for a save OutcomeSealed,
	// OutcomeCleared, OutcomeUnchanged, OutcomeTooLarge, OutcomeSkipped or
	// OutcomeFailed.
	Outcome string

	// Reason refines the outcome, "" when there is nothing to add: which
	// check refused a cookie (ReasonAuth, ReasonLifetime, …), why a cookie
	// was sealed (ReasonChanged, ReasonOldKey, ReasonTouch) or cleared, which
	// bound a session was too large for.
	Reason string

	// KeyID is, for a load, the id of the key the cookie's header named,
	// once that header was found to be one of the ring's (so also for a
	// cookie refused at a later step); for a save, the id of the key that
	// sealed it (OutcomeSealed). Counting sealed events by KeyID counts the
	// seals each key made, the figure the AES-GCM nonce budget is about.
	KeyID string

	// Bytes is the length of the sealed value opened or sealed; Chunks the
	// number of cookies it came in or went out in. Both are 0 when no value
	// got that far.
	Bytes, Chunks int

	// Err is the error of a refused load or a failed save (matching
	// ErrInvalid, ErrExpired, ErrTooLarge, …), nil otherwise. It is the error
	// ErrorLog receives.
	Err error
}

// The operations of an [Event].
const (
	OpLoad = "load"
	OpSave = "save"
)

// The outcomes of an [Event].
const (
	OutcomeNoCookie  = "no-cookie" // load: the request carried no cookie of this session
	OutcomeOpened    = "opened"    // load: the cookie opened (Reason ReasonOldKey when not with the primary key)
	OutcomeImported  = "imported"  // load: an Importer's session; Reason is its Source ("cookiesession", "django", …)
	OutcomeInvalid   = "invalid"   // load: refused, ErrInvalid
	OutcomeExpired   = "expired"   // load: authentic but past its time, ErrExpired
	OutcomeRevoked   = "revoked"   // load: refused by the revocation list or Config.Validate, ErrRevoked
	OutcomeUnbound   = "unbound"   // load: a device-bound session without its bound cookie, ErrUnbound
	OutcomeSealed    = "sealed"    // save: a new cookie written
	OutcomeCleared   = "cleared"   // save: the client's cookies expired, none written
	OutcomeUnchanged = "unchanged" // save: nothing to write
	OutcomeTooLarge  = "too-large" // save: refused, ErrTooLarge; the client keeps its cookie
	OutcomeSkipped   = "skipped"   // save: a re-seal (old key, touch) failed; the client keeps its cookie
	OutcomeFailed    = "failed"    // save: any other error (no key in force, a value name not UTF-8)
)

// The reasons of an [Event].
const (
	// Loads refused (OutcomeInvalid), by the step that refused them.
	ReasonCookies    = "cookies"     // the set of cookies: a size over budget, a chunk missing, repeated or beyond the count
	ReasonFormat     = "format"      // segments, alphabet, header, base64: before any cryptography
	ReasonUnknownKey = "unknown-key" // a key id the ring does not have: typically a retired key
	ReasonAuth       = "auth"        // authentication failed: tampered, another key, name, purpose or mode
	ReasonPayload    = "payload"     // authentic, but a payload this package never writes
	ReasonFuture     = "future"      // issued or active beyond the clock skew into the future

	// Loads revoked (OutcomeRevoked).
	ReasonList     = "list"     // the revocation list revokes the session's subject
	ReasonValidate = "validate" // Config.Validate refused the session

	// Loads unbound (OutcomeUnbound).
	ReasonBoundCookie = "bound-cookie" // no valid bound cookie for the session's device key
	ReasonNotBound    = "not-bound"    // DeviceBinding.Require and the session never bound

	// Loads expired (OutcomeExpired).
	ReasonNotBefore = "not-before" // issued before Config.NotBefore
	ReasonLifetime  = "lifetime"   // past its absolute lifetime (or its sealed expiry)
	ReasonIdle      = "idle"       // past its idle timeout

	// Loads opened (OutcomeOpened) and saves sealed (OutcomeSealed). A load
	// imported (OutcomeImported) has the Importer's Source as its reason.
	ReasonOldKey  = "old-key" // opened with a key other than the primary; sealed again for that
	ReasonChanged = "changed" // sealed: the application changed the session
	ReasonTouch   = "touch"   // sealed: the idle window moved, or Config.SaveEveryRequest
	// ReasonImported (sealed): an imported session, sealed in this configuration.
	ReasonImported = "imported"

	// Saves cleared (OutcomeCleared).
	ReasonDestroyed = "destroyed" // Session.Destroy
	ReasonEmptied   = "emptied"   // no values left
	ReasonRefused   = "refused"   // the request's cookie was refused on load
	// ReasonLifetime: the lifetime ran out between load and save.

	// Saves too large (OutcomeTooLarge, OutcomeSkipped): the bound, as in
	// SizeError.What.
	ReasonHeader    = "header"    // the Cookie header budget or one cookie's size
	ReasonChunks    = "chunks"    // Limits.MaxChunks
	ReasonPlaintext = "plaintext" // MaxPlaintextBytes
)

// loadEvent returns the event of the load of s that ended with err, the
// request's cookie opened as far as info says.
func loadEvent(s *Session, info OpenInfo, err error) Event {
	e := Event{Op: OpLoad, Outcome: OutcomeOpened, KeyID: info.KeyID, Bytes: info.Bytes, Chunks: info.Chunks, Err: err}
	switch {
	case s.imported != "":
		e.Outcome, e.Reason = OutcomeImported, s.imported
	case err == nil && s.present == 0:
		e.Outcome = OutcomeNoCookie
	case err == nil && info.KeyID != "" && !info.Primary:
		e.Reason = ReasonOldKey
	case errors.Is(err, ErrRevoked):
		e.Outcome, e.Reason = OutcomeRevoked, ReasonList
		if re := (*RevokedError)(nil); errors.As(err, &re) && re.Err != nil {
			e.Reason = ReasonValidate
		}
	case errors.Is(err, ErrUnbound):
		e.Outcome, e.Reason = OutcomeUnbound, reasonOf(err)
	case errors.Is(err, ErrExpired):
		e.Outcome, e.Reason = OutcomeExpired, reasonOf(err)
	case err != nil:
		e.Outcome, e.Reason = OutcomeInvalid, reasonOf(err)
	}
	return e
}

// reasonOf returns the Reason an error of this package carries, or "".
func reasonOf(err error) string {
	var re *reasonError
	if errors.As(err, &re) {
		return re.kind
	}
	var se *SizeError
	if errors.As(err, &se) {
		switch se.What {
		case "chunks":
			return ReasonChunks
		case "plaintext":
			return ReasonPlaintext
		}
		return ReasonHeader
	}
	return ""
}

// saveOutcome returns the outcome of a save that failed with err.
func saveOutcome(err error) string {
	if errors.Is(err, ErrTooLarge) {
		return OutcomeTooLarge
	}
	return OutcomeFailed
}
