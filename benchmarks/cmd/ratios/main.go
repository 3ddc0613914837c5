// Command ratios reads the raw output of the benchmarks of this module (go
// test -bench, any -count) and prints, from the median of each benchmark, the
// cost of each implementation against the standard library floor and against
// gorilla/securecookie (JSON), then the performance goals of cookiesession,
// each MET or MISSED with its numbers.
//
//	go run ./cmd/ratios bench.txt
//
// It exits 1 only when the input holds no benchmark results; with -strict it
// also exits 1 when a goal is missed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	strict := flag.Bool("strict", false, "exit 1 when a goal is missed")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ratios [-strict] [bench.txt ...]  (standard input without files)")
		flag.PrintDefaults()
	}
	flag.Parse()
	r := results{}
	if flag.NArg() == 0 {
		r.read(os.Stdin)
	}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		r.read(f)
		f.Close()
	}
	if len(r) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no benchmark results in the input")
		os.Exit(1)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	r.peerTables(w)
	r.otherTables(w)
	w.Flush()
	missed := r.goals(os.Stdout)
	if *strict && missed > 0 {
		os.Exit(1)
	}
}

// results maps a benchmark name without its -GOMAXPROCS suffix to its
// samples of each unit ("ns/op", "B/op", "allocs/op").
type results map[string]map[string][]float64

var procSuffix = regexp.MustCompile(`-\d+$`)

func (r results) read(in io.Reader) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := procSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			if r[name] == nil {
				r[name] = map[string][]float64{}
			}
			r[name][f[i+1]] = append(r[name][f[i+1]], v)
		}
	}
}

