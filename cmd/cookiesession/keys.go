package main

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"slices"
	"strings"

	cs "github.com/cookiesession/cookiesession"
)

var keygenCmd = &command{
	name:     "keygen",
	synopsis: "keygen [--kid ID] [--out FILE [--force]]",
	summary:  "print a new key ring of one 32-byte key",
	about: `Print a JWK Set holding one new random 32-byte "oct" key. Without --kid, the
key id is today's date and random hex, such as 20261126-3f9a1c2b.

--out FILE refuses a FILE that exists: it may hold the ring in use, and a new
ring in its place logs everybody out. Add a key to a ring with rotate; give
--force to replace the file all the same.

The output is secret: it opens and forges every session.`,
	run: runKeygen,
}

func runKeygen(e *env, args []string) error {
	fs := e.flagSet()
	kid := fs.String("kid", "", "key `ID`: 1 to 64 of A-Z a-z 0-9 - _ . ~ (default: date and random hex)")
	out := outFlag(fs)
	force := fs.Bool("force", false, "replace the --out file if it exists")
	if _, err := e.parse(fs, args, 0); err != nil {
		return err
	}
	if *force && *out == "" {
		return usagef("--force goes with --out FILE")
	}
	if _, err := os.Lstat(*out); *out != "" && !*force && err == nil {
		return configf("--out %s exists: a new ring in its place would log everybody out; add a key with rotate --keys %s --stage --out %s, or give --force to replace it", *out, *out, *out)
	}
	key, err := newKey(*kid)
	if err != nil {
		return err
	}
	ring, err := cs.NewKeyRing(key)
	if err != nil {
		return configf("%s", libError(err))
	}
	return e.writeRing(*out, ring)
}

var rotateCmd = &command{
	name:     "rotate",
	synopsis: "rotate [--keys FILE|-] [--kid ID] [--keep N] [--stage] [--out FILE]",
	summary:  "add a new primary key in front of a key ring (or, with --stage, last)",
	about: `Read a key ring, put a new random key in front as the primary, keep at most
N of the previous keys (all of them by default, counted from the front) and
print the new ring.

Sessions sealed with a key that stays in the ring keep opening (and are
re-sealed with the new primary by the Manager); sessions sealed with a key
that --keep drops stop opening at once. --keep 1 keeps only the first key
of the ring: the usual choice once every other key stopped being primary
more than a session lifetime ago.

With --stage the new key goes last instead: every instance learns to open
cookies sealed with it before any instance seals with it. Deploy that ring
everywhere, then make the key primary with promote. Without --stage, an
instance that already has the new ring seals cookies that instances still on
the old ring cannot open, for as long as the deployment takes.

Use --out FILE to replace the ring file: "rotate --keys k.json > k.json"
empties k.json before it is read.`,
	run: runRotate,
}

func runRotate(e *env, args []string) error {
	fs := e.flagSet()
	keys := keysFlag(fs)
	kid := fs.String("kid", "", "`ID` of the new key (default: date and random hex)")
	keep := fs.Int("keep", -1, "keep at most `N` of the previous keys (default: all)")
	stage := fs.Bool("stage", false, "add the new key last, not primary (make it primary later with promote)")
	out := outFlag(fs)
	if _, err := e.parse(fs, args, 0); err != nil {
		return err
	}
	if isSet(fs, "keep") && *keep < 0 {
		return usagef("bad --keep %d: must be 0 or more", *keep)
	}
	ring, err := e.loadKeys(*keys)
	if err != nil {
		return err
	}
	key, err := newKey(*kid)
	if err != nil {
		return err
	}
	if ring, err = ring.Rotate(key, *keep); err != nil {
		return configf("%s", libError(err))
	}
	if *stage {
		if ring, err = moveKey(ring, key.ID(), false); err != nil {
			return err
		}
	}
	return e.writeRing(*out, ring)
}

var promoteCmd = &command{
	name:     "promote",
	synopsis: "promote [--keys FILE|-] [--out FILE] KID",
	summary:  "make a key of a key ring its primary",
	about: `Read a key ring and print it with the key KID moved to the front: the primary,
which seals every new cookie. The other keys keep their order and keep
opening their cookies. Promoting the primary changes nothing.

Promote a key only once every instance holds it (see rotate --stage).`,
	run: runPromote,
}

