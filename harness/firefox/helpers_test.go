package firefox

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// startEnv starts a Firefox Env for a test and closes it at the end. A
// Firefox that cannot start fails the test: make test installs one, so a
// missing browser is an error, never a skip.
func startEnv(t testing.TB, opts harness.Options) *harness.Env {
	t.Helper()
	if len(opts.Engines) == 0 {
		opts.Engines = []verdict.Engine{verdict.Firefox}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
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

// firefoxOf is the Env's running Firefox.
func firefoxOf(env *harness.Env) *browser { return env.In(verdict.Firefox).Browser().(*browser) }

// needFirefox skips a test that runs Firefox when $CORSLAB_ENGINES does not
// choose it (a user narrowed the engines); make test chooses all three, and a
// chosen engine that is missing fails, never skips.
func needFirefox(t testing.TB) {
	t.Helper()
	es, err := harness.ChosenEngines()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(es, verdict.Firefox) {
		t.Skipf("$%s does not choose firefox", harness.EnginesEnv)
	}
}
