package firefox

import (
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/internal/enginetest"
	"github.com/corslab/corslab/harness/verdict"
)

// startEnv starts a Firefox Env for a test and closes it at the end.
func startEnv(t testing.TB, opts harness.Options) *harness.Env {
	t.Helper()
	return enginetest.Start(t, verdict.Firefox, opts, 90*time.Second)
}

// firefoxOf is the Env's running Firefox.
func firefoxOf(env *harness.Env) *browser { return env.In(verdict.Firefox).Browser().(*browser) }

// needFirefox skips a test that runs Firefox when $CORSLAB_ENGINES does not choose it.
func needFirefox(t testing.TB) { enginetest.Need(t, verdict.Firefox) }
