package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/cookiesessiontest"
)

// TestCartThroughChi: one browser (a cookie jar) adds two items through
// chi's routes and reads its cart back; another browser has its own.
func TestCartThroughChi(t *testing.T) {
	sessions, _ := cookiesessiontest.NewManager(t, cookiesession.Config{})
	srv := httptest.NewTLSServer(routes(sessions))
	defer srv.Close()
	browser := func() *http.Client {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		c := *srv.Client()
		c.Jar = jar
		return &c
	}
	do := func(c *http.Client, method, path string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	a, b := browser(), browser()
	for _, item := range []string{"tea", "milk"} {
		if code, _ := do(a, "POST", "/cart/"+item); code != http.StatusNoContent {
			t.Fatalf("POST %s: %d", item, code)
		}
	}
	if _, body := do(a, "GET", "/cart"); body != "cart: tea, milk\n" {
		t.Fatalf("cart %q", body)
	}
	if _, body := do(b, "GET", "/cart"); body != "cart: \n" {
		t.Fatalf("the other browser's cart %q", body)
	}
	if code, _ := do(a, "GET", "/nowhere"); code != http.StatusNotFound {
		t.Fatalf("unknown route: %d", code)
	}
}
