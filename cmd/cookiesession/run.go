package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// Exit statuses.
const (
	exitOK    = 0 // success
	exitFail  = 1 // the cookie does not open, or the session does not fit
	exitUsage = 2 // bad usage or bad configuration
)

// envKeys is the environment variable that holds the key ring when --keys is
// absent.
const envKeys = "COOKIESESSION_KEYS"

// maxStdin bounds what is read from stdin: far more than any key ring, Cookie
// header or session (the payload is capped at 250,000 bytes) needs.
const maxStdin = 4 << 20

// A command is one subcommand of the tool.
type command struct {
	name     string
	synopsis string // after "cookiesession "
	summary  string // one line for the command list
	about    string // paragraphs for "help COMMAND"
	run      func(e *env, args []string) error
}

var commands []*command // set in init: the commands refer to the list for help

func init() {
	commands = []*command{
		keygenCmd, rotateCmd, promoteCmd, dropCmd, listCmd,
		sealCmd, openCmd, importCmd, sizeCmd, deriveCmd,
		revokeCmd, revocationsCmd,
		helpCmd,
	}
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// env is what one run of the tool works with. Nothing else reaches the
// process: tests run commands in-process.
type env struct {
	cmd       *command
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	lookupEnv func(string) (string, bool)
	now       func() time.Time
	stdinUser string // what already read stdin, if anything
}

// cliError is an error with its exit status. usage asks for the command's
// synopsis after the message.
type cliError struct {
	code  int
	msg   string
	usage bool
}

func (e *cliError) Error() string { return e.msg }

// usagef reports bad usage: exit 2, with a usage reminder.
func usagef(format string, args ...any) error {
	return &cliError{code: exitUsage, msg: fmt.Sprintf(format, args...), usage: true}
}

// configf reports bad configuration or input: exit 2.
func configf(format string, args ...any) error {
	return &cliError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// failf reports a cookie that does not open or a session that does not fit:
// exit 1.
func failf(format string, args ...any) error {
	return &cliError{code: exitFail, msg: fmt.Sprintf(format, args...)}
}

// errHelpShown reports that -h was handled: exit 0.
var errHelpShown = errors.New("help shown")

// libError returns the text of an error of the cookiesession package without
// its "cookiesession: " prefix, which the tool's own prefix replaces.
func libError(err error) string {
	return strings.TrimPrefix(err.Error(), "cookiesession: ")
}

// oneLine keeps an error message on one line, whatever a file name or an
// underlying error put in it.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// run runs the tool with args (without the program name) and returns the
// exit status.
// lookupEnv is os.LookupEnv in main.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, lookupEnv: lookupEnv, now: time.Now}
	if len(args) == 0 {
		fmt.Fprint(stderr, mainUsage())
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, mainUsage())
		return exitOK
	}
	c := lookupCommand(name)
	if c == nil {
		fmt.Fprintf(stderr, "cookiesession: unknown command %q\n", oneLine(name))
		fmt.Fprintf(stderr, "Run 'cookiesession help' for the commands.\n")
		return exitUsage
	}
	e.cmd = c
	err := c.run(e, args[1:])
	if err == nil {
		return exitOK
	}
	if err == errHelpShown {
		return exitOK
	}
	var ce *cliError
	if !errors.As(err, &ce) {
		ce = &cliError{code: exitUsage, msg: err.Error()}
	}
	fmt.Fprintf(stderr, "cookiesession %s: %s\n", c.name, oneLine(ce.msg))
	if ce.usage {
		fmt.Fprintf(stderr, "usage: cookiesession %s\n", c.synopsis)
		fmt.Fprintf(stderr, "Run 'cookiesession help %s' for details.\n", c.name)
	}
	return ce.code
}

func mainUsage() string {
	var b strings.Builder
	b.WriteString(`cookiesession manages key rings and produces, opens and measures the cookies
of the cookiesession package.

usage:
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "  cookiesession %s\n", c.synopsis)
	}
	b.WriteString("\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-11s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Keys come from --keys FILE ("-" reads stdin) or, when it is absent, from the
` + envKeys + ` environment variable holding the JWK Set JSON.

Exit status: 0 success; 1 the cookie does not open (tampered, malformed,
expired, unknown key, absent) or seal's session does not fit; 2 bad usage
or bad configuration.

Run 'cookiesession help COMMAND' for a command's flags.
`)
	return b.String()
}

