package main

import (
	"strings"
	"testing"
)

// TestStartupNotes: the demo prints the URL to open, and mentions -insecure
// when it listens beyond loopback with Secure cookies.
func TestStartupNotes(t *testing.T) {
	for _, c := range []struct {
		addr     string
		insecure bool
		url      string
		warn     bool
	}{
		{"localhost:8080", false, "http://localhost:8080/", false},
		{"127.0.0.1:9000", false, "http://localhost:9000/", false},
		{"[::1]:9000", false, "http://localhost:9000/", false},
		{"0.0.0.0:18081", false, "http://localhost:18081/", true},
		{":18081", false, "http://localhost:18081/", true},
		{"192.0.2.2:18081", false, "http://192.0.2.2:18081/", true},
		{"0.0.0.0:18081", true, "http://localhost:18081/", false},
	} {
		notes := strings.Join(startupNotes(c.addr, c.insecure), "\n")
		if !strings.Contains(notes, "open "+c.url) {
			t.Errorf("%s: %q does not give the URL %s", c.addr, notes, c.url)
		}
		if strings.Contains(notes, "-insecure") != c.warn {
			t.Errorf("%s insecure=%v: %q mentions -insecure: %v, want %v", c.addr, c.insecure, notes, !c.warn, c.warn)
		}
	}
}
