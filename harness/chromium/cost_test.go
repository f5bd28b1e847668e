package chromium

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

// TestCostOfIsolation measures what docs/engines/chromium.md quotes: a
// launch, a fresh browser context with its tab, a request in a warm tab, and
// closing a context (medians of 9).
// Run: CORSLAB_TIMING=1 go test -run CostOfIsolation -v ./harness/chromium
func TestCostOfIsolation(t *testing.T) {
	if os.Getenv("CORSLAB_TIMING") == "" {
		t.Skip("set CORSLAB_TIMING=1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var launch, session, request, closing []time.Duration
	allowed := harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}}
	for range 9 {
		t0 := time.Now()
		env := startEnv(t, harness.Options{WarmSessions: -1})
		launch = append(launch, time.Since(t0))
		t0 = time.Now()
		s, err := env.NewSession(ctx)
		if err != nil {
			t.Fatal(err)
		}
		session = append(session, time.Since(t0))
		for range 5 {
			t0 = time.Now()
			if _, err := s.Do(ctx, allowed); err != nil {
				t.Fatal(err)
			}
			request = append(request, time.Since(t0))
		}
		t0 = time.Now()
		s.Close()
		closing = append(closing, time.Since(t0))
		env.Close()
	}
	p := func(d []time.Duration) time.Duration { return harness.Percentile(d, 50).Round(time.Millisecond / 10) }
	t.Logf("launch until ready %v; new context + hidden tab + navigation %v; request in a warm tab %v; close a context %v",
		p(launch), p(session), p(request), p(closing))
}
