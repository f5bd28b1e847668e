// Package bench is corslab's fixed benchmark workload: five Scenarios,
// round-robin, each checked for its verdict and its preflight by the
// matchers, run with corslab's token isolation or with a fresh browser
// context per scenario.
package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

var echo = []string{servers.Echo}
var ncz = []servers.Header{{Name: "NCZ", Value: "x"}}

// one is a Scenario of one send.
func one(name string, req harness.Request, e harness.Expect) harness.Scenario {
	return harness.Scenario{Name: name, Sends: []harness.Send{{Request: req, Expect: e}}}
}

// Kinds are the five kinds, in round-robin order: each one send and what
// every engine must do with it (verdict and whether a preflight goes out).
var Kinds = []harness.Scenario{
	one("simple GET allowed", harness.Request{Policy: servers.Policy{AllowOrigin: echo}},
		harness.Expect{Outcome: verdict.Allowed, Preflight: harness.Bool(false)}),
	one("simple GET blocked", harness.Request{},
		harness.Expect{Outcome: verdict.Blocked, Reason: verdict.MissingAllowOriginHeader, Preflight: harness.Bool(false)}),
	one("POST NCZ allowed by preflight", harness.Request{Method: "POST", Headers: ncz, Body: "x",
		Policy: servers.Policy{AllowOrigin: echo, AllowMethods: []string{"POST"}, AllowHeaders: []string{"NCZ"}}},
		harness.Expect{Outcome: verdict.Allowed, Preflight: harness.Bool(true)}),
	one("POST NCZ refused by preflight", harness.Request{Method: "POST", Headers: ncz, Body: "x",
		Policy: servers.Policy{AllowOrigin: echo}},
		harness.Expect{Outcome: verdict.Blocked, Reason: verdict.HeaderDisallowedByPreflightResponse, Preflight: harness.Bool(true)}),
	one("credentialed GET allowed", harness.Request{Credentials: true,
		Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true"}},
		harness.Expect{Outcome: verdict.Allowed, Preflight: harness.Bool(false)}),
}

// Check reports whether results are what scenario k must produce, in all three views.
func Check(k harness.Scenario, results ...harness.Result) error {
	if fs := matchers.Judge(k, results); len(fs) > 0 {
		var sb strings.Builder
		for _, f := range fs {
			fmt.Fprintf(&sb, "%s: %s\n", k.Name, f.Message)
		}
		for _, r := range results {
			sb.WriteString(r.String())
		}
		return errors.New(sb.String())
	}
	return nil
}

// Run is the outcome of one workload run.
type Run struct {
	Latencies []time.Duration // per scenario, as the caller sees it
	Wall      time.Duration
	PeakRSS   int64 // bytes, the browser's processes (summed PSS)
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
		var rs []harness.Result
		var err error
		if fresh {
			var s *harness.Session
			if s, err = env.NewSession(ctx); err == nil {
				rs, err = s.Play(ctx, k)
				s.Close()
			}
		} else {
			rs, err = env.Play(ctx, k)
		}
		run.Latencies = append(run.Latencies, time.Since(t))
		if err != nil {
			return run, fmt.Errorf("scenario %d (%s): %w", i, k.Name, err)
		}
		if err := Check(k, rs...); err != nil {
			return run, fmt.Errorf("scenario %d: %w", i, err)
		}
	}
	run.Wall = time.Since(start)
	return run, nil
}

// sampleRSS records the browser's peak memory while the workload runs. Memory has
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
			now, _ := env.Memory()
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
