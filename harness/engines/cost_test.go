package engines_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// TestCostOfIsolation measures what docs/engines/ quotes for each chosen
// engine: a launch, a fresh browser context with its tab, a request in a
// warm tab, and closing a context (medians of 9).
// Run: CORSLAB_TIMING=1 CORSLAB_ENGINES=all go test -run CostOfIsolation -v ./harness/engines
func TestCostOfIsolation(t *testing.T) {
	if os.Getenv("CORSLAB_TIMING") == "" {
		t.Skip("set CORSLAB_TIMING=1")
	}
	engines, err := harness.ChosenEngines()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) { costOfIsolation(t, e) })
	}
}

func costOfIsolation(t *testing.T, engine verdict.Engine) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var launch, session, request, closing []time.Duration
	allowed := harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}}
	for range 9 {
		t0 := time.Now()
		env, err := harness.Start(ctx, harness.Options{Engines: []verdict.Engine{engine}, WarmSessions: -1})
		if err != nil {
			t.Fatal(err)
		}
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
	t.Logf("%s: launch until ready %v; new context + hidden tab + navigation %v; request in a warm tab %v; close a context %v",
		engine.Title(), p(launch), p(session), p(request), p(closing))
}
