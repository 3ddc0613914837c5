package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	cs "github.com/cookiesession/cookiesession"
)

// defaultAttrLen is the room reserved in each cookie for its Set-Cookie
// attributes, which a browser counts in its 4096 bytes per cookie: what a
// Manager with the default configuration reserves (no Domain, Max-Age of up
// to 400 days). Add the length of "; Domain=…" when the application sets one.
const defaultAttrLen = len("; Path=/; HttpOnly; Secure; SameSite=Lax") + len("; Max-Age=34560000")

var sealCmd = &command{
	name:     "seal",
	synopsis: "seal --name NAME [--keys FILE] [--signed] [--lifetime D] [--compress] [flags] < values.json",
	summary:  "seal a JSON object of values into cookies",
	about: `Read a JSON object of session values on stdin and print the cookies of a new
session, one NAME=VALUE line per chunk, in order (NAME, NAME.1, …). The
session has a random id (16 bytes, base64url), issued-at and last activity
now, the expiry the codec computes from --lifetime and --idle-timeout, and
the subject given with --subject, if any.

A session that does not fit (--header-budget, --max-chunks, 4096 bytes per
cookie with --attr-len bytes of attributes) exits 1 with the sizes; see the
size command.`,
	run: runSeal,
}

// sealFlags are the flags of seal and size beyond the codec's.
type sealFlags struct {
	now     time.Time
	id      string
	subject string
	attrLen int
}

func (sf *sealFlags) register(fs *flag.FlagSet) {
	fs.Var(timeValue{&sf.now}, "now", "issue the session at `TIME` (RFC 3339) instead of now")
	fs.IntVar(&sf.attrLen, "attr-len", defaultAttrLen, "`BYTES` of Set-Cookie attributes each cookie must leave room for")
	fs.StringVar(&sf.subject, "subject", "", "the session's subject (`ID`, the \"sub\" claim; default: none)")
}

func (sf *sealFlags) check() error {
	if sf.attrLen < 0 || sf.attrLen > 1024 {
		return usagef("bad --attr-len %d: must be between 0 and 1024", sf.attrLen)
	}
	if sf.id != "" && !validSessionID(sf.id) {
		return usagef("bad --id: want 1 to 64 base64url characters (A-Z a-z 0-9 - _)")
	}
	if sf.subject != "" {
		if err := checkSubject("--subject", sf.subject); err != nil {
			return err
		}
	}
	return nil
}

func (sf *sealFlags) when(e *env) time.Time {
	if sf.now.IsZero() {
		return e.now()
	}
	return sf.now
}

func runSeal(e *env, args []string) error {
	var asJSON *bool
	codec, sf, p, _, err := prepareSeal(e, args, func(fs *flag.FlagSet, sf *sealFlags) {
		fs.StringVar(&sf.id, "id", "", "session `ID` (1 to 64 base64url characters; default: random)")
		asJSON = fs.Bool("json", false, "print JSON (id, kid, times, cookies, header_bytes) instead of NAME=VALUE lines")
	})
	if err != nil {
		return err
	}
	chunks, err := codec.Encode(p, sf.attrLen)
	if errors.Is(err, cs.ErrTooLarge) {
		return failf("%s", libError(err))
	}
	if err != nil {
		return configf("%s", libError(err))
	}
	if !*asJSON {
		var b strings.Builder
		for _, c := range chunks {
			fmt.Fprintf(&b, "%s=%s\n", c.Name, c.Value)
		}
		_, err := fmt.Fprint(e.stdout, b.String())
		return err
	}
	type cookie struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	out := struct {
		ID          string   `json:"id"`
		KeyID       string   `json:"kid"`
		IssuedAt    string   `json:"issued_at"`
		ExpiresAt   string   `json:"expires_at"`
		Cookies     []cookie `json:"cookies"`
		HeaderBytes int      `json:"header_bytes"`
	}{
		ID:          p.ID,
		KeyID:       codec.Config().Keys.KeyRing().Primary(),
		IssuedAt:    rfc3339(p.IssuedAt),
		ExpiresAt:   rfc3339(p.Expiry),
		HeaderBytes: headerBytes(chunks),
	}
	for _, c := range chunks {
		out.Cookies = append(out.Cookies, cookie{c.Name, c.Value})
	}
	return e.printJSON(out)
}

// headerBytes is what chunks take in a Cookie header: "name=value" pairs
// joined by "; ".
func headerBytes(chunks []cs.Chunk) int {
	n := 2 * (len(chunks) - 1)
	for _, c := range chunks {
		n += len(c.Name) + 1 + len(c.Value)
	}
	return n
}

