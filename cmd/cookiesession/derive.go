package main

var deriveCmd = &command{
	name:     "derive",
	synopsis: "derive --name NAME [--keys FILE] [--signed] [--purpose P] [--out FILE]",
	summary:  "print the content keys of a cookie name, for other JOSE libraries",
	about: `Print, as a JWK Set with the ring's key ids (primary first), the content keys
the package derives (HKDF-SHA256) for the cookie NAME or --purpose and the
mode: "oct" keys with "alg":"A256GCM" (JWE "dir") in encrypted mode, with
"alg":"HS256" in signed mode. A stock JOSE library in any language opens
the cookie value with them: join the chunks NAME, NAME.1, … (the first
value of a split cookie starts with the count and "~", which is dropped),
pick the key by the header's "kid", allow only dir+A256GCM (or HS256), and
check the payload's "exp" claim.

The output is secret: it opens and forges every cookie of this name, purpose
and mode (not others), for as long as the master keys stay in the ring.`,
	run: runDerive,
}

func runDerive(e *env, args []string) error {
	fs := e.flagSet()
	var cf codecFlags
	cf.register(fs, 0)
	out := outFlag(fs)
	if _, err := e.parse(fs, args, 0); err != nil {
		return err
	}
	codec, err := cf.codec(e)
	if err != nil {
		return err
	}
	b, err := codec.ExportContentKeys()
	if err != nil {
		return configf("%s", libError(err))
	}
	return e.writeSecret(*out, append(b, '\n'))
}
