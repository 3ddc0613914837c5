// Package cookiesessionotel records the events of cookiesession
// ([cookiesession.Event]) as OpenTelemetry metrics. It is a module of its own,
// so that applications that do not use OpenTelemetry never download it.
//
//	obs, err := cookiesessionotel.New(nil) // the global MeterProvider
//	…
//	sessions, err := cookiesession.New(cookiesession.Config{Keys: keys, Observer: obs.Observe})
//
// The instruments, from the meter named by [ScopeName]:
//
//	cookiesession.loads          counter, by outcome and reason
//	cookiesession.saves          counter, by outcome and reason
//	cookiesession.seals          counter of cookies sealed, by key id (kid)
//	cookiesession.cookie.size    histogram of sealed value bytes, by op (load, save)
//	cookiesession.cookie.chunks  histogram of cookies per session, by op
//
// cookiesession.seals summed by kid across the fleet is the figure to alert
// on for the AES-GCM nonce budget: about 2^32 seals per content key.
package cookiesessionotel

import (
	"context"
	"sync"

	"github.com/cookiesession/cookiesession"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope (meter) name of the instruments.
const ScopeName = "github.com/cookiesession/cookiesession"

// Attribute keys of the measurements.
const (
	AttrOp      = attribute.Key("op")
	AttrOutcome = attribute.Key("outcome")
	AttrReason  = attribute.Key("reason")
	AttrKeyID   = attribute.Key("kid")
)

// Histogram bucket boundaries: sealed values up to the 32 KiB header budget
// cap around the 4 KiB cookie, and 1 to 9 chunks.
var (
	sizeBuckets  = []float64{256, 512, 1024, 2048, 3072, 4096, 8192, 16384, 32768}
	chunkBuckets = []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}
)

// An Observer records events into OpenTelemetry instruments. It is safe for
// concurrent use, and one Observer may serve several Managers.
type Observer struct {
	loads, saves, seals metric.Int64Counter
	size, chunks        metric.Int64Histogram

	// The attribute sets of the outcomes, reasons and kids seen so far: a
	// few dozen at most, built once each, so that recording allocates none.
	mu   sync.RWMutex
	sets map[attrKey]options
}

// options are one attribute set as the option slices Add and Record take:
// passed as they are, they are not allocated again for each measurement.
type options struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

// attrKey names an attribute set: of an outcome and reason, an op, or a kid.
type attrKey struct {
	kind int // one of the constants below
	a, b string
}

const (
	outcomeReason = iota
	op
	kid
)

// New returns an Observer whose instruments come from mp, or from the global
// MeterProvider (otel.GetMeterProvider) when mp is nil.
func New(mp metric.MeterProvider) (*Observer, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(ScopeName)
	o := &Observer{sets: make(map[attrKey]options)}
	var err error
	if o.loads, err = m.Int64Counter("cookiesession.loads", metric.WithUnit("{load}"),
		metric.WithDescription("Sessions loaded from requests, by outcome and reason")); err != nil {
		return nil, err
	}
	if o.saves, err = m.Int64Counter("cookiesession.saves", metric.WithUnit("{save}"),
		metric.WithDescription("Sessions saved to responses, by outcome and reason")); err != nil {
		return nil, err
	}
	if o.seals, err = m.Int64Counter("cookiesession.seals", metric.WithUnit("{seal}"),
		metric.WithDescription("Cookies sealed, by key id: about 2^32 per key across the fleet is the AES-GCM nonce budget")); err != nil {
		return nil, err
	}
	if o.size, err = m.Int64Histogram("cookiesession.cookie.size", metric.WithUnit("By"),
		metric.WithDescription("Bytes of the sealed session value, by op"), metric.WithExplicitBucketBoundaries(sizeBuckets...)); err != nil {
		return nil, err
	}
	if o.chunks, err = m.Int64Histogram("cookiesession.cookie.chunks", metric.WithUnit("{cookie}"),
		metric.WithDescription("Cookies a session takes, by op"), metric.WithExplicitBucketBoundaries(chunkBuckets...)); err != nil {
		return nil, err
	}
	return o, nil
}

// Observe records e; pass it as cookiesession.Config.Observer.
func (o *Observer) Observe(e cookiesession.Event) {
	ctx := context.Background()
	counter := o.loads
	if e.Op == cookiesession.OpSave {
		counter = o.saves
	}
	counter.Add(ctx, 1, o.set(attrKey{outcomeReason, e.Outcome, e.Reason}).add...)
	if e.Bytes > 0 {
		opSet := o.set(attrKey{kind: op, a: e.Op}).record
		o.size.Record(ctx, int64(e.Bytes), opSet...)
		o.chunks.Record(ctx, int64(e.Chunks), opSet...)
	}
	if e.Outcome == cookiesession.OutcomeSealed && e.KeyID != "" {
		o.seals.Add(ctx, 1, o.set(attrKey{kind: kid, a: e.KeyID}).add...)
	}
}

// set returns the options of k's attribute set, built on its first use.
func (o *Observer) set(k attrKey) options {
	o.mu.RLock()
	opt, ok := o.sets[k]
	o.mu.RUnlock()
	if ok {
		return opt
	}
	var s attribute.Set
	switch k.kind {
	case kid:
		s = attribute.NewSet(AttrKeyID.String(k.a))
	case op:
		s = attribute.NewSet(AttrOp.String(k.a))
	default:
		s = attribute.NewSet(AttrOutcome.String(k.a), AttrReason.String(k.b))
	}
	m := metric.WithAttributeSet(s)
	opt = options{add: []metric.AddOption{m}, record: []metric.RecordOption{m}}
	o.mu.Lock()
	o.sets[k] = opt
	o.mu.Unlock()
	return opt
}
