package specs_test

import (
	"slices"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/suite"
	"github.com/corslab/corslab/harness/verdict"
)

func TestSpecs(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "corslab specs")
}

// env is this ginkgo process's Chromium and origins: most specs are about
// what Chromium does (its CorsError reasons, its cookies, Local Network
// Access). The specs about every engine (engines_test.go) start their own.
var env *harness.Env

// chosen are the engines $CORSLAB_ENGINES chooses (Chromium when unset;
// make test sets all three).
var chosen = func() []verdict.Engine {
	es, err := harness.ChosenEngines()
	if err != nil {
		panic(err) // a tree-construction failure names the variable and the bad value
	}
	return es
}()

// engineLabels are the labels that say which engines a container needs;
// a container with none of them is about Chromium.
var engineLabels = []string{"firefox", "webkit", "engines"}

var _ = BeforeSuite(func(ctx SpecContext) {
	if slices.Contains(chosen, verdict.Chromium) {
		env = suite.Start(ctx, harness.Options{Engines: []verdict.Engine{verdict.Chromium}})
	}
	DeferCleanup(closeExtraEnvs)
}, NodeTimeout(60*time.Second))

// A spec about Chromium runs only when Chromium is chosen: a user who
// narrows CORSLAB_ENGINES to other engines gets a skip that says so.
var _ = BeforeEach(func() {
	labels := CurrentSpecReport().Labels()
	for _, l := range engineLabels {
		if slices.Contains(labels, l) {
			return
		}
	}
	if env == nil {
		Skip("a Chromium spec, and $CORSLAB_ENGINES does not choose chromium")
	}
})

// within bounds every spec: no wait outlives its spec.
var within = NodeTimeout(30 * time.Second)

// acrossEngines bounds a spec that runs in every chosen engine: three
// engines' requests, and for the first spec of a process the start of the
// engines' browsers, on a machine other suites load too.
var acrossEngines = NodeTimeout(2 * time.Minute)

// longFirst is the SpecPriority of the containers that take seconds (real
// waits for the preflight cache, an Ordered container on one process): under
// -p they start first, so no process is left running one alone at the end.
const longFirst = 1
