package specs_test

import (
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/suite"
)

func TestSpecs(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "corslab specs")
}

// env is this ginkgo process's Chrome and origins.
var env *harness.Env

var _ = BeforeSuite(func(ctx SpecContext) {
	env = suite.Start(ctx, harness.Options{})
	DeferCleanup(closeExtraEnvs)
}, NodeTimeout(60*time.Second))

// within bounds every spec: no wait outlives its spec.
var within = NodeTimeout(30 * time.Second)

// longFirst is the SpecPriority of the containers that take seconds (real
// waits for the preflight cache, an Ordered container on one process): under
// -p they start first, so no process is left running one alone at the end.
const longFirst = 1
