// Package benchmarks compares cookiesession with its peers (gorilla/securecookie,
// gorilla/sessions) and with a hand-written standard library floor. It is a
// nested module so that the root module requires nothing but go-jose and
// x/crypto; the benchmarks themselves are in peers_test.go, the ratio report in
// cmd/ratios and the load-test server in cmd/loadserver. See README.md.
package benchmarks

import (
	"encoding/gob"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/cookiesession/cookiesession"
)

// Size is one of the session payloads the benchmarks use.
type Size struct {
	Name   string // sub-benchmark name: size=Name
	Target int    // bytes of JSON of the values, at least
}

// Sizes are the payloads: a typical small session, one with a modest cart,
// and one that needs four cookies (chunks) in cookiesession.
var Sizes = []Size{
	{"200B", 200},
	{"2.5KB", 2500},
	{"10KB", 10000},
}

// CookieName is the cookie name every implementation uses.
const CookieName = "session"

// CounterKey is the value "a request" reads and changes (an int).
const CounterKey = "visits"

// Limits lets a 10 KB session be sealed: it takes four cookies and about 13.5 KB
// of Cookie header (AWS ALB accepts 16 KiB per header line).
var Limits = cookiesession.Limits{HeaderBudget: 16384, MaxChunks: 4}

func init() {
	// gob (the default of gorilla/securecookie and gorilla/sessions) needs the
	// concrete types stored in interfaces registered.
	gob.Register(map[string]any{})
	gob.Register([]any{})
}

// Values returns the session values of size sz: deterministic, the shape of a
// real session (user, CSRF token, preferences, a cart), the JSON of the map at
// least sz.Target bytes and less than 10% more.
func Values(sz Size) map[string]any {
	rng := rand.New(rand.NewPCG(1, uint64(sz.Target)))
	token := func(n int) string {
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	v := map[string]any{
		CounterKey: 1,
		"user_id":  48213,
		"user":     "ada",
		"csrf":     token(43),
		"theme":    "dark",
		"admin":    false,
	}
	if sz.Target <= 200 {
		// Bring the small session to its target with the page to return to
		// after login.
		const page = "/account/orders/2025/11?page=2&sort=date&status=open&view=compact&lang=en"
		v["email"] = "ada@example.org"
		if n := sz.Target - JSONSize(v) - len(`,"return_to":""`); n > 0 {
			v["return_to"] = page[:min(n, len(page))]
		}
		return v
	}
	v["locale"] = "en-GB"
	v["last_seen"] = 1764160000
	var cart []any
	for i := 0; JSONSize(v) < sz.Target; i++ {
		cart = append(cart, map[string]any{
			"sku":   fmt.Sprintf("SKU-%05d-%s", i+1, token(6)),
			"name":  fmt.Sprintf("Item number %d, a fine thing", i+1),
			"qty":   1 + rng.IntN(3),
			"price": 100 + rng.IntN(9900),
		})
		v["cart"] = cart
	}
	return v
}

// JSONSize returns the length of the JSON of v.
func JSONSize(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return len(b)
}

// Keys returns fixed (not secret) master keys: benchmark cookies must open
// across runs.
func Keys() *cookiesession.KeyRing {
	k, err := cookiesession.NewKey("bench", []byte("benchmark master key, 32+ bytes; not a secret"))
	if err != nil {
		panic(err)
	}
	ring, err := cookiesession.NewKeyRing(k)
	if err != nil {
		panic(err)
	}
	return ring
}

// Secret32 returns n fixed bytes for the peers' keys.
func Secret32(label string) []byte {
	b := []byte(strings.Repeat(label, 32/len(label)+1))
	return b[:32]
}

// Variant is a cookiesession configuration benchmarked as its own impl.
type Variant struct {
	Impl     string // sub-benchmark name: impl=Impl
	Mode     cookiesession.Mode
	Compress bool
}

// Variants are the cookiesession configurations: the default (encrypted),
// signed only, and encrypted with compression.
var Variants = []Variant{
	{Impl: "cookiesession", Mode: cookiesession.Encrypted},
	{Impl: "cookiesession-signed", Mode: cookiesession.Signed},
	{Impl: "cookiesession-compressed", Mode: cookiesession.Encrypted, Compress: true},
}

// NewManager returns a Manager for v with the benchmark limits and a clock
// that may be pinned by now (nil: time.Now).
func NewManager(v Variant, now func() time.Time) *cookiesession.Manager {
	m, err := cookiesession.New(cookiesession.Config{
		Name:     CookieName,
		Keys:     Keys(),
		Mode:     v.Mode,
		Compress: v.Compress,
		Limits:   Limits,
		Now:      now,
		Insecure: true, // the load server speaks plain HTTP on loopback
	})
	if err != nil {
		panic(err)
	}
	return m
}

// CookieHeader turns Set-Cookie lines into the Cookie header a browser would
// send back: the name=value part of each line, expired cookies left out.
func CookieHeader(setCookies []string) string {
	var pairs []string
	for _, line := range setCookies {
		pair, attrs, _ := strings.Cut(line, ";")
		pair = strings.TrimSpace(pair)
		if _, value, _ := strings.Cut(pair, "="); value == "" || strings.Contains(attrs, "Max-Age=0") {
			continue
		}
		pairs = append(pairs, pair)
	}
	return strings.Join(pairs, "; ")
}

// CookieHeaderOf is CookieHeader of a response's Set-Cookie lines.
func CookieHeaderOf(h http.Header) string { return CookieHeader(h.Values("Set-Cookie")) }
