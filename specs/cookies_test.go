package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/servers"
)

// Section F: which cookies a credentialed cross-origin request carries, and
// Chrome's reasons for the ones it holds back (requestWillBeSentExtraInfo).
// Ordered: its specs run on one ginkgo process, so each cross-site Chrome
// starts once per run, not once per process.
var _ = Describe("cookies on credentialed requests", Ordered, SpecPriority(longFirst), func() {
	credentialed := servers.Policy{AllowOrigin: echo, AllowCredentials: "true"}

	DescribeTable("same-site cross-origin (127.0.0.1, two ports): the cookie the API set is sent back",
		func(ctx SpecContext, api string) {
			set, err := env.Do(ctx, harness.Request{API: api, Credentials: true,
				Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true", SetCookie: []string{"c=1"}}})
			Expect(err).NotTo(HaveOccurred())
			Expect(set).To(matchers.BeAllowed())
			Expect(set.Browser.Actual.SetCookieBlock).To(BeEmpty(), "Chrome stored the same-site cookie")

			r, err := env.Do(ctx, harness.Request{API: api, Credentials: true, Token: set.Token, Policy: credentialed})
			Expect(err).NotTo(HaveOccurred())
			Expect(r).To(matchers.BeAllowed())
			Expect(r).To(matchers.SendCookies("c"))
			Expect(cookieNames(r.Browser.Actual.CookiesSent)).To(ConsistOf("c"), "Chrome's view of the cookies it sent")
		},
		Entry("with XHR withCredentials", harness.XHR, within),
		Entry("with fetch credentials: include", harness.Fetch, within),
	)

	// The cookie is stored as a first-party visit to api.test would store it;
	// then the page on app.test (another site) sends a credentialed request.
	crossSite := func(ctx SpecContext, world, api string) harness.Result {
		e := extraEnv(ctx, world)
		s, err := e.NewSession(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Close)
		token := harness.NewToken()
		Expect(s.SetCookie(ctx, e.Origins.API.URL+"/cors/"+token, "c=1; SameSite=None; Secure; Path=/cors/"+token)).To(Succeed())
		r, err := s.Do(ctx, harness.Request{API: api, Credentials: true, Token: token, Policy: credentialed})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeAllowed(), "CORS allows the request: the cookie is a separate question")
		return r
	}

	DescribeTable("cross-site https://app.test → https://api.test, third-party cookies blocked (Chromium's default): CORS passes, the SameSite=None; Secure cookie is held back and Chrome says why",
		func(ctx SpecContext, api string) {
			r := crossSite(ctx, crossSiteTLS, api)
			Expect(r).To(matchers.SendCookies())
			// UserPreferences: the profile's third-party-cookie setting
			// (cookie_controls_mode 1, Chromium's default) blocks it, not SameSite.
			Expect(r.Browser.Actual.CookiesBlocked).To(ConsistOf(And(
				HaveField("Name", "c"), HaveField("Reasons", ConsistOf("UserPreferences")))), "%s", r)
		},
		Entry("with XHR withCredentials", harness.XHR, within),
		Entry("with fetch credentials: include", harness.Fetch, within),
	)

	DescribeTable("cross-site https://app.test → https://api.test with Options.ThirdPartyCookies: the same cookie is sent",
		func(ctx SpecContext, api string) {
			r := crossSite(ctx, crossSiteTLS3P, api)
			Expect(r).To(matchers.SendCookies("c"))
			Expect(cookieNames(r.Browser.Actual.CookiesSent)).To(ConsistOf("c"))
			Expect(r.Browser.Actual.CookiesBlocked).To(BeEmpty())
		},
		Entry("with XHR withCredentials", harness.XHR, within),
		Entry("with fetch credentials: include", harness.Fetch, within),
	)
})

func cookieNames(cs []harness.Cookie) []string {
	names := []string{}
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}
