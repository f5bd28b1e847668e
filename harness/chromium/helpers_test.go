package chromium

import (
	"context"
	"testing"
	"time"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

// startEnv starts a Chromium Env for a test and closes it at the end. A
// Chromium that cannot start fails the test: make test installs one, so a
// missing browser is an error, never a skip.
func startEnv(t *testing.T, opts harness.Options) *harness.Env {
	t.Helper()
	opts.Engines = []verdict.Engine{verdict.Chromium}
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

// pidOf is the process group of the Env's launched Chromium.
func pidOf(env *harness.Env) int { return env.Browser().(*browser).pid }

func alive(b harness.Browser) bool {
	select {
	case <-b.Done():
		return false
	default:
		return true
	}
}
