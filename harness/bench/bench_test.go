package bench

import (
	"context"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	_ "github.com/corslab/corslab/harness/engines"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Run: go test -run '^$' -bench . -benchtime 200x -count 3 ./harness/bench | benchstat -

// startEnv starts the benchmark's Env. A launch that fails fails the test or
// benchmark: make bench and make test install the browser, so a missing or
// broken one is an error to see, never a skip.
func startEnv(tb testing.TB, opts harness.Options) *harness.Env {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	env, err := harness.Start(ctx, opts)
	if err != nil {
		tb.Fatalf("start the benchmark's browser: %v", err)
		return nil
	}
	tb.Cleanup(func() { env.Close() })
	// Warm the shared tab so the first scenario does not pay for it.
	if _, err := env.Play(ctx, Kinds[0]); err != nil {
		tb.Fatalf("warm the tab: %v", err)
		return nil
	}
	return env
}

func benchmark(b *testing.B, fresh bool) {
	env := startEnv(b, harness.Options{WarmSessions: -1})
	b.ResetTimer()
	run, err := Workload(context.Background(), env, b.N, fresh)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ms(harness.Percentile(run.Latencies, 50)), "p50-ms")
	b.ReportMetric(ms(harness.Percentile(run.Latencies, 95)), "p95-ms")
	b.ReportMetric(float64(run.PeakRSS)/(1<<20), "browser-MiB")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkWorkload is one scenario of the workload with token isolation in a warm tab.
func BenchmarkWorkload(b *testing.B) { benchmark(b, false) }

// BenchmarkWorkloadFreshContext is one scenario with a fresh browser context per scenario.
func BenchmarkWorkloadFreshContext(b *testing.B) { benchmark(b, true) }

func TestEveryKindPassesItsCheck(t *testing.T) {
	env := startEnv(t, harness.Options{WarmSessions: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := Workload(ctx, env, 2*len(Kinds), false); err != nil {
		t.Fatal(err)
	}
	// The check must be able to fail: a blocked kind checked as allowed fails.
	r, err := env.Play(ctx, Kinds[1])
	if err != nil {
		t.Fatal(err)
	}
	if Check(Kinds[0], r...) == nil {
		t.Fatal("an allowed kind's check passed a blocked result")
	}
}

// recorder is a testing.TB that records what startEnv asks of it.
type recorder struct {
	testing.TB
	fatal, skipped bool
	cleanups       []func()
}

func (r *recorder) Helper()               {}
func (r *recorder) Fatalf(string, ...any) { r.fatal = true }
func (r *recorder) Skip(...any)           { r.skipped = true }
func (r *recorder) Skipf(string, ...any)  { r.skipped = true }
func (r *recorder) Cleanup(f func())      { r.cleanups = append(r.cleanups, f) }

// A browser that cannot start fails the benchmark; it used to skip it, so a
// broken launch read as "skipped".
func TestABrokenLaunchFailsTheBenchmark(t *testing.T) {
	rec := &recorder{TB: t}
	env := startEnv(rec, harness.Options{Paths: map[verdict.Engine]string{verdict.Chromium: "/no/such/chromium"}})
	for _, f := range rec.cleanups {
		f()
	}
	if env != nil || !rec.fatal || rec.skipped {
		t.Fatalf("a launch of /no/such/chromium: env %v, failed %v, skipped %v; want a failure, no skip", env, rec.fatal, rec.skipped)
	}
}

func TestEveryCheckCasePassesItsCheck(t *testing.T) {
	env := startEnv(t, harness.Options{WarmSessions: -1, Servers: servers.Options{API: CheckHandler()}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cases := CheckCases(3 * len(CheckOrigins))
	if _, err := CheckWorkload(ctx, env, cases, false, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := CheckWorkload(ctx, env, cases[:len(CheckOrigins)], true, 2); err != nil {
		t.Fatal(err)
	}
}
