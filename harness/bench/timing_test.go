package bench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
)

// TestWhereTheTimeGoes prints the median of each phase per kind, for the
// profile notes. Run: CORSLAB_TIMING=1 go test -run WhereTheTimeGoes -v ./harness/bench
func TestWhereTheTimeGoes(t *testing.T) {
	if os.Getenv("CORSLAB_TIMING") == "" {
		t.Skip("set CORSLAB_TIMING=1")
	}
	env := startEnv(t, harness.Options{WarmSessions: -1})
	ctx := context.Background()
	for _, k := range Kinds {
		var page, browser, server, total, inJS []time.Duration
		for range 40 {
			t0 := time.Now()
			r, err := env.Do(ctx, k.Sends[0].Request)
			if err != nil {
				t.Fatal(err)
			}
			total = append(total, time.Since(t0))
			page = append(page, r.Timing.Page)
			browser = append(browser, r.Timing.Browser)
			server = append(server, r.Timing.Server)
			inJS = append(inJS, time.Duration(r.Page.Millis*float64(time.Millisecond)))
		}
		p := func(d []time.Duration) string { return harness.Percentile(d, 50).Round(10 * time.Microsecond).String() }
		t.Logf("%-32s total %-8s page %-8s (in JS %-8s) browser-events %-8s journal %s", k.Name, p(total), p(page), p(inJS), p(browser), p(server))
	}
}
