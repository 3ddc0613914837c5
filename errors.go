package cookiesession

import (
	"errors"
	"fmt"
	"time"
)

// The errors of this package. Match them with errors.Is: the values returned
// wrap these with a reason meant for the application's logs. None of them ever
// carries key material or the text of an underlying JOSE or crypto error, and
// none is meant to be shown to the client.
var (
	// ErrNoCookie reports a request that carries no session cookie at all.
	ErrNoCookie = errors.New("cookiesession: no session cookie")

	// ErrInvalid reports a cookie that is malformed, tampered with, sealed with
	// an unknown key or for another name or mode, or whose claims are missing
	// or wrong. Every authentication failure is this one error, with no detail
	// that would help an attacker tell the cases apart.
	ErrInvalid = errors.New("cookiesession: invalid session cookie")

	// ErrExpired reports a cookie that was authentic but whose absolute
	// lifetime or idle timeout has passed, or that was issued before the
	// configured not-before instant.
	ErrExpired = errors.New("cookiesession: session expired")

	// ErrRevoked reports a cookie that was authentic and within its time but
	// whose session is refused all the same: its subject's sessions issued
	// before some instant were revoked (Config.Revocations), or
	// Config.Validate refused it. The error returned is a [*RevokedError].
	ErrRevoked = errors.New("cookiesession: session revoked")

	// ErrTooLarge reports a session that does not fit in its cookies. The
	// error returned is a [*SizeError] that carries the sizes.
	ErrTooLarge = errors.New("cookiesession: session too large")

	// ErrUnbound reports a session bound to a device (see [DeviceBinding])
	// that came without a valid bound cookie for its binding and key: a copy
	// of its cookies past the bound cookie's lifetime, or, with
	// DeviceBinding.Require, a session never bound. The request gets an empty
	// session; the client's cookies are left as they are, since a real
	// browser refreshes its bound cookie on its own.
	ErrUnbound = errors.New("cookiesession: device-bound session without a valid bound cookie")

	// ErrDeviceProof reports a device registration or refresh refused: no
	// proof, a malformed or wrongly signed one, a key of the wrong type, or a
	// challenge expired or made for another session.
	ErrDeviceProof = errors.New("cookiesession: device proof refused")

	// ErrNoSession reports, from [Manager.SessionFrom], a context that did
	// not come from a request served through that Manager's Handler: wrap
	// the handler with [Manager.Handler], pass the request's context (or one
	// derived from it) down, or use [Manager.Load] outside the middleware.
	ErrNoSession = errors.New("cookiesession: no session in this context: it did not come from a request served through this Manager's Handler (wrap the handler with Manager.Handler, or use Manager.Load)")

	// ErrConfig reports a configuration mistake found at construction: a bad
	// key, a contradictory cookie attribute, a limit out of range.
	ErrConfig = errors.New("cookiesession: bad configuration")

	// ErrImported is no failure: wrapped in an [*ImportError], it reports to
	// Config.ErrorLog a session imported from another system (see
	// [Importer]). The default ErrorLog logs it at Info.
	ErrImported = errors.New("cookiesession: session imported")

	// ErrBadValue reports a value that Session.Set or Codec.Seal refuses
	// because the next request could not read it back: one nested deeper
	// than MaxNesting, one under a name that is not valid UTF-8 (JSON would
	// change the name), or, given to Seal as raw JSON, one that is not
	// valid JSON. The session or payload is left as it was.
	ErrBadValue = errors.New("cookiesession: value cannot be stored")
)

// reasonError is an error that matches a sentinel and says why: reason in
// words for the logs, kind as a stable Event.Reason.
type reasonError struct {
	sentinel error
	reason   string
	kind     string
}

func (e *reasonError) Error() string { return e.sentinel.Error() + ": " + e.reason }
func (e *reasonError) Unwrap() error { return e.sentinel }

func invalidf(format string, args ...any) error {
	return &reasonError{ErrInvalid, fmt.Sprintf(format, args...), ""}
}

// kindInvalidf is invalidf with the Event reason kind.
func kindInvalidf(kind, format string, args ...any) error {
	return &reasonError{ErrInvalid, fmt.Sprintf(format, args...), kind}
}

func expiredf(kind, format string, args ...any) error {
	return &reasonError{ErrExpired, fmt.Sprintf(format, args...), kind}
}

func configErrorf(format string, args ...any) error {
	return &reasonError{ErrConfig, fmt.Sprintf(format, args...), ""}
}

// withKind gives err, when it is a reasonError of no kind yet, the Event
// reason kind of the step that returned it. Only errors made for this call
// have no kind: the shared ones (errAuth, errNoKeys) carry theirs, so none
// is written by two goroutines.
func withKind(err error, kind string) error {
	if re, ok := err.(*reasonError); ok && re.kind == "" {
		re.kind = kind
	}
	return err
}

func badValuef(format string, args ...any) error {
	return &reasonError{ErrBadValue, fmt.Sprintf(format, args...), ""}
}

// durationText writes d for a person, in the largest unit that divides it:
// "400 days", "36 hours", "90 minutes", "1 second"; d.String() ("1.5s") when
// it is not whole seconds. Configuration errors use it: 9600h0m0s reads badly.
func durationText(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if d != 0 && d%u.d == 0 {
			if n := d / u.d; n != 1 && n != -1 {
				return fmt.Sprintf("%d %ss", n, u.name)
			}
			return fmt.Sprintf("%d %s", d/u.d, u.name)
		}
	}
	return d.String()
}

// errAuth is the one error for every authentication failure: wrong key, wrong
// name or mode, flipped bits, truncation. It says nothing more on purpose.
var errAuth = &reasonError{ErrInvalid, "authentication failed", ReasonAuth}

// errDeflate reports a failure of the compressor's own checks while sealing
// (a bug, none known). The value is then sealed without compression, and the
// error reported through Config.ErrorLog.
var errDeflate = errors.New("cookiesession: internal error of the DEFLATE compressor (please report it)")
