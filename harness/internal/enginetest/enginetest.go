// Package enginetest holds what the engines' own package tests share:
// starting an Env of one engine and skipping an engine nobody chose.
package enginetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// Start starts an Env of engine e (or of opts.Engines when set) within
// limit and closes it when the test ends. A browser that cannot start fails
// the test: make test installs the chosen engines, so a missing browser is
// an error, never a skip.
func Start(t testing.TB, e verdict.Engine, opts harness.Options, limit time.Duration) *harness.Env {
	t.Helper()
	if len(opts.Engines) == 0 {
		opts.Engines = []verdict.Engine{e}
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	env, err := harness.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Error(err)
		}
	})
	return env
}

// Need skips t when $CORSLAB_ENGINES does not choose e (a user narrowed the
// engines); make test chooses all three, and a chosen engine that is
// missing fails, never skips.
func Need(t testing.TB, e verdict.Engine) {
	t.Helper()
	es, err := harness.ChosenEngines()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(es, e) {
		t.Skipf("$%s does not choose %s", harness.EnginesEnv, e)
	}
}

// Alive reports whether b has not ended.
func Alive(b harness.Browser) bool {
	select {
	case <-b.Done():
		return false
	default:
		return true
	}
}
