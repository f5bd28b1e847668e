package specs_test

import (
	"context"
	"errors"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// The Envs beyond the default pair, each started at most once per ginkgo
// process, by the first spec that needs it, and closed after the suite
// (the BeforeSuite registers closeExtraEnvs with DeferCleanup). Specs that
// do not ask for one never pay for its Chrome.
var (
	extraMu   sync.Mutex
	extraEnvs = map[string]*harness.Env{}
)

// The extra worlds a spec can ask for.
const (
	// crossSiteTLS: https://app.test → https://api.test, third-party cookies blocked (Chromium's default).
	crossSiteTLS = "cross-site https"
	// crossSiteTLS3P: the same with Options.ThirdPartyCookies.
	crossSiteTLS3P = "cross-site https, third-party cookies allowed"
	// publicPage: the page origin's address counts as public (Local Network Access), on 127.0.0.1 (a secure context).
	publicPage = "public page"
	// publicInsecurePage: the page origin http://app.test counts as public and is not a secure context.
	publicInsecurePage = "public insecure page"
)

func extraOptions(name string) harness.Options {
	publicApp := harness.OriginsFlag(func(o *servers.Origins) string { return o.App.Addr + "=public" })
	switch name {
	case crossSiteTLS:
		return harness.Options{Servers: servers.Options{Names: true, TLS: true}}
	case crossSiteTLS3P:
		return harness.Options{Servers: servers.Options{Names: true, TLS: true}, ThirdPartyCookies: true}
	case publicPage:
		return harness.Options{ChromeFlags: map[string]any{"ip-address-space-overrides": publicApp}}
	case publicInsecurePage:
		return harness.Options{Servers: servers.Options{Names: true}, ChromeFlags: map[string]any{"ip-address-space-overrides": publicApp}}
	}
	Fail("no extra Env named " + name)
	return harness.Options{}
}

// extraEnv returns this process's Env for the named world, starting it on first use.
func extraEnv(ctx context.Context, name string) *harness.Env {
	GinkgoHelper()
	extraMu.Lock()
	defer extraMu.Unlock()
	if e := extraEnvs[name]; e != nil {
		return e
	}
	opts := extraOptions(name)
	opts.Engines = []verdict.Engine{verdict.Chromium}
	// Their specs open a session or two each: no warm pool to pay for; a
	// Chrome of the same flags, when this process has one, is shared.
	opts.WarmSessions = -1
	opts.ShareBrowser = true
	e, err := harness.Start(ctx, opts)
	Expect(err).NotTo(HaveOccurred(), "start the %s Env", name)
	extraEnvs[name] = e
	return e
}

// closeExtraEnvs closes every extra Env this process started.
func closeExtraEnvs() error {
	extraMu.Lock()
	defer extraMu.Unlock()
	// At once: each waits on its own browsers.
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for name, e := range extraEnvs {
		wg.Go(func() {
			err := e.Close()
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		})
		delete(extraEnvs, name)
	}
	wg.Wait()
	return errors.Join(errs...)
}
