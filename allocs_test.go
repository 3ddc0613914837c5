//go:build !race

package cookiesession

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestChunkedRequestAllocations: a request on a session of four cookies
// (open, change one value, seal) allocates at most twice the bytes of the
// Set-Cookie lines it writes, in at most 8 allocations: the chunks are
// joined in a pooled buffer and the lines written in one allocation, each
// byte of the sealed value copied once. Allocation is deterministic; this
// measures no time. Not built under -race, where sync.Pool drops items at
// random: CI runs it without the race detector.
func TestChunkedRequestAllocations(t *testing.T) {
	m, err := New(Config{Keys: fxRing12(t), Limits: Limits{HeaderBudget: 16384, MaxChunks: 4}})
	if err != nil {
		t.Fatal(err)
	}
	// A session shaped as the benchmarks' 10 KB one: a few values and a
	// cart.
	s, _ := m.LoadHeader()
	var cart []map[string]any
	for i := 0; i < 110; i++ {
		cart = append(cart, map[string]any{"sku": fmt.Sprintf("SKU-%05d-%06x", i+1, i*7919), "name": fmt.Sprintf("Item number %d, a fine thing", i+1), "qty": 1 + i%3, "price": 100 + i*37%9900})
	}
	for k, v := range map[string]any{"visits": 1, "user_id": 48213, "user": "ada", "theme": "dark", "cart": cart} {
		s.Set(k, v)
	}
	lines, err := m.SetCookies(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 {
		t.Fatalf("%d Set-Cookie lines, want 4 (a session of four chunks)", len(lines))
	}
	var pairs []string
	for _, l := range lines {
		pairs = append(pairs, l[:strings.IndexByte(l, ';')])
	}
	header := strings.Join(pairs, "; ")
	lineBytes := 0
	request := func() {
		s, err := m.LoadHeader(header)
		if err != nil {
			t.Fatal(err)
		}
		s.Set("visits", s.GetInt("visits")+1)
		lines, err := m.SetCookies(s)
		if err != nil || len(lines) != 4 {
			t.Fatal(len(lines), err)
		}
		lineBytes = 0
		for _, l := range lines {
			lineBytes += len(l)
		}
	}
	request() // fill the pools
	const runs = 200
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		request()
	}
	runtime.ReadMemStats(&after)
	bytes := float64(after.TotalAlloc-before.TotalAlloc) / runs
	allocs := float64(after.Mallocs-before.Mallocs) / runs
	t.Logf("%d bytes of Set-Cookie; per request %.0f bytes in %.1f allocations", lineBytes, bytes, allocs)
	if bytes > 2*float64(lineBytes) {
		t.Errorf("a four-chunk request allocates %.0f bytes, over twice its %d bytes of Set-Cookie", bytes, lineBytes)
	}
	if allocs > 8 {
		t.Errorf("a four-chunk request makes %.1f allocations, want at most 8", allocs)
	}
}

// TestCountersAllocations: once an outcome and reason have been counted,
// counting them again allocates nothing (the "outcome.reason" name is kept,
// not concatenated per event).
func TestCountersAllocations(t *testing.T) {
	var c Counters
	events := []Event{
		{Op: OpLoad, Outcome: OutcomeOpened, Bytes: 300},
		{Op: OpLoad, Outcome: OutcomeInvalid, Reason: ReasonAuth, Bytes: 120},
		{Op: OpSave, Outcome: OutcomeSealed, Reason: ReasonChanged, KeyID: "2026-11", Bytes: 310},
	}
	for _, e := range events {
		c.Observe(e)
	}
	if n := testing.AllocsPerRun(200, func() {
		for _, e := range events {
			c.Observe(e)
		}
	}); n != 0 {
		t.Errorf("%v allocations per three events counted, want 0", n)
	}
	for _, want := range []string{`"invalid.auth": 202`, `"sealed.changed": 202`, `"opened": 202`, `"2026-11": 202`} {
		if got := c.String(); !strings.Contains(got, want) {
			t.Errorf("counters %s, want %s", got, want)
		}
	}
}
