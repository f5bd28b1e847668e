package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/bench"
)

// benchCmd runs the fixed workload and prints, last, the one-line summary.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 200, "scenarios in the isolated run")
	freshN := fs.Int("fresh", 100, "scenarios in the fresh-context run (it costs ~0.2 s each; per-scenario numbers are compared)")
	sizes := fs.String("sizes", "", "extra isolated runs of these sizes, comma-separated, to show the cost is linear in N (e.g. 100,500,1000)")
	chrome := chromeFlag(fs)
	engines := enginesFlag(fs)
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2}
	}
	if *n < 1 || *freshN < 1 {
		return &exitError{code: 2, msg: "bench: -n and -fresh must be at least 1"}
	}
	chosen, err := parseEngines(*engines)
	if err != nil {
		return &exitError{code: 2, msg: "bench: " + err.Error()}
	}
	env, err := harness.Start(ctx, harness.Options{Engines: chosen, Paths: paths(*chrome), WarmSessions: -1})
	if err != nil {
		return err
	}
	defer env.Close()
	for _, e := range env.Engines() {
		if _, err := env.In(e).Play(ctx, bench.Kinds[0]); err != nil { // warm the tab
			return err
		}
	}
	// The comparisons below run in the first engine; every engine gets its line at the end.
	engine := env.Engines()[0]
	env = env.In(engine)
	for _, s := range strings.Split(*sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		size, err := strconv.Atoi(s)
		if err != nil || size < 1 {
			return &exitError{code: 2, msg: fmt.Sprintf("bench: -sizes: %q is not a positive number", s)}
		}
		run, err := bench.Workload(ctx, env, size, false)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "bench: N=%d isolated: %.2f ms/scenario, wall %.2fs\n", size, ms(run.PerScenario()), run.Wall.Seconds())
	}
	fmt.Fprintf(stdout, "bench: isolated run, %d scenarios…\n", *n)
	iso, err := bench.Workload(ctx, env, *n, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bench: fresh-context run, %d scenarios…\n", *freshN)
	fresh, err := bench.Workload(ctx, env, *freshN, true)
	if err != nil {
		return err
	}
	_, peak := env.Memory()
	peak = max(peak, iso.PeakRSS, fresh.PeakRSS)
	x, y := iso.PerScenario(), fresh.PerScenario()
	fmt.Fprintf(stdout, "bench: %d scenarios, %.2f ms/scenario (p50 %.2f, p95 %.2f), fresh-context %.1f ms/scenario, ratio %.1f, %s peak RSS %d MiB\n",
		*n, ms(x), ms(harness.Percentile(iso.Latencies, 50)), ms(harness.Percentile(iso.Latencies, 95)),
		ms(y), float64(y)/float64(x), engine, peak>>20)
	for _, e := range env.Engines() {
		run := iso
		if e != engine {
			fmt.Fprintf(stdout, "bench: %s isolated run, %d scenarios…\n", e, *n)
			if run, err = bench.Workload(ctx, env.In(e), *n, false); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "bench [%s]: %d scenarios, %.2f ms/scenario (p50 %.2f, p95 %.2f)\n", e, *n,
			ms(run.PerScenario()), ms(harness.Percentile(run.Latencies, 50)), ms(harness.Percentile(run.Latencies, 95)))
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
