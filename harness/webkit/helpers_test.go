package webkit

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// startEnv starts a WebKit Env for a test and closes it at the end. A WebKit
// that cannot start fails the test: make test installs one, so a missing
// browser is an error, never a skip.
func startEnv(t testing.TB, opts harness.Options) *harness.Env {
	t.Helper()
	if len(opts.Engines) == 0 {
		opts.Engines = []verdict.Engine{verdict.WebKit}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
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

// webkitOf is the Env's running WebKit browser.
func webkitOf(env *harness.Env) *browser { return env.In(verdict.WebKit).Browser().(*browser) }

func alive(b harness.Browser) bool {
	select {
	case <-b.Done():
		return false
	default:
		return true
	}
}

// needWebKit skips a test that runs WebKit when $CORSLAB_ENGINES does not
// choose it (a user narrowed the engines); make test chooses all three, and a
// chosen engine that is missing fails, never skips.
func needWebKit(t testing.TB) {
	t.Helper()
	es, err := harness.ChosenEngines()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(es, verdict.WebKit) {
		t.Skipf("$%s does not choose webkit", harness.EnginesEnv)
	}
}
