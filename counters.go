package cookiesession

import (
	"expvar"
	"maps"
	"sync"
	"sync/atomic"
)

// Counters counts [Event]s as expvar variables, ready to publish. Its zero
// value is ready to use; pass its Observe method as [Config.Observer] and
// publish it once (one Counters may serve several Managers):
//
//	counters := new(cookiesession.Counters)
//	cfg.Observer = counters.Observe
//	expvar.Publish("cookiesession", counters)
//
// It shows as one JSON object:
//
//	load        loads by outcome, and by "outcome.reason" when there is a reason
//	save        saves, the same way
//	seals       cookies sealed by key id: the figure the nonce budget is about
//	load_bytes  bytes of sealed values opened or refused
//	save_bytes  bytes of sealed values written
//
// for example {"load": {"opened": 41, "invalid.auth": 2}, "save":
// {"sealed.changed": 12}, "seals": {"2026-11": 12}, "load_bytes": 9512,
// "save_bytes": 2784}.
//
// Counting an event allocates nothing once its outcome and reason have been
// seen: the "outcome.reason" names are kept.
type Counters struct {
	once                 sync.Once
	all                  expvar.Map
	load, save, seals    expvar.Map
	loadBytes, saveBytes expvar.Int

	// names maps {outcome, reason} to "outcome.reason": read without a
	// lock, replaced by a copy with one more name under mu.
	names atomic.Pointer[map[[2]string]string]
	mu    sync.Mutex
}

func (c *Counters) init() {
	c.all.Set("load", &c.load)
	c.all.Set("save", &c.save)
	c.all.Set("seals", &c.seals)
	c.all.Set("load_bytes", &c.loadBytes)
	c.all.Set("save_bytes", &c.saveBytes)
}

// Observe counts e. It is safe for concurrent use.
func (c *Counters) Observe(e Event) {
	c.once.Do(c.init)
	m, bytes := &c.load, &c.loadBytes
	if e.Op == OpSave {
		m, bytes = &c.save, &c.saveBytes
	}
	key := e.Outcome
	if e.Reason != "" {
		key = c.name(e.Outcome, e.Reason)
	}
	m.Add(key, 1)
	if e.Bytes > 0 {
		bytes.Add(int64(e.Bytes))
	}
	if e.Outcome == OutcomeSealed && e.KeyID != "" {
		c.seals.Add(e.KeyID, 1)
	}
}

// name returns outcome + "." + reason, built once per pair. Outcomes and
// reasons are a few stable strings, so the map stays small.
func (c *Counters) name(outcome, reason string) string {
	k := [2]string{outcome, reason}
	if names := c.names.Load(); names != nil {
		if n, ok := (*names)[k]; ok {
			return n
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.names.Load()
	if old != nil {
		if n, ok := (*old)[k]; ok {
			return n
		}
	}
	names := map[[2]string]string{}
	if old != nil {
		names = maps.Clone(*old)
	}
	n := outcome + "." + reason
	names[k] = n
	c.names.Store(&names)
	return n
}

// String returns the counters as JSON: Counters is an [expvar.Var].
func (c *Counters) String() string {
	c.once.Do(c.init)
	return c.all.String()
}