var sizeCmd = &command{
	name:     "size",
	synopsis: "size --name NAME [--keys FILE] [--signed] [--compress] [flags] < values.json",
	summary:  "report whether a JSON object of values fits in the cookies",
	about: `Read a JSON object of session values on stdin, seal it as seal would, and
print the sizes as JSON:

  values_bytes   the values as compact JSON
  sealed_bytes   the sealed value (JWE or JWS compact), null when the payload
                 is over the 250,000-byte plaintext cap
  compressed     whether DEFLATE was used (--compress, when it saves bytes)
  cookies        cookies needed, null when more than 9
  header_bytes   bytes in the Cookie header ("NAME=…; NAME.1=…"), null when
                 over the 32 KiB maximum budget or more than 9 cookies
  header_budget  the budget checked (--header-budget)
  max_chunks     the most cookies allowed (--max-chunks)
  fits           whether seal succeeds with these flags
  reason         why it does not fit (only when fits is false)

It exits 0 whether or not the session fits: the question was answered.`,
	run: runSize,
}

// prepareSeal parses the flags that seal and size share (plus those extra
// registers), builds the codec and reads the values on stdin into a payload.
func prepareSeal(e *env, args []string, extra func(*flag.FlagSet, *sealFlags)) (*cs.Codec, *sealFlags, *cs.Payload, map[string]json.RawMessage, error) {
	fs := e.flagSet()
	var cf codecFlags
	sf := new(sealFlags)
	cf.register(fs, withCompress|withTime|withLimits)
	sf.register(fs)
	if extra != nil {
		extra(fs, sf)
	}
	if _, err := e.parse(fs, args, 0); err != nil {
		return nil, nil, nil, nil, err
	}
	if err := cf.check(); err != nil {
		return nil, nil, nil, nil, err
	}
	if err := sf.check(); err != nil {
		return nil, nil, nil, nil, err
	}
	codec, err := cf.codec(e)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	values, err := e.readValues()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	p, err := newPayload(codec, sf.id, sf.when(e), values)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	p.Subject = sf.subject
	return codec, sf, p, values, nil
}

func runSize(e *env, args []string) error {
	codec, sf, p, values, err := prepareSeal(e, args, nil)
	if err != nil {
		return err
	}
	valuesJSON, err := json.Marshal(values)
	if err != nil {
		return configf("%v", err)
	}
	cfg := codec.Config()
	out := sizeReport{
		ValuesBytes:  len(valuesJSON),
		HeaderBudget: cfg.Limits.HeaderBudget,
		MaxChunks:    cfg.Limits.MaxChunks,
	}
	sealed, err := codec.Seal(p)
	if err != nil {
		if !errors.Is(err, cs.ErrTooLarge) {
			return configf("%s", libError(err))
		}
		out.Reason = libError(err)
		return e.printJSON(out)
	}
	out.SealedBytes = &[]int{len(sealed)}[0]
	out.Compressed = isCompressed(sealed)

	chunks, err := codec.Encode(p, sf.attrLen)
	if err == nil {
		out.Fits = true
		out.setChunks(chunks)
		return e.printJSON(out)
	}
	if !errors.Is(err, cs.ErrTooLarge) {
		return configf("%s", libError(err))
	}
	out.Reason = libError(err)
	// Measure what it would take with the widest limits there are.
	cfg.Limits.HeaderBudget, cfg.Limits.MaxChunks = cs.MaxHeaderBudget, cs.MaxChunksLimit
	if wide, werr := cs.NewCodec(cfg); werr == nil {
		chunks, werr := wide.Encode(p, sf.attrLen)
		var se *cs.SizeError
		switch {
		case werr == nil:
			out.setChunks(chunks)
		case errors.As(werr, &se) && se.What == "chunks":
			out.Cookies = &se.Size
		}
	}
	return e.printJSON(out)
}

type sizeReport struct {
	ValuesBytes  int    `json:"values_bytes"`
	SealedBytes  *int   `json:"sealed_bytes"`
	Compressed   bool   `json:"compressed"`
	Cookies      *int   `json:"cookies"`
	HeaderBytes  *int   `json:"header_bytes"`
	HeaderBudget int    `json:"header_budget"`
	MaxChunks    int    `json:"max_chunks"`
	Fits         bool   `json:"fits"`
	Reason       string `json:"reason,omitempty"`
}

func (r *sizeReport) setChunks(chunks []cs.Chunk) {
	n, h := len(chunks), headerBytes(chunks)
	r.Cookies, r.HeaderBytes = &n, &h
}

// isCompressed reports whether the protected header of a sealed value
// declares DEFLATE ("zip":"DEF").
func isCompressed(sealed string) bool {
	header, _, _ := strings.Cut(sealed, ".")
	raw, err := b64.DecodeString(header)
	if err != nil {
		return false
	}
	var h struct {
		Zip string `json:"zip"`
	}
	return json.Unmarshal(raw, &h) == nil && h.Zip == "DEF"
}
