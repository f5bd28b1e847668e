package chromium

import (
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/internal/enginetest"
	"github.com/corslab/corslab/harness/verdict"
)

// startEnv starts a Chromium Env for a test and closes it at the end.
func startEnv(t testing.TB, opts harness.Options) *harness.Env {
	t.Helper()
	return enginetest.Start(t, verdict.Chromium, opts, 60*time.Second)
}

// pidOf is the process group of the Env's launched Chromium.
func pidOf(env *harness.Env) int { return env.Browser().(*browser).pid }

func alive(b harness.Browser) bool { return enginetest.Alive(b) }
