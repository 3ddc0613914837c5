package cookiesession

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestMiddlewareHighPriority: Priority=High on every line the session
// writes, live or expired, within MaxCookieBytes with the chunks.
func TestMiddlewareHighPriority(t *testing.T) {
	env := newE2E(t, Config{HighPriority: true}, e2eRoutes)
	resp := env.get("/blob?n=5000")
	if len(resp.lines) != 2 {
		t.Fatalf("Set-Cookie %d lines, want 2 chunks", len(resp.lines))
	}
	for _, l := range resp.lines {
		if _, _, _, attrs := e2eLine(t, l); !slices.Contains(attrs, "Priority=High") || len(l) > MaxCookieBytes {
			t.Errorf("line of %d bytes, attributes %q", len(l), attrs)
		}
	}
	if v := env.get("/read").view(t); v.Blob != 5000 || v.Info.Chunks != 2 {
		t.Errorf("chunks did not come back: %+v", v)
	}
	resp = env.get("/destroy")
	for _, l := range resp.lines {
		if !strings.HasSuffix(l, "; Priority=High") || !e2eExpired(t, l) {
			t.Errorf("expired line %q", l)
		}
	}
	env.log.expectNone(t)
}

// TestPartitionedBudget: with Partitioned the header budget is at most 10 KiB
// (construction refuses more), and a session never leaves more than that in
// name and value bytes, the measure Chromium applies per partition.
func TestPartitionedBudget(t *testing.T) {
	ring := e2eRing(t, "A")
	_, err := New(Config{Keys: ring, Partitioned: true, SameSite: http.SameSiteNoneMode, Limits: Limits{HeaderBudget: MaxPartitionedBudget + 1}})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "Partitioned") {
		t.Fatalf("HeaderBudget over 10 KiB with Partitioned: %v", err)
	}
	if _, err := New(Config{Keys: ring, Limits: Limits{HeaderBudget: MaxPartitionedBudget + 1}}); err != nil {
		t.Fatalf("the same budget without Partitioned: %v", err)
	}
	m, _, _ := e2eManager(t, Config{Keys: ring, Name: "__Host-s", Partitioned: true, SameSite: http.SameSiteNoneMode,
		Limits: Limits{HeaderBudget: MaxPartitionedBudget, MaxChunks: 4}})
	fits, refused := 0, 0
	for n := 6000; n <= 9000; n += 50 {
		s, _ := m.LoadHeader()
		s.Set("blob", e2eRandomHex(uint64(n), n))
		lines, err := m.SetCookies(s)
		if errors.Is(err, ErrTooLarge) {
			refused++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		fits++
		chromium := 0 // name and value bytes, as Chromium counts a partition
		for _, l := range lines {
			name, value, _, attrs := e2eLine(t, l)
			chromium += len(name) + len(value)
			if !slices.Contains(attrs, "Partitioned") {
				t.Errorf("no Partitioned attribute: %q", attrs)
			}
		}
		if chromium > MaxPartitionedBudget {
			t.Errorf("%d bytes of values: %d bytes of partitioned cookies, over 10 KiB", n, chromium)
		}
	}
	if fits == 0 || refused == 0 {
		t.Errorf("%d sizes fit and %d were refused: the range does not cross the budget", fits, refused)
	}
}
