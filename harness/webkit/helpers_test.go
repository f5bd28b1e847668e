package webkit

import (
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/internal/enginetest"
	"github.com/corslab/corslab/harness/verdict"
)

// startEnv starts a WebKit Env for a test and closes it at the end.
func startEnv(t testing.TB, opts harness.Options) *harness.Env {
	t.Helper()
	return enginetest.Start(t, verdict.WebKit, opts, 60*time.Second)
}

// webkitOf is the Env's running WebKit browser.
func webkitOf(env *harness.Env) *browser { return env.In(verdict.WebKit).Browser().(*browser) }

func alive(b harness.Browser) bool { return enginetest.Alive(b) }

// needWebKit skips a test that runs WebKit when $CORSLAB_ENGINES does not choose it.
func needWebKit(t testing.TB) { enginetest.Need(t, verdict.WebKit) }
