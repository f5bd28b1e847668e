package harness

import (
	"context"
	"testing"
	"time"

	"github.com/corslab/corslab/servers"
)

// These benchmarks measure what isolation costs: a request kept apart by its
// token in a warm session, against the same request in a fresh browser context.
// Run: go test -run '^$' -bench Isolation -benchtime 200x ./harness

func benchEnv(b *testing.B) *Env {
	b.Helper()
	env, err := Start(context.Background(), Options{})
	if err != nil {
		b.Skip("no Chrome: ", err)
	}
	b.Cleanup(func() { env.Close() })
	return env
}

func BenchmarkIsolationToken(b *testing.B) {
	env := benchEnv(b)
	ctx := context.Background()
	req := Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}}
	if _, err := env.Do(ctx, req); err != nil { // warm the shared session
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		r, err := env.Do(ctx, req)
		if err != nil || !r.Allowed() {
			b.Fatalf("request %d: %v\n%s", i, err, r)
		}
		lat = append(lat, time.Since(t))
	}
	reportLatency(b, lat)
}

func BenchmarkIsolationFreshContext(b *testing.B) {
	env := benchEnv(b)
	ctx := context.Background()
	req := Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		s, err := env.NewSession(ctx)
		if err != nil {
			b.Fatal(err)
		}
		r, err := s.Do(ctx, req)
		s.Close()
		if err != nil || !r.Allowed() {
			b.Fatalf("request %d: %v\n%s", i, err, r)
		}
		lat = append(lat, time.Since(t))
	}
	reportLatency(b, lat)
}

func reportLatency(b *testing.B, lat []time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	p50, p95 := Percentile(lat, 50), Percentile(lat, 95)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
}
