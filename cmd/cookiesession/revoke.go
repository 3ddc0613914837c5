package main

import (
	"errors"
	"flag"
	"os"
	"time"
	"unicode/utf8"

	cs "github.com/cookiesession/cookiesession"
)

// maxFutureAt is how far ahead of now revoke's --at may lie. A revocation
// refuses the sessions issued before its instant, so an instant in the
// future also refuses the subject's next logins until then: further ahead
// than a clock's drift, it is a mistake (a local time written as UTC).
const maxFutureAt = time.Minute

var revokeCmd = &command{
	name:     "revoke",
	synopsis: "revoke --list FILE --subject ID [--at TIME]",
	summary:  "revoke a subject's sessions in a revocation list file",
	about: `Add to the revocation list FILE that the sessions of the subject ID issued
before TIME (default: now) are refused, and replace the file atomically
(a temporary file renamed over it, mode 0644), so that every process that
follows it (cookiesession.OpenRevocationFile) refuses them within its reload
interval. The file is created when it does not exist. TIME rounds up to the
whole second, as session issue times do: a session issued in that second is
refused too. A subject already revoked at a later instant keeps it: revoking
never brings a session back. TIME may not lie more than a minute ahead.

Print the entry written as JSON, {"subject", "not_before", "revocations"}, the
last being the number of subjects the list now holds.

The file format (see cookiesession.ParseRevocationList):

  {"revocations": [
    {"subject": "user-42", "not_before": "2026-11-26T09:30:00Z"}
  ]}`,
	run: runRevoke,
}

func runRevoke(e *env, args []string) error {
	fs := e.flagSet()
	path := listFlag(fs)
	subject := fs.String("subject", "", "the subject (user `ID`) whose sessions to revoke (required)")
	var at time.Time
	fs.Var(timeValue{&at}, "at", "refuse the sessions issued before `TIME` (RFC 3339; default: now)")
	if _, err := e.parse(fs, args, 0); err != nil {
		return err
	}
	if *path == "" {
		return usagef("missing --list")
	}
	if *subject == "" {
		return usagef("missing --subject")
	}
	if err := checkSubject("--subject", *subject); err != nil {
		return err
	}
	now := e.now()
	if at.IsZero() {
		at = now
	}
	if at.After(now.Add(maxFutureAt)) {
		return usagef("bad --at %s: more than %s ahead of now (%s); it would refuse the subject's next logins until then",
			at.UTC().Format(time.RFC3339), formatDuration(maxFutureAt), now.UTC().Format(time.RFC3339))
	}
	list, err := readList(*path, true)
	if err != nil {
		return err
	}
	if list, err = list.Revoke(*subject, at); err != nil {
		return configf("%s", libError(err))
	}
	if err := writeList(*path, list); err != nil {
		return err
	}
	nb, _ := list.NotBefore(*subject)
	return e.printJSON(struct {
		Subject     string `json:"subject"`
		NotBefore   string `json:"not_before"`
		Revocations int    `json:"revocations"`
	}{*subject, rfc3339(nb), list.Len()})
}

var revocationsCmd = &command{
	name:     "revocations",
	synopsis: "revocations --list FILE [--prune --lifetime D] [--now TIME]",
	summary:  "print a revocation list file, or prune it",
	about: `Print the revocation list FILE in its file format, entries sorted by subject.

With --prune, drop the entries that can no longer refuse any session: those
whose instant lies a lifetime D or more before now (every session issued
before it has expired), replace the file atomically and print what remains.
Give the longest lifetime of the applications that read the list (the
longer of Lifetime and RememberLifetime). Processes
already ignore such entries; pruning keeps the file as small as the number
of subjects revoked within one lifetime.`,
	run: runRevocations,
}

func runRevocations(e *env, args []string) error {
	fs := e.flagSet()
	path := listFlag(fs)
	prune := fs.Bool("prune", false, "drop the entries older than --lifetime and rewrite the file")
	var lifetime time.Duration
	fs.Var(durationValue{&lifetime}, "lifetime", "the longest session lifetime `DURATION` of the readers (with --prune)")
	var now time.Time
	fs.Var(timeValue{&now}, "now", "prune as of `TIME` (RFC 3339) instead of now")
	if _, err := e.parse(fs, args, 0); err != nil {
		return err
	}
	switch {
	case *path == "":
		return usagef("missing --list")
	case *prune && lifetime == 0:
		return usagef("--prune needs --lifetime: the longest session lifetime of the applications that read the list")
	case !*prune && isSet(fs, "lifetime"):
		return usagef("--lifetime goes with --prune")
	case lifetime < 0 || lifetime > cs.MaxLifetime:
		return usagef("bad --lifetime %s: must be between 1s and %s", formatDuration(lifetime), formatDuration(cs.MaxLifetime))
	}
	list, err := readList(*path, false)
	if err != nil {
		return err
	}
	if *prune {
		if now.IsZero() {
			now = e.now()
		}
		if pruned := list.Prune(now, lifetime); pruned != list {
			list = pruned
			if err := writeList(*path, list); err != nil {
				return err
			}
		}
	}
	b, err := list.MarshalJSON()
	if err != nil {
		return configf("%v", err)
	}
	_, err = e.stdout.Write(append(b, '\n'))
	return err
}

func listFlag(fs *flag.FlagSet) *string {
	return fs.String("list", "", "the revocation list `FILE` (JSON), replaced atomically when written (required)")
}

// readList reads the revocation list at path. A missing file is an empty
// list when missingOK, else an error.
func readList(path string, missingOK bool) (*cs.RevocationList, error) {
	data, err := os.ReadFile(path)
	if missingOK && errors.Is(err, os.ErrNotExist) {
		return cs.NewRevocationList()
	}
	if err != nil {
		return nil, configf("cannot read the revocation list: %v", err)
	}
	list, err := cs.ParseRevocationList(data)
	if err != nil {
		return nil, configf("--list %s: %s", path, libError(err))
	}
	return list, nil
}

// writeList replaces the file at path with list, atomically.
func writeList(path string, list *cs.RevocationList) error {
	b, err := list.MarshalJSON()
	if err != nil {
		return configf("%v", err)
	}
	if err := writeAtomic(path, append(b, '\n'), 0o644); err != nil {
		return configf("writing the revocation list: %v", err)
	}
	return nil
}

// checkSubject refuses a subject the package would not seal.
func checkSubject(flag, subject string) error {
	if subject == "" || len(subject) > cs.MaxSubjectBytes || !utf8.ValidString(subject) {
		return usagef("bad %s: want 1 to %d bytes of UTF-8", flag, cs.MaxSubjectBytes)
	}
	return nil
}
