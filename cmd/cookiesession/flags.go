package main

import (
	"errors"
	"flag"
	"os"
	"strconv"
	"strings"
	"time"

	cs "github.com/cookiesession/cookiesession"
)

// durationValue is a flag.Value for a duration in Go syntax (90m, 24h,
// 1h30m) or with a leading number of days (14d, 1d12h).
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return formatDuration(*v.d)
}

func (v durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	bad := errors.New("want a duration such as 30s, 90m, 24h or 14d")
	var days time.Duration
	if before, after, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.ParseUint(before, 10, 16)
		if err != nil {
			return 0, bad
		}
		days, s = time.Duration(n)*24*time.Hour, after
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || (days > 0 && d < 0) {
		return 0, bad
	}
	return days + d, nil
}

// formatDuration writes d without the zero minutes and seconds that
// time.Duration.String appends ("24h", not "24h0m0s").
func formatDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 && d >= 48*time.Hour {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// timeValue is a flag.Value for an RFC 3339 instant.
type timeValue struct{ t *time.Time }

func (v timeValue) String() string {
	if v.t == nil || v.t.IsZero() {
		return ""
	}
	return v.t.Format(time.RFC3339)
}

func (v timeValue) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return errors.New("want an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	*v.t = t
	return nil
}

// Which of the codec's flags a command takes.
const (
	withCompress = 1 << iota // --compress
	withTime                 // --lifetime, --idle-timeout
	withLimits               // --header-budget, --max-chunks
	withOpen                 // --clock-skew, --not-before
)

// codecFlags are the flags that configure a cs.Codec.
type codecFlags struct {
	set       int
	name      string
	purpose   string
	keys      string
	signed    bool
	compress  bool
	lifetime  time.Duration
	remember  time.Duration
	idle      time.Duration
	budget    int
	maxChunks int
	skew      time.Duration
	notBefore time.Time
}

func (cf *codecFlags) register(fs *flag.FlagSet, set int) {
	cf.set = set
	fs.StringVar(&cf.name, "name", "", "cookie `NAME` (required); chunks are NAME.1, NAME.2, …")
	fs.StringVar(&cf.keys, "keys", "", "key ring `FILE` (a JWK Set); default: $"+envKeys)
	fs.BoolVar(&cf.signed, "signed", false, "signed mode (JWS HS256, payload readable) instead of encrypted (JWE dir+A256GCM)")
	fs.StringVar(&cf.purpose, "purpose", "", "`PURPOSE` bound into the content keys (default: NAME)")
	switch {
	case set&withCompress != 0 && set&withOpen != 0:
		fs.BoolVar(&cf.compress, "compress", false, "no effect, accepted so that seal's flags work here: compressed and plain cookies both open")
	case set&withCompress != 0:
		fs.BoolVar(&cf.compress, "compress", false, "DEFLATE the payload when it saves bytes (encrypted mode only)")
	}
	if set&withTime != 0 {
		cf.lifetime = cs.DefaultLifetime
		fs.Var(durationValue{&cf.lifetime}, "lifetime", "absolute session `DURATION` from issued-at, at most 400d")
		fs.Var(durationValue{&cf.remember}, "remember-lifetime", "absolute `DURATION` of remember-me sessions, at most 400d (default: --lifetime)")
		fs.Var(durationValue{&cf.idle}, "idle-timeout", "end the session after `DURATION` without activity (default: none)")
	}
	if set&withLimits != 0 {
		fs.IntVar(&cf.budget, "header-budget", cs.DefaultHeaderBudget, "`BYTES` the cookies may take in the Cookie header, 512 to 32768")
		fs.IntVar(&cf.maxChunks, "max-chunks", cs.DefaultMaxChunks, "most cookies (`N`, 1 to 9) a session may be split over")
	}
	if set&withOpen != 0 {
		cf.skew = cs.DefaultClockSkew
		fs.Var(durationValue{&cf.skew}, "clock-skew", "how far in the future issued-at may lie, `DURATION` up to 10m (0: none)")
		fs.Var(timeValue{&cf.notBefore}, "not-before", "refuse sessions issued before `TIME` (RFC 3339)")
	}
}

// check validates the flags' values, naming the flag at fault.
func (cf *codecFlags) check() error {
	if cf.name == "" {
		return usagef("missing --name")
	}
	if cf.set&withTime != 0 {
		if cf.lifetime < time.Second || cf.lifetime > cs.MaxLifetime {
			return usagef("bad --lifetime %s: must be between 1 second and %d days", formatDuration(cf.lifetime), cs.MaxLifetime/(24*time.Hour))
		}
		if cf.remember != 0 && (cf.remember < time.Second || cf.remember > cs.MaxLifetime) {
			return usagef("bad --remember-lifetime %s: must be between 1 second and %d days", formatDuration(cf.remember), cs.MaxLifetime/(24*time.Hour))
		}
		if cf.idle != 0 && (cf.idle < time.Second || cf.idle > cf.lifetime) {
			return usagef("bad --idle-timeout %s: must be between 1 second and the lifetime (%s)", formatDuration(cf.idle), formatDuration(cf.lifetime))
		}
	}
	if cf.set&withLimits != 0 {
		if cf.budget < 512 || cf.budget > cs.MaxHeaderBudget {
			return usagef("bad --header-budget %d: must be between 512 and %d", cf.budget, cs.MaxHeaderBudget)
		}
		if cf.maxChunks < 1 || cf.maxChunks > cs.MaxChunksLimit {
			return usagef("bad --max-chunks %d: must be between 1 and %d", cf.maxChunks, cs.MaxChunksLimit)
		}
	}
	if cf.set&withOpen != 0 && (cf.skew < 0 || cf.skew > cs.MaxClockSkew) {
		return usagef("bad --clock-skew %s: must be between 0 and %d minutes", formatDuration(cf.skew), cs.MaxClockSkew/time.Minute)
	}
	if cf.compress && cf.signed {
		return usagef("--compress needs encrypted mode: JWS has no compression (drop --signed or --compress)")
	}
	return nil
}

// codec checks the flags, loads the key ring and builds the codec.
func (cf *codecFlags) codec(e *env) (*cs.Codec, error) {
	if err := cf.check(); err != nil {
		return nil, err
	}
	ring, err := e.loadKeys(cf.keys)
	if err != nil {
		return nil, err
	}
	cfg := cs.CodecConfig{
		Name:             cf.name,
		Purpose:          cf.purpose,
		Keys:             ring,
		Compress:         cf.compress,
		Lifetime:         cf.lifetime,
		RememberLifetime: cf.remember,
		IdleTimeout:      cf.idle,
		NotBefore:        cf.notBefore,
		Limits: cs.Limits{
			HeaderBudget: cf.budget,
			MaxChunks:    cf.maxChunks,
			ClockSkew:    cf.skew,
		},
	}
	if cf.signed {
		cfg.Mode = cs.Signed
	}
	if cfg.Limits.ClockSkew == 0 && cf.set&withOpen != 0 {
		cfg.Limits.ClockSkew = -1 // --clock-skew 0: no allowance (zero means the default)
	}
	c, err := cs.NewCodec(cfg)
	if err != nil {
		return nil, configf("%s", libError(err))
	}
	return c, nil
}

// loadKeys reads the key ring from path, from stdin when path is "-", or
// from the environment when path is empty.
func (e *env) loadKeys(path string) (*cs.KeyRing, error) {
	var (
		data  []byte
		where string
		err   error
	)
	switch path {
	case "-":
		where = "--keys -"
		if data, err = e.readStdin(where); err != nil {
			return nil, err
		}
	case "":
		where = "$" + envKeys
		v, set := e.lookupEnv(envKeys)
		if !set {
			return nil, configf("no keys: give --keys FILE or set %s to a JWK Set", envKeys)
		}
		if strings.TrimSpace(v) == "" {
			return nil, configf("no keys: %s is empty (a command substitution such as \"$(cookiesession keygen)\" that failed?): give --keys FILE or set it to a JWK Set", envKeys)
		}
		data = []byte(v)
	default:
		where = "--keys " + path
		if data, err = os.ReadFile(path); err != nil {
			return nil, configf("cannot read the key ring: %v", err)
		}
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		hint := ""
		if path != "-" {
			hint = " (a shell redirection to the same file empties it before it is read: write with --out FILE)"
		}
		return nil, configf("%s: the key ring is empty%s", where, hint)
	}
	ring, err := cs.ParseKeyRing(data)
	if err != nil {
		return nil, configf("%s: %s", where, libError(err))
	}
	return ring, nil
}

// writeSecret writes data, which holds secrets, to stdout or, when path is
// not empty, to the file path: created with mode 0600 next to it and renamed
// over it, so a reader never sees half a key ring.
func (e *env) writeSecret(path string, data []byte) error {
	if path == "" {
		_, err := e.stdout.Write(data)
		return err
	}
	if err := writeAtomic(path, data, 0o600); err != nil {
		return configf("--out: %v", err)
	}
	return nil
}

// writeAtomic replaces the file path with data: written to a temporary file
// in the same directory, synced, given mode perm and renamed over path, so a
// process that follows the file never reads half of it.
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	dir, base := ".", path
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		dir, base = path[:i+1], path[i+1:]
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// modeName is the name of the codec's mode in the JSON output.
func modeName(signed bool) string {
	if signed {
		return cs.Signed.String()
	}
	return cs.Encrypted.String()
}
