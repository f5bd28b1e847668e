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
	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// benchCmd runs the fixed workload and prints, last, the one-line summary.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 200, "scenarios in the isolated run")
	freshN := fs.Int("fresh", 100, "scenarios in the fresh-context run (it costs ~0.2 s each; per-scenario numbers are compared)")
	checkN := fs.Int("check", 200, "cases in the check workload (over the impersonated origins, against a mounted handler)")
	checkFresh := fs.Int("check-fresh", 40, "cases in the check workload's session-per-case run (it costs ~0.3 s each; per-case numbers are compared)")
	matrixN := fs.Int("matrix", 300, "scenarios in the matrix's rate runs")
	inFlight := fs.Int("p", 8, "scenarios and cases in flight at once in the check and matrix runs")
	sizes := fs.String("sizes", "", "extra isolated runs of these sizes, comma-separated, to show the cost is linear in N (e.g. 100,500,1000)")
	chrome := chromeFlag(fs)
	engines := enginesFlag(fs)
	if err := fs.Parse(args); err != nil {
		return &exitError{code: 2}
	}
	if *n < 1 || *freshN < 1 || *checkN < 1 || *checkFresh < 1 || *matrixN < 1 || *inFlight < 1 {
		return &exitError{code: 2, msg: "bench: -n, -fresh, -check, -check-fresh, -matrix and -p must be at least 1"}
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
	if err := benchCheck(ctx, stdout, engine, paths(*chrome), *checkN, *checkFresh, *inFlight, peak); err != nil {
		return err
	}
	if err := benchMatrix(ctx, stdout, env, *matrixN, *inFlight); err != nil {
		return err
	}
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

// benchCheck runs the check workload in engine: n cases over the
// impersonated origins against a mounted handler, corslab's way (a warm page
// per origin, opened inside the measured time) and with a fresh session per
// case, both with the same number in flight. scenarioPeak is the scenario
// workload's peak memory, printed beside the check's.
func benchCheck(ctx context.Context, stdout io.Writer, engine verdict.Engine, paths map[verdict.Engine]string, n, fresh, inFlight int, scenarioPeak int64) error {
	env, err := harness.Start(ctx, harness.Options{Engines: []verdict.Engine{engine}, Paths: paths, WarmSessions: -1,
		Servers: servers.Options{API: bench.CheckHandler(), AppMarked: true}})
	if err != nil {
		return fmt.Errorf("bench: check workload: %w", err)
	}
	defer env.Close()
	cases := bench.CheckCases(n)
	fmt.Fprintf(stdout, "bench: check workload, %d cases over %d origins, %d in flight…\n", n, len(bench.CheckOrigins), inFlight)
	ours, err := bench.CheckWorkload(ctx, env, cases, false, inFlight)
	if err != nil {
		return fmt.Errorf("bench: check workload: %w", err)
	}
	fmt.Fprintf(stdout, "bench: check workload, %d cases with a session each…\n", fresh)
	each, err := bench.CheckWorkload(ctx, env, bench.CheckCases(fresh), true, inFlight)
	if err != nil {
		return fmt.Errorf("bench: check workload, a session per case: %w", err)
	}
	// As check ran cases before: a session per case, one at a time.
	fmt.Fprintf(stdout, "bench: check workload, %d cases with a session each, one at a time…\n", fresh)
	old, err := bench.CheckWorkload(ctx, env, bench.CheckCases(fresh), true, 1)
	if err != nil {
		return fmt.Errorf("bench: check workload, a session per case, one at a time: %w", err)
	}
	x, y, z := ours.PerScenario(), each.PerScenario(), old.PerScenario()
	fmt.Fprintf(stdout, "bench: check %d cases over %d origins, %.2f ms/case (p50 %.2f, p95 %.2f), session-per-case %.1f ms/case, ratio %.1f; %d in flight (a session per case one at a time: %.1f ms/case, ratio %.1f), %s peak PSS %d MiB (scenario workload %d MiB)\n",
		n, len(bench.CheckOrigins), ms(x), ms(harness.Percentile(ours.Latencies, 50)), ms(harness.Percentile(ours.Latencies, 95)),
		ms(y), float64(y)/float64(x), inFlight, ms(z), float64(z)/float64(x), engine, ours.PeakRSS>>20, scenarioPeak>>20)
	return nil
}

// benchMatrix plays the same n matrix scenarios with inFlight at once and
// then one at a time, in env's engine, and prints both rates; a mismatch
// with the model fails the benchmark.
func benchMatrix(ctx context.Context, stdout io.Writer, env *harness.Env, n, inFlight int) error {
	profile, ok := model.For(env.Engine())
	if !ok {
		return nil // the matrix compares with the model, which has no profile of this engine
	}
	list := scenarios(matrixDimensions(env.Origins.App.URL), n, 1)
	fmt.Fprintf(stdout, "bench: matrix, %d scenarios, %d in flight, then one at a time…\n", n, inFlight)
	many := runMatrix(ctx, env, list, profile, inFlight, nil)
	one := runMatrix(ctx, env, list, profile, 1, nil)
	if bad := len(many.bad) + len(one.bad); bad > 0 {
		return fmt.Errorf("bench: matrix: %d mismatches with the model:\n%s%s", bad, strings.Join(many.bad, ""), strings.Join(one.bad, ""))
	}
	rate := func(r matrixRun) float64 { return float64(len(list)) / r.wall.Seconds() }
	fmt.Fprintf(stdout, "bench: matrix %d scenarios, %.0f scenarios/s with %d in flight, %.0f scenarios/s one at a time\n",
		len(list), rate(many), inFlight, rate(one))
	return nil
}
