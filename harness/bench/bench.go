// Package bench is corslab's fixed benchmark workload: five scenario kinds,
// round-robin, each checked for its verdict and the server's preflight count,
// run with corslab's token isolation or with a fresh browser context per scenario.
package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/servers"
)

// Kind is one scenario of the workload and what Chrome must do with it.
type Kind struct {
	Name       string
	Request    harness.Request
	Reason     string // the CorsError; "" means allowed
	Preflights int    // how many preflights the server must receive
}

var echo = []string{servers.Echo}
var ncz = []servers.Header{{Name: "NCZ", Value: "x"}}

// Kinds are the five kinds, in round-robin order.
var Kinds = []Kind{
	{Name: "simple GET allowed", Request: harness.Request{Policy: servers.Policy{AllowOrigin: echo}}},
	{Name: "simple GET blocked", Request: harness.Request{}, Reason: "MissingAllowOriginHeader"},
	{Name: "POST NCZ allowed by preflight", Request: harness.Request{Method: "POST", Headers: ncz, Body: "x",
		Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"POST"}, AllowHeaders: []string{"NCZ"}}}, Preflights: 1},
	{Name: "POST NCZ refused by preflight", Request: harness.Request{Method: "POST", Headers: ncz, Body: "x",
		Policy: servers.Policy{AllowOrigin: echo}}, Reason: "HeaderDisallowedByPreflightResponse", Preflights: 1},
	{Name: "credentialed GET allowed", Request: harness.Request{Credentials: true,
		Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true"}}},
}

// Check reports whether r is what kind k must produce, in all three views.
func (k Kind) Check(r harness.Result) error {
	if d := r.Disagreements(); len(d) > 0 {
		return fmt.Errorf("%s: views disagree: %v\n%s", k.Name, d, r)
	}
	if r.Browser.CorsError != k.Reason || (k.Reason == "") != r.Allowed() {
		return fmt.Errorf("%s: want %q, got %s\n%s", k.Name, k.Reason, r.Verdict(), r)
	}
	if got := len(r.Server.Preflights()); got != k.Preflights {
		return fmt.Errorf("%s: the server received %d preflights, want %d\n%s", k.Name, got, k.Preflights, r)
	}
	return nil
}

// Run is the outcome of one workload run.
type Run struct {
	Latencies []time.Duration // per scenario, as the caller sees it
	Wall      time.Duration
	PeakRSS   int64 // bytes, Chrome's process group
}

// PerScenario is the amortized wall time per scenario.
func (r Run) PerScenario() time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Wall / time.Duration(len(r.Latencies))
}

// Workload runs n scenarios round-robin. With fresh, each scenario gets its
// own new browser context (made and closed inside the measured time, as a
// fresh-context-per-test suite would); otherwise all share the Env's warm
// tab and are kept apart by their tokens.
func Workload(ctx context.Context, env *harness.Env, n int, fresh bool) (Run, error) {
	var run Run
	stop := sampleRSS(env, &run.PeakRSS)
	defer stop()
	start := time.Now()
	for i := range n {
		k := Kinds[i%len(Kinds)]
		t := time.Now()
		var r harness.Result
		var err error
		if fresh {
			var s *harness.Session
			if s, err = env.NewSession(ctx); err == nil {
				r, err = s.Do(ctx, k.Request)
				s.Close()
			}
		} else {
			r, err = env.Do(ctx, k.Request)
		}
		run.Latencies = append(run.Latencies, time.Since(t))
		if err != nil {
			return run, fmt.Errorf("scenario %d (%s): %w", i, k.Name, err)
		}
		if err := k.Check(r); err != nil {
			return run, fmt.Errorf("scenario %d: %w", i, err)
		}
	}
	run.Wall = time.Since(start)
	return run, nil
}

// sampleRSS records Chrome's peak memory while the workload runs. Memory has
// no event, so it is sampled every 100 ms; the returned func stops it.
func sampleRSS(env *harness.Env, peak *int64) func() {
	var mu sync.Mutex
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			now, _ := env.ChromeRSS()
			mu.Lock()
			*peak = max(*peak, now)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}
