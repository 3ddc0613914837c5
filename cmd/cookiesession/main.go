// Command cookiesession manages the key rings of the cookiesession package and
// produces, opens and measures its cookies, for operators and scripts.
//
// Install it with
//
//	go install github.com/cookiesession/cookiesession/cmd/cookiesession@latest
//
// Usage:
//
//	cookiesession keygen  [--kid ID] [--out FILE [--force]]
//	cookiesession rotate  [--keys FILE|-] [--kid ID] [--keep N] [--stage] [--out FILE]
//	cookiesession promote [--keys FILE|-] [--out FILE] KID
//	cookiesession drop    [--keys FILE|-] [--out FILE] KID...
//	cookiesession list    [--keys FILE|-]
//	cookiesession seal    --name NAME [--keys FILE] [--signed] [--lifetime D] [--compress] ... < values.json
//	cookiesession open    --name NAME [--keys FILE] [--signed] [--now T] ... [COOKIE_HEADER...]
//	cookiesession import  --from SOURCE [source flags] [--now T] [COOKIE_HEADER...]
//	cookiesession size    --name NAME [--keys FILE] [--signed] [--compress] ... < values.json
//	cookiesession derive  --name NAME [--keys FILE] [--signed] [--purpose P] [--out FILE]
//	cookiesession revoke  --list FILE --subject ID [--at TIME]
//	cookiesession revocations --list FILE [--prune --lifetime D] [--now TIME]
//	cookiesession help    [COMMAND]
//
// Keys come from --keys FILE ("-" for stdin) or, when it is absent, from the
// COOKIESESSION_KEYS environment variable holding the JWK Set JSON.
//
// Output is for scripts: JSON, or NAME=VALUE lines for seal, on stdout; a
// one-line error on stderr (followed by a short usage reminder for usage
// errors). The exit status is
//
//	0  success (size exits 0 also when the session does not fit: "fits": false)
//	1  the cookie does not open (tampered, malformed, expired, unknown key,
//	   no such cookie in the header), or seal's session does not fit its budget
//	2  bad usage or bad configuration: unknown command or flag, missing or
//	   malformed flag value, bad JSON on stdin, missing or malformed keys
//
// revoke and revocations read and write a revocation list file (see
// cookiesession.ParseRevocationList), which every process of a fleet follows
// with cookiesession.OpenRevocationFile: revoke replaces it atomically.
//
// keygen, rotate, promote, drop and derive print secrets. Write them with
// --out FILE (created with mode 0600, replaced atomically) rather than a
// shell redirection, which truncates the input file before it is read when
// both are the same file.
//
// The key rotation without downtime is: rotate --stage (the new key goes
// last, so it opens cookies before any instance seals with it), deploy,
// promote it, deploy, wait the session lifetime, drop the old key (or
// rotate --stage --keep 1 at the next rotation), deploy.
//
// Run "cookiesession help COMMAND" for each command's flags.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv))
}
