package webkit

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

// BenchmarkWarmDo is the warm scenario with token isolation: env.Do of a
// simple allowed GET from the shared tab, each with its own token.
//
//	go test -run '^$' -bench WarmDo -benchtime 200x -count 5 ./harness/webkit
func BenchmarkWarmDo(b *testing.B) {
	needWebKit(b)
	env := startEnv(b, harness.Options{WarmSessions: -1})
	ctx := context.Background()
	req := harness.Request{Policy: servers.Policy{AllowOrigin: echo}}
	if r, err := env.Do(ctx, req); err != nil || !r.Allowed() { // the shared tab
		b.Fatalf("Do: %v\n%s", err, r)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		r, err := env.Do(ctx, req)
		lat = append(lat, time.Since(t0))
		if err != nil || !r.Allowed() || len(r.Notes) > 0 {
			b.Fatalf("Do: %v\n%s", err, r)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
}
