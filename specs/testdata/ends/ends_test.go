// Package ends is a fixture for scripts/leakcheck: a suite that ends the way
// $CORSLAB_END says (pass, fail, panic, hang, timeout), with a browser of
// every engine $CORSLAB_ENGINES chooses busy, so the script can check that
// no browser, Xvfb, temp folder or socket outlives any of them. It lives
// under testdata so `go test ./...` never runs it.
package ends

import (
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/suite"
	"github.com/corslab/corslab/servers"
)

func TestEnds(t *testing.T) { RegisterFailHandler(Fail); RunSpecs(t, "ends") }

var env *harness.Env

var _ = BeforeSuite(func(ctx SpecContext) { env = suite.Start(ctx, harness.Options{}) })

var _ = It("ends as $CORSLAB_END says", func(ctx SpecContext) {
	rs, err := env.DoAll(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}})
	Expect(err).NotTo(HaveOccurred())
	for _, r := range rs {
		Expect(r.Allowed()).To(BeTrue(), r.String())
	}
	switch end := os.Getenv("CORSLAB_END"); end {
	case "pass":
	case "fail":
		Fail("failing on purpose")
	case "panic":
		panic("panicking on purpose")
	case "hang", "timeout":
		// A request the server never answers, with the browsers busy: the script
		// interrupts here (hang) or the spec's timeout ends it (timeout).
		if marker := os.Getenv("CORSLAB_MARKER"); marker != "" {
			Expect(os.WriteFile(marker, []byte("running\n"), 0o644)).To(Succeed())
		}
		<-ctx.Done()
	default:
		Fail("unknown CORSLAB_END " + end)
	}
}, NodeTimeout(time.Duration(envSeconds())*time.Second))

func envSeconds() int {
	if os.Getenv("CORSLAB_END") == "timeout" {
		return 3
	}
	return 120
}
