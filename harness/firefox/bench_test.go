package firefox

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

// BenchmarkWarmDo is a warm scenario with token isolation: env.Do of a
// simple allowed GET from the Env's shared tab, all three views collected.
// It reports the median and the 95th percentile of the calls:
//
//	go test -run '^$' -bench WarmDo -benchtime 200x -count 5 ./harness/firefox
func BenchmarkWarmDo(b *testing.B) {
	needFirefox(b)
	env := startEnv(b, harness.Options{WarmSessions: -1})
	ctx := context.Background()
	req := harness.Request{Policy: servers.Policy{AllowOrigin: echo}}
	for range 20 { // the shared tab, and Firefox's connection to the API, warm
		if r, err := env.Do(ctx, req); err != nil || !r.Allowed() {
			b.Fatalf("%v\n%s", err, r)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		r, err := env.Do(ctx, req)
		lat = append(lat, time.Since(t0))
		if err != nil || !r.Allowed() || len(r.Disagreements()) > 0 || len(r.Notes) > 0 {
			b.Fatalf("%v\n%s", err, r)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