// get returns the median of a benchmark's unit, and whether there was one.
func (r results) get(name, unit string) (float64, bool) {
	s := slices.Clone(r[name][unit])
	if len(s) == 0 {
		return 0, false
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// ratio returns a/b for a unit of two benchmarks.
func (r results) ratio(a, b, unit string) (float64, bool) {
	x, ok1 := r.get(a, unit)
	y, ok2 := r.get(b, unit)
	if !ok1 || !ok2 || y == 0 {
		return 0, false
	}
	return x / y, true
}

var sizes = []string{"200B", "2.5KB", "10KB"}

var peerImpls = []string{
	"cookiesession", "cookiesession-signed", "cookiesession-compressed",
	"securecookie-json", "securecookie-gob", "securecookie-gob-typed", "floor",
}

func (r results) peerTables(w io.Writer) {
	fmt.Fprintln(w, "Seal, Open, Request (open, read one value, change one, seal): median of each; x = ratio of times")
	fmt.Fprintln(w, "op\tsize\timpl\ttime/op\tcpu/op\tx floor\tx securecookie-json\tB/op\tallocs/op\t")
	for _, op := range []string{"Seal", "Open", "Request"} {
		for _, size := range sizes {
			base := op + "/size=" + size + "/impl="
			for _, impl := range peerImpls {
				name := base + impl
				if _, ok := r.get(name, "ns/op"); !ok {
					continue
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", op, size, impl,
					r.dur(name), r.durUnit(name, cpuUnit), r.x(name, base+"floor"), r.x(name, base+"securecookie-json"),
					r.num(name, "B/op"), r.num(name, "allocs/op"))
			}
		}
	}
	fmt.Fprintln(w, "\t")
}

func (r results) otherTables(w io.Writer) {
	r.codecTable(w, "CodecLayer", "encrypted", []string{"encrypted", "signed", "compressed", "crypto-floor"},
		"Codec alone, no JSON (root package: the JOSE layer of Seal and Open on the payload's JSON bytes) against crypto only (AES-256-GCM + base64url of the same bytes)")
	r.codecTable(w, "Codec", "cookiesession", []string{"cookiesession", "cookiesession-signed", "cookiesession-compressed", "crypto-floor"},
		"Codec.Seal + Codec.Open (a prepared *Payload: its claims and values written and read as JSON, values kept raw) against crypto only")
	fmt.Fprintln(w, "Two full httptest requests (create a session, then read it) and a handler that never touches the session")
	fmt.Fprintln(w, "bench\tsize\timpl\ttime/op\tx other\tallocs x other\tB/op\tallocs/op\t")
	for _, size := range sizes {
		base := "TwoRequests/size=" + size + "/impl="
		for _, impl := range []string{"cookiesession", "gorilla-sessions"} {
			name := base + impl
			if _, ok := r.get(name, "ns/op"); !ok {
				continue
			}
			other := base + "gorilla-sessions"
			if impl != "cookiesession" {
				other = base + "cookiesession"
			}
			fmt.Fprintf(w, "TwoRequests\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", size, impl, r.dur(name),
				r.x(name, other), r.xu(name, other, "allocs/op"), r.num(name, "B/op"), r.num(name, "allocs/op"))
		}
	}
	for _, impl := range []string{"bare", "cookiesession"} {
		name := "Untouched/impl=" + impl
		if _, ok := r.get(name, "ns/op"); !ok {
			continue
		}
		other := "Untouched/impl=cookiesession"
		if impl != "bare" {
			other = "Untouched/impl=bare"
		}
		fmt.Fprintf(w, "Untouched\t-\t%s\t%s\t%s\t%s\t%s\t%s\t\n", impl, r.dur(name),
			r.x(name, other), r.xu(name, other, "allocs/op"), r.num(name, "B/op"), r.num(name, "allocs/op"))
	}
	fmt.Fprintln(w, "\t")
}

// codecTable prints the seal, open and round-trip rows of bench against its
// crypto-floor and its main implementation.
func (r results) codecTable(w io.Writer, bench, main string, impls []string, title string) {
	if _, ok := r.get(bench+"/op=roundtrip/size=200B/impl=crypto-floor", "ns/op"); !ok {
		return
	}
	fmt.Fprintln(w, title)
	fmt.Fprintf(w, "op\tsize\timpl\ttime/op\tx crypto-floor\tx %s\tB/op\tallocs/op\t\n", main)
	for _, op := range []string{"seal", "open", "roundtrip"} {
		for _, size := range sizes {
			base := bench + "/op=" + op + "/size=" + size + "/impl="
			for _, impl := range impls {
				name := base + impl
				if _, ok := r.get(name, "ns/op"); !ok {
					continue
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", op, size, impl, r.dur(name),
					r.x(name, base+"crypto-floor"), r.x(name, base+main),
					r.num(name, "B/op"), r.num(name, "allocs/op"))
			}
		}
	}
	fmt.Fprintln(w, "\t")
}

// cpuUnit is the process's CPU time per operation, which the benchmarks of
// this module report beside the wall time: on a loaded machine it is the
// steadier of the two.
const cpuUnit = "cpu-ns/op"

func (r results) dur(name string) string { return r.durUnit(name, "ns/op") }

func (r results) durUnit(name, unit string) string {
	ns, ok := r.get(name, unit)
	if !ok {
		return "-"
	}
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2fµs", ns/1e3)
	}
	return fmt.Sprintf("%.0fns", ns)
}

func (r results) num(name, unit string) string {
	v, ok := r.get(name, unit)
	if !ok {
		return "-"
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

func (r results) x(a, b string) string { return r.xu(a, b, "ns/op") }

func (r results) xu(a, b, unit string) string {
	if a == b {
		return "1"
	}
	v, ok := r.ratio(a, b, unit)
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}

// A check is one measured condition of a goal.
type check struct {
	what string
	ok   bool
}

// goals prints each goal with its checks and returns how many were missed.
func (r results) goals(w io.Writer) (missed int) {
	fmt.Fprintln(w, "Goals (cookiesession = the default, encrypted Manager or Codec)")
	report := func(goal string, checks []check) {
		status := "MET"
		for _, c := range checks {
			if !c.ok {
				status = "MISSED"
			}
		}
		if len(checks) == 0 {
			status = "MISSED (no data)"
		}
		if status != "MET" {
			missed++
		}
		fmt.Fprintf(w, "  %-6s %s\n", status, goal)
		for _, c := range checks {
			mark := "ok "
			if !c.ok {
				mark = "NO "
			}
			fmt.Fprintf(w, "           %s %s\n", mark, c.what)
		}
	}
	// ratioCheck compares a/b of a unit with limit.
	ratioCheck := func(label, a, b, unit string, limit float64) []check {
		v, ok := r.ratio(a, b, unit)
		if !ok {
			return nil
		}
		x, _ := r.get(a, unit)
		y, _ := r.get(b, unit)
		return []check{{fmt.Sprintf("%s: %.2fx (%s vs %s), limit %.2fx", label, v, fmtUnit(x, unit), fmtUnit(y, unit), limit), v <= limit}}
	}
	var c []check
	for _, size := range []string{"200B", "2.5KB"} {
		base := "Request/size=" + size + "/impl="
		c = append(c, ratioCheck("size="+size+" time", base+"cookiesession", base+"floor", "ns/op", 0.8)...)
	}
	report(`"a request" <= 0.8x the stdlib floor (200B and 2.5KB)`, c)

	c = nil
	for _, size := range sizes {
		base := "CodecLayer/op=roundtrip/size=" + size + "/impl="
		c = append(c, ratioCheck("size="+size+" time", base+"encrypted", base+"crypto-floor", "ns/op", 1.5)...)
		if v, ok := r.get(base+"encrypted", "allocs/op"); ok {
			c = append(c, check{fmt.Sprintf("size=%s allocs: %.0f per round trip, limit 10", size, v), v <= 10})
		}
	}
	report("codec alone, no JSON <= 1.5x the crypto-only floor, <= 10 allocs per round trip (seal + open)", c)
	// Not a goal: the same with the payload's JSON, which the floor does not
	// write or read, for the record.
	for _, size := range sizes {
		base := "Codec/op=roundtrip/size=" + size + "/impl="
		if v, ok := r.ratio(base+"cookiesession", base+"crypto-floor", "ns/op"); ok {
			a, _ := r.get(base+"cookiesession", "allocs/op")
			fmt.Fprintf(w, "           info with the payload JSON (Codec.Seal + Codec.Open): size=%s %.2fx the crypto-only floor, %.0f allocs\n", size, v, a)
		}
	}

	c = nil
	for _, size := range sizes {
		base := "Codec/op=seal/size=" + size + "/impl="
		c = append(c, ratioCheck("size="+size+" time", base+"cookiesession-compressed", base+"cookiesession", "ns/op", 2)...)
		if v, ok := r.get(base+"cookiesession-compressed", "B/op"); ok {
			c = append(c, check{fmt.Sprintf("size=%s memory: %.0f B/op, limit 32768", size, v), v <= 32768})
		}
	}
	report("compressed seal <= 2x uncompressed, <= 32 KB allocated per seal", c)

	// Compression as its users feel it: the open, and the whole request.
	// Judged on CPU time when the results have it (see cpuUnit).
	timeUnit := "ns/op"
	if _, ok := r.get("Request/size=2.5KB/impl=cookiesession", cpuUnit); ok {
		timeUnit = cpuUnit
	}
	c = ratioCheck("open size=2.5KB "+timeUnit, "Open/size=2.5KB/impl=cookiesession-compressed", "Open/size=2.5KB/impl=cookiesession", timeUnit, 1.8)
	for _, l := range []struct {
		size  string
		limit float64
	}{{"200B", 2.5}, {"2.5KB", 1.6}, {"10KB", 1.3}} {
		base := "Request/size=" + l.size + "/impl="
		c = append(c, ratioCheck("request size="+l.size+" "+timeUnit, base+"cookiesession-compressed", base+"cookiesession", timeUnit, l.limit)...)
	}
	report("compressed open <= 1.8x uncompressed (2.5KB); compressed request <= 2.5x (200B), 1.6x (2.5KB), 1.3x (10KB)", c)

	c = nil
	for _, impl := range []string{"cookiesession", "cookiesession-signed"} {
		name := "Request/size=10KB/impl=" + impl
		alloc, ok1 := r.get(name, "B/op")
		lines, ok2 := r.get(name, "setcookie-B/op")
		if ok1 && ok2 {
			c = append(c, check{fmt.Sprintf("%s: %.0f B/op for %.0f bytes of Set-Cookie: %.2fx, limit 2x", impl, alloc, lines, alloc/lines), alloc <= 2*lines})
		}
	}
	report("a 10KB (four-cookie) request allocates at most twice its Set-Cookie bytes", c)

	c = nil
	for _, size := range sizes {
		base := "TwoRequests/size=" + size + "/impl="
		c = append(c, ratioCheck("size="+size+" time", base+"cookiesession", base+"gorilla-sessions", "ns/op", 0.5)...)
		c = append(c, ratioCheck("size="+size+" allocs", base+"cookiesession", base+"gorilla-sessions", "allocs/op", 0.5)...)
	}
	report("two full requests <= 0.5x gorilla/sessions in time and allocs", c)

	c = ratioCheck("time", "Untouched/impl=cookiesession", "Untouched/impl=bare", "ns/op", 1.1)
	a1, ok1 := r.get("Untouched/impl=cookiesession", "allocs/op")
	a0, ok2 := r.get("Untouched/impl=bare", "allocs/op")
	if ok1 && ok2 {
		c = append(c, check{fmt.Sprintf("allocs: %.0f vs %.0f, limit +2 (the request's context and the middleware's state)", a1, a0), a1-a0 <= 2})
	}
	report("a handler that never touches the session ~ a bare handler (time <= 1.1x, at most 2 allocs more)", c)
	return missed
}

func fmtUnit(v float64, unit string) string {
	if unit == "ns/op" || unit == cpuUnit {
		prefix := ""
		if unit == cpuUnit {
			prefix = "cpu "
		}
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%s%.2fms", prefix, v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%s%.2fµs", prefix, v/1e3)
		}
		return fmt.Sprintf("%s%.0fns", prefix, v)
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + " " + unit
}
