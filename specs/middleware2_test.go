package specs_test

import (
	"net/http"

	jcors "github.com/jub0bs/cors"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	. "github.com/corslab/corslab/harness/matchers"
)

var _ = Describe("github.com/gin-contrib/cors", func() {
	It("lets app.example.com read a credentialed GET and the exposed header", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{URL: "/gin/strict/items", Credentials: true})
		Expect(r).To(BeAllowed())
		Expect(r).To(LetPageRead("X-Total"))
		Expect(r).To(HideFromPage("X-Secret"))
	}, within)

	// Surprise: unlike rs/cors, gin-contrib/cors answers another origin 403
	// itself: the page is blocked and the application never ran.
	It("answers another origin 403 with no CORS headers: blocked, and not executed", func(ctx SpecContext) {
		r := doAs(ctx, evil, harness.Request{URL: "/gin/strict/items"})
		Expect(r).To(BeBlockedWith("MissingAllowOriginHeader"))
		Expect(r.Server.Actuals()[0].Status).To(Equal(http.StatusForbidden))
		Expect(r).NotTo(BeExecutedDespiteBlock(), "the middleware answered; resource never ran")
		Expect(r.Server.Actuals()[0].AppRan).To(BeFalse())
	}, within)

	It("preflights a JSON PUT and then answers the repeat from the preflight cache (MaxAge 1m)", func(ctx SpecContext) {
		s := sessionAs(ctx, app)
		first, err := s.Do(ctx, json("PUT", "/gin/strict/items/1"))
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(SendPreflightWith("PUT", "content-type"))
		Expect(first).To(BeAllowed())
		again := json("PUT", "/gin/strict/items/1")
		again.Token = first.Token
		second, err := s.Do(ctx, again)
		Expect(err).NotTo(HaveOccurred())
		Expect(second).To(UseCachedPreflight())
	}, within)

	It("refuses a DELETE in the preflight: the DELETE never reaches the server", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{API: harness.Fetch, Method: "DELETE", URL: "/gin/strict/items/1"})
		Expect(r).To(BeBlocked())
		Expect(r.Server.Actuals()).To(BeEmpty())
	}, within)

	// Surprise: AllowAllOrigins with AllowCredentials sends * and true: no
	// browser lets a credentialed request read that.
	It("AllowAllOrigins with AllowCredentials cannot serve a credentialed request: WildcardOriginNotAllowed", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{URL: "/gin/all/items", Credentials: true})
		Expect(r).To(BeBlockedWith("WildcardOriginNotAllowed"))
		Expect(r).To(BeExecutedDespiteBlock())
	}, within)
})

var _ = Describe("the labstack/echo CORS middleware", func() {
	It("lets app.example.com read a credentialed GET and the exposed header", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{URL: "/echo/strict/items", Credentials: true})
		Expect(r).To(BeAllowed())
		Expect(r).To(LetPageRead("X-Total"))
	}, within)

	It("lets another origin's GET run but sends it no CORS headers: blocked, yet executed", func(ctx SpecContext) {
		r := doAs(ctx, evil, harness.Request{URL: "/echo/strict/items"})
		Expect(r).To(BeBlockedWith("MissingAllowOriginHeader"))
		Expect(r).To(BeExecutedDespiteBlock())
	}, within)

	It("preflights a JSON PUT and allows it", func(ctx SpecContext) {
		r := doAs(ctx, app, json("PUT", "/echo/strict/items/1"))
		Expect(r).To(SendPreflightWith("PUT", "content-type"))
		Expect(r).To(BeAllowed())
	}, within)

	It("refuses a PATCH it does not list", func(ctx SpecContext) {
		r := doAs(ctx, app, json("PATCH", "/echo/strict/items/1"))
		Expect(r).To(BePreflighted())
		Expect(r).To(BeBlocked())
		Expect(r.Server.Actuals()).To(BeEmpty())
	}, within)

	// Surprise: the documented UnsafeWildcardOriginWithAllowCredentials
	// reflects any origin with credentials: any page reads the answer with
	// the user's cookies.
	It("UnsafeWildcardOriginWithAllowCredentials lets any origin read a credentialed answer", func(ctx SpecContext) {
		r := doAs(ctx, evil, harness.Request{URL: "/echo/unsafe/items", Credentials: true})
		Expect(r).To(BeAllowed())
		Expect(r.Browser.Actual.ResponseHeaders["access-control-allow-origin"]).To(Equal(evil))
		Expect(r.Browser.Actual.ResponseHeaders["access-control-allow-credentials"]).To(Equal("true"))
	}, within)
})

var _ = Describe("github.com/jub0bs/cors", func() {
	It("lets app.example.com read a credentialed GET and the exposed header", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{URL: "/jub0bs/items", Credentials: true})
		Expect(r).To(BeAllowed())
		Expect(r).To(LetPageRead("X-Total"))
		Expect(r).To(HideFromPage("X-Secret"))
	}, within)

	It("sends another origin no CORS headers, and the handler runs", func(ctx SpecContext) {
		r := doAs(ctx, evil, harness.Request{URL: "/jub0bs/items"})
		Expect(r).To(BeBlockedWith("MissingAllowOriginHeader"))
		Expect(r).To(BeExecutedDespiteBlock())
	}, within)

	It("preflights a JSON PUT once and answers the repeat from the cache", func(ctx SpecContext) {
		s := sessionAs(ctx, app)
		first, err := s.Do(ctx, json("PUT", "/jub0bs/items/1"))
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(BeAllowed())
		Expect(first).To(BePreflighted())
		again := json("PUT", "/jub0bs/items/1")
		again.Token = first.Token
		second, err := s.Do(ctx, again)
		Expect(err).NotTo(HaveOccurred())
		Expect(second).To(UseCachedPreflight())
	}, within)

	// Surprise: jub0bs/cors answers a preflight it refuses with 403, while
	// rs/cors and echo answer 204: Chrome still blames the missing Allow-Origin.
	It("refuses a DELETE preflight with 403 and no CORS headers: PreflightMissingAllowOriginHeader", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{API: harness.Fetch, Method: "DELETE", URL: "/jub0bs/items/1"})
		Expect(r).To(BeBlockedWith("PreflightMissingAllowOriginHeader"))
		Expect(r.Browser.Preflight.Status).To(Equal(http.StatusForbidden))
		Expect(r.Server.Actuals()).To(BeEmpty())
	}, within)

	// Surprise for who comes from the others: jub0bs/cors refuses the
	// dangerous configuration before any request (rs/cors, gin and echo take it).
	It("refuses, at construction, to allow every origin with credentials", func() {
		_, err := jcors.NewMiddleware(jcors.Config{Origins: []string{"*"}, Credentialed: true})
		Expect(err).To(HaveOccurred())
		AddReportEntry("jub0bs/cors says", err.Error())
	})
})
