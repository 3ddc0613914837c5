package benchmarks

import (
	"strings"
	"testing"
)

// TestValues checks the payload sizes the benchmark names promise.
func TestValues(t *testing.T) {
	for _, sz := range Sizes {
		n := JSONSize(Values(sz))
		if n < sz.Target || n > sz.Target*11/10 {
			t.Errorf("size=%s: %d bytes of JSON, want %d to %d", sz.Name, n, sz.Target, sz.Target*11/10)
		}
	}
}

// TestPeers checks every implementation on every size: seal, read back, one
// request. The 10KB cookiesession session must be chunked.
func TestPeers(t *testing.T) {
	for _, sz := range Sizes {
		for _, p := range peers() {
			cookie, err := p.seal(Values(sz))
			if err != nil {
				t.Fatalf("%s %s: %v", p.impl, sz.Name, err)
			}
			checkRequest(t, p, cookie)
			if p.impl == "cookiesession" {
				chunked := strings.Contains(cookie, CookieName+".1=")
				if chunked != (sz.Name == "10KB") {
					t.Errorf("%s: chunked %v", sz.Name, chunked)
				}
			}
		}
	}
}

// TestTwoRequests checks both middlewares end to end.
func TestTwoRequests(t *testing.T) {
	for _, sz := range Sizes {
		if got := twoRequests(cookiesessionHandler(Values(sz))); got != "1" {
			t.Errorf("cookiesession %s: %q", sz.Name, got)
		}
		if got := twoRequests(gorillaHandler(Values(sz))); got != "1" {
			t.Errorf("gorilla-sessions %s: %q", sz.Name, got)
		}
	}
}