func runPromote(e *env, args []string) error {
	fs := e.flagSet()
	keys := keysFlag(fs)
	out := outFlag(fs)
	ids, err := e.parse(fs, args, 1)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return usagef("missing the id of the key to promote")
	}
	ring, err := e.loadKeys(*keys)
	if err != nil {
		return err
	}
	if ring, err = moveKey(ring, ids[0], true); err != nil {
		return err
	}
	return e.writeRing(*out, ring)
}

// moveKey returns ring with the key kid moved to the front or to the back.
// The package's KeyRing keeps its keys private, so this goes through the
// ring's JWK Set.
func moveKey(ring *cs.KeyRing, kid string, front bool) (*cs.KeyRing, error) {
	jwks, err := ring.ExportJWKS()
	if err != nil {
		return nil, configf("%s", libError(err))
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(jwks, &set); err != nil {
		return nil, configf("key ring: %v", err)
	}
	i := slices.Index(ring.IDs(), kid)
	if i < 0 {
		return nil, configf("the key ring has no key %q (it has %s)", kid, strings.Join(ring.IDs(), ", "))
	}
	moved := set.Keys[i]
	set.Keys = slices.Delete(set.Keys, i, i+1)
	if front {
		set.Keys = slices.Insert(set.Keys, 0, moved)
	} else {
		set.Keys = append(set.Keys, moved)
	}
	if jwks, err = json.Marshal(set); err != nil {
		return nil, configf("key ring: %v", err)
	}
	if ring, err = cs.ParseKeyRing(jwks); err != nil {
		return nil, configf("%s", libError(err))
	}
	return ring, nil
}

var dropCmd = &command{
	name:     "drop",
	synopsis: "drop [--keys FILE|-] [--out FILE] KID...",
	summary:  "remove keys from a key ring",
	about: `Read a key ring and print it without the keys of the given ids. Every session
sealed with a removed key stops opening: once the longest session lifetime
has passed since a key stopped being primary, this retires it; before, it is
the emergency revocation. The last key cannot be removed.`,
	run: runDrop,
}

func runDrop(e *env, args []string) error {
	fs := e.flagSet()
	keys := keysFlag(fs)
	out := outFlag(fs)
	ids, err := e.parse(fs, args, -1)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return usagef("missing the id of the key to drop")
	}
	ring, err := e.loadKeys(*keys)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if ring, err = ring.Without(id); err != nil {
			return configf("cannot drop %q: %s", id, libError(err))
		}
	}
	return e.writeRing(*out, ring)
}

var listCmd = &command{
	name:     "list",
	synopsis: "list [--keys FILE|-]",
	summary:  "print the key ids of a key ring, no secrets",
	about: `Print the ids of a key ring's keys as JSON, {"primary": ID, "ids": [ID, …]},
primary first. No secret is printed: use it to check what a deployment holds.`,
	run: runList,
}

func runList(e *env, args []string) error {
	fs := e.flagSet()
	keys := keysFlag(fs)
	if _, err := e.parse(fs, args, 0); err != nil {
		return err
	}
	ring, err := e.loadKeys(*keys)
	if err != nil {
		return err
	}
	return e.printJSON(struct {
		Primary string   `json:"primary"`
		IDs     []string `json:"ids"`
	}{ring.Primary(), ring.IDs()})
}

func keysFlag(fs *flag.FlagSet) *string {
	return fs.String("keys", "", "key ring `FILE` (a JWK Set), - for stdin; default: $"+envKeys)
}

func outFlag(fs *flag.FlagSet) *string {
	return fs.String("out", "", "write the output to `FILE` (mode 0600, replaced atomically) instead of stdout")
}

// isSet reports whether the flag was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) { found = found || f.Name == name })
	return found
}

// newKey generates a key, with the id given or a generated one.
func newKey(kid string) (cs.Key, error) {
	key, err := cs.GenerateKey(kid)
	if errors.Is(err, cs.ErrConfig) {
		return cs.Key{}, usagef("bad --kid: %s", libError(err))
	}
	if err != nil {
		return cs.Key{}, configf("%s", libError(err))
	}
	return key, nil
}

func (e *env) writeRing(out string, ring *cs.KeyRing) error {
	b, err := ring.ExportJWKS()
	if err != nil {
		return configf("writing the key ring: %s", libError(err))
	}
	return e.writeSecret(out, append(b, '\n'))
}

// printJSON writes v to stdout as indented JSON and a newline.
func (e *env) printJSON(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(append(b, '\n'))
	return err
}