var helpCmd = &command{
	name:     "help",
	synopsis: "help [COMMAND]",
	summary:  "print this text, or the flags of a command",
	about:    "Print the list of commands, or a command's description and flags.",
	run: func(e *env, args []string) error {
		fs := e.flagSet()
		names, err := e.parse(fs, args, 1)
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprint(e.stdout, mainUsage())
			return nil
		}
		c := lookupCommand(names[0])
		if c == nil {
			return usagef("unknown command %q", names[0])
		}
		if c == e.cmd {
			return e.help(fs)
		}
		sub := &env{cmd: c, stdin: e.stdin, stdout: e.stdout, stderr: e.stderr, lookupEnv: e.lookupEnv, now: e.now}
		return c.run(sub, []string{"-h"})
	},
}

// flagSet returns an empty flag set for the command, reporting nothing
// itself: parse turns its errors into usage errors.
func (e *env) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet(e.cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args, flags and operands in any order ("--" ends the flags),
// and returns the operands. It refuses more than maxArgs operands (-1: any).
// On -h or --help it prints the command's help to stdout and returns
// errHelpShown.
func (e *env) parse(fs *flag.FlagSet, args []string, maxArgs int) ([]string, error) {
	var operands []string
	for {
		err := fs.Parse(args)
		if err == flag.ErrHelp {
			return nil, e.help(fs)
		}
		if err != nil {
			return nil, usagef("%s", flagMessage(err))
		}
		consumed := len(args) - fs.NArg()
		rest := fs.Args()
		if consumed > 0 && args[consumed-1] == "--" {
			operands = append(operands, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		operands = append(operands, rest[0])
		args = rest[1:]
	}
	if maxArgs >= 0 && len(operands) > maxArgs {
		if maxArgs == 0 {
			return nil, usagef("unexpected argument %q", operands[0])
		}
		return nil, usagef("too many arguments (%d, at most %d)", len(operands), maxArgs)
	}
	return operands, nil
}

// flagMessage rewrites the flag package's messages in the "--flag" spelling
// of the usage text.
func flagMessage(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag --" + strings.TrimLeft(name, "-")
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return "flag --" + strings.TrimLeft(name, "-") + " needs a value"
	}
	// invalid value "x" for flag -lifetime: reason
	return strings.Replace(msg, "for flag -", "for --", 1)
}

// help prints the command's description and flags to stdout.
func (e *env) help(fs *flag.FlagSet) error {
	c := e.cmd
	var b strings.Builder
	fmt.Fprintf(&b, "usage: cookiesession %s\n\n%s\n", c.synopsis, strings.TrimSpace(c.about))
	first := true
	fs.VisitAll(func(f *flag.Flag) {
		if first {
			b.WriteString("\nflags:\n")
			first = false
		}
		typ, usage := flag.UnquoteUsage(f)
		left := "  --" + f.Name
		if typ != "" {
			left += " " + typ
		}
		if len(left) > 24 {
			fmt.Fprintf(&b, "%s\n%26s%s", left, "", usage)
		} else {
			fmt.Fprintf(&b, "%-26s%s", left, usage)
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && !strings.Contains(usage, "default") {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	fmt.Fprint(e.stdout, b.String())
	return errHelpShown
}

// readStdin reads all of stdin for what. Stdin can serve one purpose only.
func (e *env) readStdin(what string) ([]byte, error) {
	if e.stdinUser != "" {
		return nil, usagef("%s and %s both need stdin", e.stdinUser, what)
	}
	e.stdinUser = what
	b, err := io.ReadAll(io.LimitReader(e.stdin, maxStdin+1))
	if err != nil {
		return nil, configf("reading %s from stdin: %v", what, err)
	}
	if len(b) > maxStdin {
		return nil, configf("%s on stdin: more than %d bytes", what, maxStdin)
	}
	return b, nil
}
