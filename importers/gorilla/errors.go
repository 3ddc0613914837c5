package gorilla

import "github.com/cookiesession/cookiesession"

// The errors of this package match the root package's: a cookie that gorilla
// would refuse as malformed, forged or undecodable, or whose values cannot
// become JSON, matches cookiesession.ErrInvalid; one past its MaxAge,
// cookiesession.ErrExpired; a bad [Config], cookiesession.ErrConfig. Their
// text says why, for the application's logs, and never carries a key or a
// value.

// reasonError matches a sentinel and says why.
type reasonError struct {
	sentinel error
	reason   string
}

func (e *reasonError) Error() string { return e.sentinel.Error() + ": gorilla: " + e.reason }
func (e *reasonError) Unwrap() error { return e.sentinel }

func configError(reason string) error { return &reasonError{cookiesession.ErrConfig, reason} }
func invalid(reason string) error     { return &reasonError{cookiesession.ErrInvalid, reason} }
func expired(reason string) error     { return &reasonError{cookiesession.ErrExpired, reason} }

// errAuth is the one error for a value that no hash key authenticates.
var errAuth = invalid("authentication failed")
