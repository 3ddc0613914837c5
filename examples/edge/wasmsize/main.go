// Command wasmsize reports what a Go WebAssembly binary is made of: the size
// of each section, and the code bytes of each Go package (from the function
// names of the binary's "name" section), largest first. It does for wasm
// what `go tool nm -size -sort size` does for other targets (nm does not read
// wasm binaries).
//
//	go run ./examples/edge/wasmsize [-top N] FILE.wasm
package main

import (
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

func main() {
	top := flag.Int("top", 25, "packages to list")
	pkgs := flag.String("pkgs", "", "the program's packages (go list -deps), separated by white space")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: wasmsize [-top N] [-pkgs LIST] FILE.wasm")
		os.Exit(2)
	}
	bin, err := os.ReadFile(flag.Arg(0))
	if err == nil {
		err = report(os.Stdout, bin, *top, strings.Fields(*pkgs))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
}

// report writes the section sizes and the top packages by code size.
func report(w io.Writer, bin []byte, top int, pkgPaths []string) error {
	m, err := parse(bin)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-12s %10d bytes\n", "file", len(bin))
	for _, s := range m.sections {
		fmt.Fprintf(w, "%-12s %10d bytes\n", "section "+s.name, s.size)
	}
	mangled := map[string]string{} // the name's form of an import path -> the path
	for _, p := range pkgPaths {
		mangled[linkerName.ReplaceAllString(p, "_")] = p
	}
	pkgs := map[string]int{}
	for i, size := range m.bodies {
		pkgs[pkgOf(m.names[m.imports+i], mangled)] += size
	}
	type pkg struct {
		name string
		size int
	}
	var list []pkg
	for name, size := range pkgs {
		list = append(list, pkg{name, size})
	}
	slices.SortFunc(list, func(a, b pkg) int { return cmp.Or(b.size-a.size, strings.Compare(a.name, b.name)) })
	fmt.Fprintf(w, "code bytes by package (%d functions, %d packages):\n", len(m.bodies), len(list))
	for i, p := range list {
		if i == top {
			break
		}
		fmt.Fprintf(w, "%10d  %s\n", p.size, p.name)
	}
	return nil
}

// linkerName matches what the linker replaces with "_" in the name section.
var linkerName = regexp.MustCompile(`[^\w.]`)

// pkgOf returns the Go package of a function's name as the linker wrote it
// ("net_http.(*Server).Serve" is in "net/http"): the longest prefix before a
// dot that is a known package (mangled maps the names' form of each import
// path to the path), else the text before the first dot. Generic
// instantiations count in the package of the generic function.
func pkgOf(name string, mangled map[string]string) string {
	if name == "" {
		return "(unnamed)"
	}
	best := ""
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			if p, ok := mangled[name[:i]]; ok {
				best = p
			}
		}
	}
	if best != "" {
		return best
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		return name[:i]
	}
	return name
}

type section struct {
	name string
	size int
}

type module struct {
	sections []section
	imports  int            // imported functions: the first indexes of the function space
	bodies   []int          // code section: the size of each function body
	names    map[int]string // "name" section: function index -> name
}

var errFormat = errors.New("not a WebAssembly binary, or a truncated one")

// parse reads the parts of a wasm binary that report needs.
func parse(bin []byte) (*module, error) {
	if len(bin) < 8 || !bytes.Equal(bin[:8], []byte("\x00asm\x01\x00\x00\x00")) {
		return nil, errFormat
	}
	m := &module{names: map[int]string{}}
	r := reader{b: bin[8:]}
	for len(r.b) > 0 {
		id := r.byte()
		size := int(r.uleb())
		body := r.bytes(size)
		if r.err != nil {
			return nil, r.err
		}
		s := reader{b: body}
		name := sectionNames[id]
		switch id {
		case 0:
			name = "custom " + s.name()
			if name == "custom name" {
				readNames(&s, m.names)
			}
		case 2:
			m.imports = countFuncImports(&s)
		case 10:
			for n := s.uleb(); n > 0 && s.err == nil; n-- {
				m.bodies = append(m.bodies, len(s.bytes(int(s.uleb()))))
			}
		}
		if s.err != nil {
			return nil, fmt.Errorf("section %s: %w", name, s.err)
		}
		m.sections = append(m.sections, section{name, size})
	}
	return m, nil
}

var sectionNames = map[byte]string{1: "type", 2: "import", 3: "function", 4: "table", 5: "memory", 6: "global", 7: "export", 8: "start", 9: "element", 10: "code", 11: "data", 12: "datacount"}

func countFuncImports(s *reader) int {
	funcs := 0
	for n := s.uleb(); n > 0 && s.err == nil; n-- {
		s.name() // module
		s.name() // field
		switch kind := s.byte(); kind {
		case 0: // function: type index
			s.uleb()
			funcs++
		case 1: // table: element type, limits
			s.byte()
			s.limits()
		case 2: // memory: limits
			s.limits()
		case 3: // global: value type, mutability
			s.byte()
			s.byte()
		default:
			s.err = fmt.Errorf("import kind %d: %w", kind, errFormat)
		}
	}
	return funcs
}

// readNames reads the function names subsection (id 1) of a "name" section.
func readNames(s *reader, names map[int]string) {
	for len(s.b) > 0 && s.err == nil {
		id := s.byte()
		sub := reader{b: s.bytes(int(s.uleb()))}
		if id != 1 {
			continue
		}
		for n := sub.uleb(); n > 0 && sub.err == nil; n-- {
			i := int(sub.uleb())
			names[i] = sub.name()
		}
		if sub.err != nil {
			s.err = sub.err
		}
	}
}

// reader reads wasm's encodings; the first error sticks and reads return zeros.
type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.err = errFormat
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uleb() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		c := r.byte()
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errFormat
	return 0
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.b) {
		r.err = errFormat
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

func (r *reader) name() string { return string(r.bytes(int(r.uleb()))) }

func (r *reader) limits() {
	if r.byte()&1 != 0 {
		r.uleb()
	}
	r.uleb()
}
