package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/model"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Each Chrome deviation listed in harness/model/profile.go, shown in real
// Chrome: the three views say what Chrome did, the model's Chrome profile
// predicted it, and the standard as written predicts something else.
var _ = Describe("Chrome's deviations from the Fetch standard", func() {
	echo := []string{servers.Echo}
	auth := []servers.Header{{Name: "Authorization", Value: "Bearer t"}}

	// both sends req (twice when twice is set, with the same token) and checks
	// that the Chrome profile agrees with every result; it returns the last
	// result and what the Standard profile predicts for it.
	both := func(ctx SpecContext, req harness.Request, twice bool) (harness.Result, model.Prediction) {
		standard := model.NewBrowser(model.Standard, env.Origins.App.URL)
		var r harness.Result
		var p model.Prediction
		n := 1
		if twice {
			n = 2
		}
		for range n {
			var err error
			r, err = env.Do(ctx, req)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.ModelDisagreements()).To(BeEmpty(), r.String())
			p = standard.Predict(r.URL, r.Request.Method, r.Request.Headers, r.Request.Credentials, r.Request.Mode, r.Request.UploadListener, r.Request.Policy)
			req.Token = r.Token
		}
		return r, p
	}

	It("lets Access-Control-Allow-Headers: * cover Authorization without credentials", within, func(ctx SpecContext) {
		r, std := both(ctx, harness.Request{Method: "GET", Headers: auth, Policy: servers.Policy{AllowOrigin: echo, AllowHeaders: []string{"*"}}}, false)
		Expect(r).To(matchers.BeAllowed())
		Expect(std.Verdict.Reason).To(Equal(verdict.HeaderDisallowedByPreflightResponse), "the standard keeps Authorization out of *")
	})

	It("does not reuse that preflight from its cache: the repeat preflights again", within, func(ctx SpecContext) {
		r, std := both(ctx, harness.Request{Method: "GET", Headers: auth, Policy: servers.Policy{AllowOrigin: echo, AllowHeaders: []string{"*"}, MaxAge: "600"}}, true)
		Expect(r).To(matchers.BeAllowed())
		Expect(r).To(matchers.BePreflighted())
		Expect(std.Verdict.Outcome).NotTo(Equal(verdict.Allowed))
	})

	It("reports a 404 preflight without Allow-Origin as an Allow-Origin problem, not a status one", within, func(ctx SpecContext) {
		r, std := both(ctx, harness.Request{Method: "PUT", Policy: servers.Policy{PreflightStatus: 404}}, false)
		Expect(r).To(matchers.BeBlockedWith("PreflightMissingAllowOriginHeader"))
		Expect(std.Verdict.Reason).To(Equal(verdict.PreflightInvalidStatus))
	})

	It("safelists the client hint DPR: no preflight", within, func(ctx SpecContext) {
		r, std := both(ctx, harness.Request{Method: "GET", Headers: []servers.Header{{Name: "DPR", Value: "2"}}, Policy: servers.Policy{AllowOrigin: echo}}, false)
		Expect(r).To(matchers.BeAllowed())
		Expect(r).NotTo(matchers.BePreflighted())
		Expect(std.Preflight).To(BeTrue(), "DPR is not a CORS-safelisted request-header in the standard")
	})

	It("blames the last disallowed header in sorted order", within, func(ctx SpecContext) {
		h := []servers.Header{{Name: "X-Corslab", Value: "1"}, {Name: "Content-Type", Value: "application/json"}, {Name: "X-Second", Value: "1"}}
		r, std := both(ctx, harness.Request{Method: "POST", Headers: h, Policy: servers.Policy{AllowOrigin: echo}}, false)
		Expect(r).To(matchers.BeBlockedWith(verdict.HeaderDisallowedByPreflightResponse, "x-second"))
		Expect(std.Verdict.Parameter).To(Equal("content-type"))
	})
})
