package readme_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/suite"
	"github.com/corslab/corslab/servers"
)

func TestAPI(t *testing.T) { RegisterFailHandler(Fail); RunSpecs(t, "my API's CORS") }

var env *harness.Env

var _ = BeforeSuite(func(ctx SpecContext) { env = suite.Start(ctx, harness.Options{}) })

var _ = It("lets the page read a JSON POST only after a preflight, in every engine", func(ctx SpecContext) {
	rs, err := env.DoAll(ctx, harness.Request{
		Method:  "POST",
		Headers: []servers.Header{{Name: "Content-Type", Value: "application/json"}},
		Body:    `{"hello":"world"}`,
		Policy:  servers.Policy{AllowOrigin: []string{servers.Echo}, AllowHeaders: []string{"Content-Type"}},
	})
	Expect(err).NotTo(HaveOccurred())
	Expect(rs).To(HaveEach(matchers.BePreflighted()))
	Expect(rs).To(HaveEach(matchers.BeAllowed()))
	Expect(rs.Disagreements()).To(BeEmpty(), "the engines tell one story")
})
