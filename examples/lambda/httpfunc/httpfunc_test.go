package httpfunc

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
)

func TestMain(m *testing.M) {
	key, err := cookiesession.GenerateKey("httpfunc-test")
	if err != nil {
		panic(err)
	}
	ring, _ := cookiesession.NewKeyRing(key)
	jwks, _ := ring.ExportJWKS()
	os.Setenv("COOKIESESSION_KEYS", string(jwks))
	os.Exit(m.Run())
}

func TestHandlerCountsVisits(t *testing.T) {
	var cookies []*http.Cookie
	for want := 1; want <= 3; want++ {
		r := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		Handler(w, r)
		res := w.Result()
		body := w.Body.String()
		if res.StatusCode != http.StatusOK || body != "visits: "+string(rune('0'+want))+"\n" {
			t.Fatalf("visit %d: %d %q", want, res.StatusCode, body)
		}
		if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Vary") != "Cookie" {
			t.Fatalf("visit %d: headers %v", want, res.Header)
		}
		cookies = res.Cookies()
		if len(cookies) != 1 || !cookies[0].HttpOnly || !cookies[0].Secure {
			t.Fatalf("visit %d: cookies %v", want, cookies)
		}
	}
}

// The README shows this package's source: keep them the same.
func TestREADMEShowsThisHandler(t *testing.T) {
	src, err := os.ReadFile("httpfunc.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, code, _ := strings.Cut(string(src), "\npackage httpfunc\n")
	if !strings.Contains(string(readme), code) {
		t.Fatal("README.md no longer shows httpfunc.go (after its package clause): copy it over")
	}
}

// TestCrossOriginRefused: a browser's POST from another origin is refused
// and sets no cookie.
func TestCrossOriginRefused(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "https://example.com/", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	Handler(w, r)
	if res := w.Result(); res.StatusCode != http.StatusForbidden || len(res.Cookies()) != 0 {
		t.Fatalf("cross-origin POST: %d, cookies %v", res.StatusCode, res.Cookies())
	}
}
