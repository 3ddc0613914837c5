package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	cs "github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/importers/django"
	"github.com/cookiesession/cookiesession/importers/gorilla"
)

var importCmd = &command{
	name:     "import",
	synopsis: "import --from SOURCE [source flags] [--now TIME] [COOKIE_HEADER...]",
	summary:  "open another system's session in a Cookie header, as an importer does",
	about: `Open the session another system left in a Cookie header (given as arguments
or on stdin, as for open) with the importer a Manager would use
(Config.Importers), and print what open prints, plus:

  imported_from  the source
  cookies        the source's cookies that carried it (expired by a Manager
                 when it seals the import)

Sources and their flags ("cookiesession import --from SOURCE -h" lists them):

` + importSourcesHelp() + `
A session that does not import (tampered, signed with another key, expired,
absent) exits 1 with the reason on stderr and nothing on stdout.`,
	run: runImport,
}

// An importSource is one system import reads: its flags, and the importer
// they configure.
type importSource struct {
	name  string
	about string // one line for the help text

	// register adds the source's flags to fs and returns what builds the
	// importer once they are parsed.
	register func(fs *flag.FlagSet) func(e *env) (cs.Importer, error)
}

// importSources are the systems import reads, in the order the help lists
// them.
var importSources = []*importSource{
	{
		name:  "cookiesession",
		about: "an earlier configuration of this package: the flags open takes",
		register: func(fs *flag.FlagSet) func(e *env) (cs.Importer, error) {
			var cf codecFlags
			cf.register(fs, withCompress|withTime|withLimits|withOpen)
			return func(e *env) (cs.Importer, error) { return cf.codec(e) }
		},
	},
	{
		name:  "django",
		about: "Django's signed_cookies session backend: --secret-key KEY, --fallback-key KEY (repeatable), --max-age DURATION (default 14d), --salt SALT, --name NAME (default sessionid), --legacy-sha1",
		register: func(fs *flag.FlagSet) func(e *env) (cs.Importer, error) {
			var cfg django.Config
			var fallbacks stringsValue
			cfg.MaxAge = django.DefaultMaxAge
			fs.StringVar(&cfg.SecretKey, "secret-key", "", "Django's SECRET_KEY (required)")
			fs.Var(&fallbacks, "fallback-key", "one of SECRET_KEY_FALLBACKS (repeatable)")
			fs.Var(durationValue{&cfg.MaxAge}, "max-age", "SESSION_COOKIE_AGE as a `DURATION`")
			fs.StringVar(&cfg.Salt, "salt", django.DefaultSalt, "the signing `SALT`")
			fs.StringVar(&cfg.CookieName, "name", django.DefaultCookieName, "SESSION_COOKIE_NAME")
			fs.BoolVar(&cfg.LegacySHA1, "legacy-sha1", false, "also accept SHA-1 signatures, as Django 3.1 and 3.2 do")
			return func(*env) (cs.Importer, error) {
				if cfg.SecretKey == "" {
					return nil, usagef("missing --secret-key")
				}
				cfg.FallbackKeys = fallbacks
				imp, err := django.New(cfg)
				if err != nil {
					return nil, configf("%s", libError(err))
				}
				return imp, nil
			}
		},
	},
	{
		name:  "gorilla",
		about: "gorilla/sessions' CookieStore: --name NAME, --hash-key-hex H [--block-key-hex B] (repeatable: the store's key pairs in order), --max-age DURATION (default 30d, 0: none), --serializer gob|json",
		register: func(fs *flag.FlagSet) func(e *env) (cs.Importer, error) {
			var cfg gorilla.Config
			pairs := keyPairsValue{&cfg.KeyPairs}
			maxAge := gorilla.DefaultMaxAge
			serializer := "gob"
			fs.StringVar(&cfg.Name, "name", "", "the cookie `NAME` given to store.Get (required)")
			fs.Var(pairs.hash(), "hash-key-hex", "a pair's hash key in `HEX`; starts the next pair (repeatable, in the store's order)")
			fs.Var(pairs.block(), "block-key-hex", "the block key in `HEX` of the pair its --hash-key-hex started")
			fs.Var(durationValue{&maxAge}, "max-age", "the store's MaxAge as a `DURATION` (0: no limit, as MaxAge(0))")
			fs.StringVar(&serializer, "serializer", serializer, "the codecs' `SERIALIZER`: gob or json")
			return func(*env) (cs.Importer, error) {
				switch {
				case cfg.Name == "":
					return nil, usagef("missing --name")
				case len(cfg.KeyPairs) == 0:
					return nil, usagef("missing --hash-key-hex")
				case serializer == "json":
					cfg.Serializer = gorilla.JSON
				case serializer != "gob":
					return nil, usagef("unknown --serializer %q (gob, json)", serializer)
				}
				cfg.MaxAge = maxAge
				if maxAge == 0 {
					cfg.MaxAge = -1
				}
				imp, err := gorilla.New(cfg)
				if err != nil {
					return nil, configf("%s", libError(err))
				}
				return imp, nil
			}
		},
	},
}

