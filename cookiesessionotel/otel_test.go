package cookiesessionotel

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cookiesession/cookiesession"
	"github.com/cookiesession/cookiesession/cookiesessiontest"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// newObserved returns an Observer recording into an SDK MeterProvider with a
// ManualReader, and that reader.
func newObserved(t testing.TB) (*Observer, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	obs, err := New(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	if err != nil {
		t.Fatal(err)
	}
	return obs, reader
}

// collect returns the exported metrics by name.
func collect(t *testing.T, reader *sdkmetric.ManualReader) map[string]metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m.Data
		}
	}
	return out
}

// sums returns a counter's values by a rendering of their attributes.
func sums(t *testing.T, data metricdata.Aggregation) map[string]int64 {
	t.Helper()
	sum, ok := data.(metricdata.Sum[int64])
	if !ok || !sum.IsMonotonic || sum.Temporality != metricdata.CumulativeTemporality {
		t.Fatalf("not a cumulative monotonic int64 sum: %T %+v", data, data)
	}
	out := map[string]int64{}
	for _, dp := range sum.DataPoints {
		out[render(dp.Attributes)] += dp.Value
	}
	return out
}

func render(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	return strings.Join(parts, ",")
}

// TestMetricsThroughHandler: requests from a browser with a cookie jar
// through Manager.Handler, then the metrics the SDK exports.
func TestMetricsThroughHandler(t *testing.T) {
	obs, reader := newObserved(t)
	m, _ := cookiesessiontest.NewManager(t, cookiesession.Config{Observer: obs.Observe})
	mux := http.NewServeMux()
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		s := m.Session(r)
		s.Set("n", s.GetInt("n")+1)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		m.Session(r).Set("big", strings.Repeat("0123456789abcdef", 250)) // two cookies
	})
	mux.HandleFunc("/read", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, m.Session(r).GetString("user"))
	})
	srv := httptest.NewTLSServer(m.Handler(mux))
	defer srv.Close()
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)
	get := func(path, cookie string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get("/count", "") // load no-cookie, save sealed
	get("/count", "") // load opened, save sealed
	get("/read", "")  // load opened, save unchanged
	get("/big", "")   // load opened, save sealed in two cookies
	get("/read", "")  // load opened (two cookies)
	bare := client.Jar
	client.Jar = nil
	get("/read", "session=eyJhbGciOiJkaXIi.x.y.z.w") // load invalid, save cleared
	client.Jar = bare

	got := collect(t, reader)
	kid := m.Codec().Config().Keys.KeyRing().Primary()
	for name, want := range map[string]map[string]int64{
		"cookiesession.loads": {"outcome=no-cookie,reason=": 1, "outcome=opened,reason=": 4, "outcome=invalid,reason=format": 1},
		"cookiesession.saves": {"outcome=sealed,reason=changed": 3, "outcome=unchanged,reason=": 2, "outcome=cleared,reason=refused": 1},
		"cookiesession.seals": {"kid=" + kid: 3},
	} {
		if s := sums(t, got[name]); !equal(s, want) {
			t.Errorf("%s = %v, want %v", name, s, want)
		}
	}

	// Histograms by op: 3 seals (the last in two cookies); 4 opens (the
	// last of two cookies) and the refused value, in one.
	for name, want := range map[string]map[string][2]int64{ // count, sum
		"cookiesession.cookie.chunks": {"op=save": {3, 4}, "op=load": {5, 6}},
	} {
		h := got[name].(metricdata.Histogram[int64])
		for _, dp := range h.DataPoints {
			w := want[render(dp.Attributes)]
			if int64(dp.Count) != w[0] || dp.Sum != w[1] {
				t.Errorf("%s{%s}: count %d sum %d, want %v", name, render(dp.Attributes), dp.Count, dp.Sum, w)
			}
		}
	}
	size := got["cookiesession.cookie.size"].(metricdata.Histogram[int64])
	for _, dp := range size.DataPoints {
		if render(dp.Attributes) == "op=save" {
			max, _ := dp.Max.Value()
			if dp.Count != 3 || max < 4000 || max > 8192 || dp.Sum < 4000+2*100 {
				t.Errorf("save sizes: count %d, max %d, sum %d", dp.Count, max, dp.Sum)
			}
			// The two-cookie seal lands in the (4096, 8192] bucket.
			if n := dp.BucketCounts[len(dp.Bounds)-3]; n != 1 || dp.Bounds[len(dp.Bounds)-3] != 8192 {
				t.Errorf("buckets %v over %v", dp.BucketCounts, dp.Bounds)
			}
		}
	}
}

func equal(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestAttributeSetsCached: each attribute set is built once, on the first
// event that needs it, and recording allocates nothing after that.
func TestAttributeSetsCached(t *testing.T) {
	obs, _ := newObserved(t)
	e := cookiesession.Event{Op: cookiesession.OpSave, Outcome: cookiesession.OutcomeSealed, Reason: cookiesession.ReasonChanged, KeyID: "k1", Bytes: 300, Chunks: 1}
	obs.Observe(e)
	n := len(obs.sets)
	for range 10 {
		obs.Observe(e)
	}
	if len(obs.sets) != n || n != 3 {
		t.Errorf("%d attribute sets, then %d; want 3 built once", n, len(obs.sets))
	}
	if a := testing.AllocsPerRun(100, func() { obs.Observe(e) }); a != 0 {
		t.Errorf("Observe allocates %v times", a)
	}
}
