package bench

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/rs/cors"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// CheckOrigins are the page origins of the check workload: the first three
// are the mounted handler's trusted origins, the last two are not.
var CheckOrigins = []string{
	"https://app.example.com", "https://admin.example.com", "https://partner.example.net",
	"https://evil.example.org", "https://app.example.com.evil.test",
}

// CheckHandler is the check workload's API, as a team would mount it with
// servers.Options{API: …}: rs/cors trusting the first three CheckOrigins
// for GET, POST and PUT with Content-Type and X-Trace, around an
// application that answers JSON.
func CheckHandler() http.Handler {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"ok":true}`)
	})
	return cors.New(cors.Options{
		AllowedOrigins: CheckOrigins[:3],
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPut},
		AllowedHeaders: []string{"Content-Type", "X-Trace"},
	}).Handler(servers.App(app))
}

// CheckCases are n cases of an expectations file against CheckHandler,
// dealt round-robin over the CheckOrigins: a GET, a JSON POST and a PUT
// with a custom header, each allowed from a trusted origin and blocked, with
// the reason the engine must give, from the others.
func CheckCases(n int) []harness.Scenario {
	type kind struct {
		name    string
		req     harness.Request
		blocked verdict.Reason // the reason from an untrusted origin
		pre     bool
	}
	json := []servers.Header{{Name: "Content-Type", Value: "application/json"}}
	trace := []servers.Header{{Name: "X-Trace", Value: "1"}}
	kinds := []kind{
		{"GET /items", harness.Request{URL: "/items"}, verdict.MissingAllowOriginHeader, false},
		{"POST /items as JSON", harness.Request{URL: "/items", Method: "POST", API: harness.Fetch, Headers: json, Body: `{"n":1}`},
			verdict.PreflightMissingAllowOriginHeader, true},
		{"PUT /items/1 with X-Trace", harness.Request{URL: "/items/1", Method: "PUT", Headers: trace, Body: "x"},
			verdict.PreflightMissingAllowOriginHeader, true},
	}
	out := make([]harness.Scenario, 0, n)
	for i := range n {
		origin := CheckOrigins[i%len(CheckOrigins)]
		k := kinds[(i/len(CheckOrigins))%len(kinds)]
		e := harness.Expect{Outcome: verdict.Allowed, Preflight: harness.Bool(k.pre)}
		if i%len(CheckOrigins) >= 3 {
			e = harness.Expect{Outcome: verdict.Blocked, Reason: k.blocked, Preflight: harness.Bool(k.pre)}
		}
		out = append(out, harness.Scenario{Name: fmt.Sprintf("%s from %s", k.name, origin), From: origin,
			Sends: []harness.Send{{Request: k.req, Expect: e}}})
	}
	return out
}

// CheckWorkload runs cases with parallel in flight and checks each: the
// way corslab check runs them (Env.Play: a warm page per origin, cases kept
// apart by their tokens), or, with sessionPerCase, each in a fresh
// impersonated session of its own (NewSessionAs), made and closed inside
// the measured time.
func CheckWorkload(ctx context.Context, env *harness.Env, cases []harness.Scenario, sessionPerCase bool, parallel int) (Run, error) {
	var run Run
	stop := sampleRSS(env, &run.PeakRSS)
	defer stop()
	run.Latencies = make([]time.Duration, len(cases))
	errs := make([]error, len(cases))
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range max(1, parallel) {
		wg.Go(func() {
			for i := range next {
				c := cases[i]
				t := time.Now()
				var rs []harness.Result
				var err error
				if sessionPerCase {
					var s *harness.Session
					if s, err = env.NewSessionAs(ctx, c.From); err == nil {
						rs, err = s.Play(ctx, c)
						s.Close()
					}
				} else {
					rs, err = env.Play(ctx, c)
				}
				run.Latencies[i] = time.Since(t)
				if err == nil {
					err = Check(c, rs...)
				}
				if err != nil {
					errs[i] = fmt.Errorf("case %d (%s): %w", i, c.Name, err)
				}
			}
		})
	}
	for i := range cases {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	run.Wall = time.Since(start)
	for _, err := range errs {
		if err != nil {
			return run, err
		}
	}
	return run, ctx.Err()
}