// keyPairsValue collects gorilla key pairs from --hash-key-hex and
// --block-key-hex in the order given.
type keyPairsValue struct{ pairs *[]gorilla.KeyPair }

func (v keyPairsValue) hash() flag.Value {
	return funcValue(func(s string) error {
		k, err := hexKey(s)
		if err == nil {
			*v.pairs = append(*v.pairs, gorilla.KeyPair{Hash: k})
		}
		return err
	})
}

func (v keyPairsValue) block() flag.Value {
	return funcValue(func(s string) error {
		k, err := hexKey(s)
		n := len(*v.pairs)
		switch {
		case err != nil:
			return err
		case n == 0 || (*v.pairs)[n-1].Block != nil:
			return errors.New("each --block-key-hex follows the --hash-key-hex of its pair")
		}
		(*v.pairs)[n-1].Block = k
		return nil
	})
}

func hexKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(s)
	if err != nil || len(k) == 0 {
		return nil, errors.New("want a key in hex")
	}
	return k, nil
}

// funcValue is a flag.Value that hands each value to a function.
type funcValue func(string) error

func (f funcValue) String() string     { return "" }
func (f funcValue) Set(s string) error { return f(s) }

func importSourcesHelp() string {
	var b strings.Builder
	for _, s := range importSources {
		fmt.Fprintf(&b, "  %-14s %s\n", s.name, s.about)
	}
	return b.String()
}

func sourceNames() string {
	names := make([]string, len(importSources))
	for i, s := range importSources {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// importReport is what import prints: open's JSON for a cookiesession
// source, the fields every source has otherwise.
type importReport struct {
	ImportedFrom string `json:"imported_from"`
	*openReport
	IssuedAt  string                     `json:"issued_at,omitempty"`
	ExpiresAt string                     `json:"expires_at,omitempty"`
	Values    map[string]json.RawMessage `json:"values"`
	Cookies   []string                   `json:"cookies"`
}

func runImport(e *env, args []string) error {
	fs := e.flagSet()
	var from string
	var now time.Time
	fs.StringVar(&from, "from", "", "the `SOURCE`: "+sourceNames())
	fs.Var(timeValue{&now}, "now", "check the session's times against `TIME` (RFC 3339) instead of now")
	var build func(e *env) (cs.Importer, error)
	name, given := fromFlag(args)
	for _, s := range importSources {
		if s.name == name {
			build = s.register(fs)
		}
	}
	headers, err := e.parse(fs, args, -1)
	switch {
	case err == errHelpShown:
		return err
	case !given:
		return usagef("missing --from (%s)", sourceNames())
	case build == nil:
		return usagef("unknown --from %q (%s)", name, sourceNames())
	case err != nil:
		return err
	case from != name:
		return usagef("--from given twice")
	}
	imp, err := build(e)
	if err != nil {
		return err
	}
	if headers, err = e.cookieHeaders(headers); err != nil {
		return err
	}
	now = e.orNow(now)
	got, err := imp.Import(cs.CookieLookup("", headers...), now)
	if err != nil {
		return failf("%s", libError(err))
	}
	if got == nil {
		return failf("no session of %s in the Cookie header", from)
	}
	out := importReport{
		ImportedFrom: imp.Source(),
		IssuedAt:     rfc3339Set(got.IssuedAt),
		ExpiresAt:    rfc3339Set(got.Expiry),
		Values:       got.Values,
		Cookies:      got.Cookies,
	}
	if codec, ok := imp.(*cs.Codec); ok {
		// Everything open prints: the same cookies open the same way.
		p, info, err := codec.Decode(cs.CookieLookup(codec.Config().Name, headers...), now)
		if err != nil {
			return failf("%s", libError(err))
		}
		out.openReport = reportOf(p, info, codec.Config().Mode == cs.Signed)
	}
	return e.printJSON(out)
}

// fromFlag finds the value of --from in args before they are parsed, since
// the flags a command line may use depend on it.
func fromFlag(args []string) (string, bool) {
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, f := range []string{"--from", "-from"} {
			if v, ok := strings.CutPrefix(a, f+"="); ok {
				return v, true
			}
			if a == f && i+1 < len(args) {
				return args[i+1], true
			}
		}
	}
	return "", false
}

// rfc3339Set is rfc3339 of t, or "" for the zero time.
func rfc3339Set(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return rfc3339(t)
}

// stringsValue is a repeatable string flag.
type stringsValue []string

func (v *stringsValue) String() string { return strings.Join(*v, ",") }

func (v *stringsValue) Set(s string) error {
	*v = append(*v, s)
	return nil
}
