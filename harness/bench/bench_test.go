package bench

import (
	"context"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
)

// Run: go test -run '^$' -bench . -benchtime 200x -count 3 ./harness/bench | benchstat -

func benchEnv(b *testing.B) *harness.Env {
	b.Helper()
	env, err := harness.Start(context.Background(), harness.Options{WarmSessions: -1})
	if err != nil {
		b.Skip("no Chrome: ", err)
	}
	b.Cleanup(func() { env.Close() })
	// Warm the shared tab so the first scenario does not pay for it.
	if _, err := env.Do(context.Background(), Kinds[0].Request); err != nil {
		b.Fatal(err)
	}
	return env
}

func benchmark(b *testing.B, fresh bool) {
	env := benchEnv(b)
	b.ResetTimer()
	run, err := Workload(context.Background(), env, b.N, fresh)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ms(harness.Percentile(run.Latencies, 50)), "p50-ms")
	b.ReportMetric(ms(harness.Percentile(run.Latencies, 95)), "p95-ms")
	b.ReportMetric(float64(run.PeakRSS)/(1<<20), "chrome-MiB")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkWorkload is one scenario of the workload with token isolation in a warm tab.
func BenchmarkWorkload(b *testing.B) { benchmark(b, false) }

// BenchmarkWorkloadFreshContext is one scenario with a fresh browser context per scenario.
func BenchmarkWorkloadFreshContext(b *testing.B) { benchmark(b, true) }

func TestEveryKindPassesItsCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("needs Chrome")
	}
	env, err := harness.Start(context.Background(), harness.Options{WarmSessions: -1})
	if err != nil {
		t.Skip("no Chrome: ", err)
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := Workload(ctx, env, 2*len(Kinds), false); err != nil {
		t.Fatal(err)
	}
	// The check must be able to fail: a blocked kind checked as allowed fails.
	r, err := env.Do(ctx, Kinds[1].Request)
	if err != nil {
		t.Fatal(err)
	}
	if Kinds[0].Check(r) == nil {
		t.Fatal("an allowed kind's check passed a blocked result")
	}
}
