package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// wasmModule builds a binary with one imported function and two defined
// ones, named as the Go linker names them.
func wasmModule() []byte {
	sec := func(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	imports := cat([]byte{1}, str("go"), str("debug"), []byte{0, 0})
	code := cat([]byte{2}, []byte{3, 0, 0x01, 0x0b}, []byte{5, 0, 0x01, 0x01, 0x01, 0x0b})
	names := cat([]byte{3},
		[]byte{0}, str("go.debug"),
		[]byte{1}, str("github.com_go_jose_go_jose_v4.(_JSONWebKey).Valid"),
		[]byte{2}, str("net_http.(_Server).Serve"))
	custom := cat(str("name"), sec(1, names...))
	return cat([]byte("\x00asm\x01\x00\x00\x00"),
		sec(1, 1, 0x60, 0, 0), // one type: func() ()
		sec(2, imports...),
		sec(3, 2, 0, 0),
		sec(10, code...),
		sec(0, custom...))
}

func TestReport(t *testing.T) {
	var out bytes.Buffer
	err := report(&out, wasmModule(), 10, []string{"net/http", "github.com/go-jose/go-jose/v4", "github.com/go-jose/go-jose/v4/json"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"section code ",
		"section custom name ",
		"code bytes by package (2 functions, 2 packages):",
		"         5  net/http\n",
		"         3  github.com/go-jose/go-jose/v4\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Index(out.String(), "net/http") > strings.Index(out.String(), "go-jose/v4\n") {
		t.Errorf("not sorted by size:\n%s", out.String())
	}
}

func TestPkgOf(t *testing.T) {
	mangled := map[string]string{"net_http": "net/http", "github.com_go_jose_go_jose_v4": "github.com/go-jose/go-jose/v4", "github.com_go_jose_go_jose_v4_json": "github.com/go-jose/go-jose/v4/json"}
	for name, want := range map[string]string{
		"net_http.(_Server).Serve":                     "net/http",
		"github.com_go_jose_go_jose_v4_json.Unmarshal": "github.com/go-jose/go-jose/v4/json",
		"github.com_go_jose_go_jose_v4.init":           "github.com/go-jose/go-jose/v4",
		"type_.eq.internal_abi.ITab":                   "type_",
		"runtime.main":                                 "runtime",
		"":                                             "(unnamed)",
		"nodot":                                        "nodot",
	} {
		if got := pkgOf(name, mangled); got != want {
			t.Errorf("pkgOf(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestParseRejectsTruncated(t *testing.T) {
	bin := wasmModule()
	boundary := map[int]bool{}      // a cut between sections leaves a shorter, valid module
	for pos := 8; pos < len(bin); { // the test module's sizes fit one byte
		boundary[pos] = true
		pos += 2 + int(bin[pos+1])
	}
	for n := range len(bin) {
		if boundary[n] {
			if _, err := parse(bin[:n]); err != nil {
				t.Fatalf("%d of %d bytes, between sections: %v", n, len(bin), err)
			}
			continue
		}
		if _, err := parse(bin[:n]); !errors.Is(err, errFormat) {
			t.Fatalf("%d of %d bytes: err %v, want errFormat", n, len(bin), err)
		}
	}
	if _, err := parse([]byte("\x7fELF\x02\x01\x01\x00")); !errors.Is(err, errFormat) {
		t.Fatalf("an ELF header: err %v", err)
	}
}
