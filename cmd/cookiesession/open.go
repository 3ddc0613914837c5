package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	cs "github.com/cookiesession/cookiesession"
)

var b64 = base64.RawURLEncoding

var openCmd = &command{
	name:     "open",
	synopsis: "open --name NAME [--keys FILE] [--signed] [--now TIME] [flags] [COOKIE_HEADER...]",
	summary:  "open the session cookies in a Cookie header",
	about: `Open the session in a Cookie header, as a browser sends it
("a=1; NAME=…; NAME.1=…"), given as arguments or on stdin (one header per
line; a leading "Cookie:" is ignored, and seal's NAME=VALUE lines work as
they are). Other cookies in the header are ignored. Print JSON:

  kid            id of the key that opened it
  primary        whether that key is the ring's primary (if not, the Manager
                 re-seals the session with the primary)
  mode           "encrypted" or "signed"
  id             the session id
  issued_at, last_activity, expires_at   RFC 3339, UTC
  remember_me    true or false when the session chose, absent otherwise
  subject        the session's subject (the user it belongs to), absent
                 when it has none
  device_key     for a device-bound session (DBSC): binding_id, alg and the
                 public key as a JWK; absent otherwise
  values         the session values
  chunks         the number of cookies it came in
  bytes          the length of the sealed value
  compressed     whether the payload was DEFLATE-compressed

A cookie that does not open (tampered, malformed, sealed for another name,
purpose or mode, unknown key, expired, absent, or with --revocations FILE
revoked by that revocation list) exits 1 with the reason on stderr and
nothing on stdout. Pass the --lifetime, --remember-lifetime, --idle-timeout,
--purpose and --signed the application uses, so the checks match.`,
	run: runOpen,
}

type openReport struct {
	KeyID        string                     `json:"kid"`
	Primary      bool                       `json:"primary"`
	Mode         string                     `json:"mode"`
	ID           string                     `json:"id"`
	IssuedAt     string                     `json:"issued_at"`
	LastActivity string                     `json:"last_activity"`
	ExpiresAt    string                     `json:"expires_at"`
	RememberMe   *bool                      `json:"remember_me,omitempty"`
	Subject      string                     `json:"subject,omitempty"`
	DeviceKey    *deviceKeyReport           `json:"device_key,omitempty"`
	Values       map[string]json.RawMessage `json:"values"`
	Chunks       int                        `json:"chunks"`
	Bytes        int                        `json:"bytes"`
	Compressed   bool                       `json:"compressed"`
}

func runOpen(e *env, args []string) error {
	fs := e.flagSet()
	var cf codecFlags
	var now time.Time
	cf.register(fs, withCompress|withTime|withLimits|withOpen)
	fs.Var(timeValue{&now}, "now", "check the session's times against `TIME` (RFC 3339) instead of now")
	revocations := fs.String("revocations", "", "refuse a session whose subject the revocation list `FILE` revokes, as the Manager would")
	headers, err := e.parse(fs, args, -1)
	if err != nil {
		return err
	}
	codec, err := cf.codec(e)
	if err != nil {
		return err
	}
	var list *cs.RevocationList
	if *revocations != "" {
		if list, err = readList(*revocations, false); err != nil {
			return err
		}
	}
	if headers, err = e.cookieHeaders(headers); err != nil {
		return err
	}
	p, info, err := codec.Decode(cs.CookieLookup(cf.name, headers...), e.orNow(now))
	if errors.Is(err, cs.ErrNoCookie) {
		return failf("no cookie named %s in the Cookie header", cf.name)
	}
	if err != nil {
		return failf("%s", libError(err))
	}
	if list != nil && p.Subject != "" {
		if nb, ok := list.NotBefore(p.Subject); ok && p.IssuedAt.Before(nb) {
			return failf("%s", libError(&cs.RevokedError{Subject: p.Subject, IssuedAt: p.IssuedAt, NotBefore: nb}))
		}
	}
	return e.printJSON(reportOf(p, info, cf.signed))
}

// reportOf is what open prints of an opened session.
func reportOf(p *cs.Payload, info cs.OpenInfo, signed bool) *openReport {
	out := &openReport{
		KeyID:        info.KeyID,
		Primary:      info.Primary,
		Mode:         modeName(signed),
		ID:           p.ID,
		IssuedAt:     rfc3339(p.IssuedAt),
		LastActivity: rfc3339(p.LastActivity),
		ExpiresAt:    rfc3339(p.Expiry),
		Subject:      p.Subject,
		Values:       p.Values,
		Chunks:       info.Chunks,
		Bytes:        info.Bytes,
		Compressed:   info.Compressed,
	}
	switch p.RememberMe {
	case cs.RememberYes, cs.RememberNo:
		rm := p.RememberMe == cs.RememberYes
		out.RememberMe = &rm
	}
	if p.DeviceKey != "" {
		out.DeviceKey = newDeviceKeyReport(p.DeviceKey)
	}
	return out
}

// orNow returns t, or the current time when t is zero (no --now).
func (e *env) orNow(t time.Time) time.Time {
	if t.IsZero() {
		return e.now()
	}
	return t
}

// cookieHeaders returns the Cookie headers given as arguments or, when there
// are none, read from stdin one a line, each without a leading "Cookie:".
func (e *env) cookieHeaders(headers []string) ([]string, error) {
	if len(headers) == 0 {
		data, err := e.readStdin("the Cookie header")
		if err != nil {
			return nil, err
		}
		headers = strings.Split(string(data), "\n")
	}
	for i, h := range headers {
		h = strings.TrimSpace(h)
		if len(h) >= 7 && strings.EqualFold(h[:7], "cookie:") {
			h = strings.TrimSpace(h[7:])
		}
		headers[i] = h
	}
	if strings.TrimSpace(strings.Join(headers, "")) == "" {
		return nil, usagef("no Cookie header: give it as an argument or on stdin")
	}
	return headers, nil
}

// deviceKeyReport shows the "dk" claim: BINDING-ID "." ALG "." A "." B.
type deviceKeyReport struct {
	BindingID string            `json:"binding_id"`
	Alg       string            `json:"alg"`
	JWK       map[string]string `json:"jwk"`
}

func newDeviceKeyReport(dk string) *deviceKeyReport {
	parts := strings.SplitN(dk, ".", 4) // the claim was checked when opened
	r := &deviceKeyReport{BindingID: parts[0], Alg: parts[1]}
	if parts[1] == "ES256" {
		r.JWK = map[string]string{"kty": "EC", "crv": "P-256", "x": parts[2], "y": parts[3]}
	} else {
		r.JWK = map[string]string{"kty": "RSA", "n": parts[2], "e": parts[3]}
	}
	return r
}
