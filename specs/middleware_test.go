package specs_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	. "github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/servers"
)

const (
	app  = "https://app.example.com"
	evil = "https://evil.example.net"
)

var _ = Describe("github.com/rs/cors", func() {
	// cors.New: origin https://app.example.com, GET and PUT, Content-Type, exposes X-Total, credentials, max-age 60.
	It("lets app.example.com read a credentialed GET and only the exposed header", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{URL: "/rs/items", Credentials: true})
		Expect(r).To(BeAllowed())
		Expect(r).NotTo(BePreflighted())
		Expect(r).To(LetPageRead("X-Total"))
		Expect(r).To(HideFromPage("X-Secret"))
	}, within)

	It("sends no CORS headers to another origin, but the handler still runs", func(ctx SpecContext) {
		r := doAs(ctx, evil, harness.Request{URL: "/rs/items"})
		Expect(r).To(BeBlockedWith("MissingAllowOriginHeader"))
		Expect(r).To(BeExecutedDespiteBlock())
	}, within)

	It("preflights a JSON PUT once and then answers repeats from Chrome's preflight cache (Max-Age 60)", func(ctx SpecContext) {
		s := sessionAs(ctx, app)
		first, err := s.Do(ctx, json("PUT", "/rs/items/1"))
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(SendPreflightWith("PUT", "content-type"))
		Expect(first).To(BeAllowed())
		again := json("PUT", "/rs/items/1")
		again.Token = first.Token
		second, err := s.Do(ctx, again)
		Expect(err).NotTo(HaveOccurred())
		Expect(second).To(UseCachedPreflight())
		Expect(second).To(BeAllowed())
	}, within)

	// Surprise: rs/cors answers a preflight it refuses with 204 and no CORS
	// headers at all, so Chrome blames the origin, not the method the policy lacks.
	It("refuses a DELETE, and Chrome reports a missing Allow-Origin rather than the method", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{API: harness.Fetch, Method: "DELETE", URL: "/rs/items/1"})
		Expect(r).To(BeBlockedWith("PreflightMissingAllowOriginHeader"))
		Expect(r.Browser.Preflight.Status).To(Equal(204))
		Expect(r.Server.Actuals()).To(BeEmpty(), "the DELETE never reached the server")
		Expect(r.Explain()).To(ContainSubstring("preflight (OPTIONS) response must carry Access-Control-Allow-Origin: https://app.example.com"))
	}, within)

	It("refuses a header it does not list in the same silent way", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{URL: "/rs/items", Headers: []servers.Header{{Name: "X-Trace", Value: "1"}}})
		Expect(r).To(SendPreflightWith("GET", "x-trace"))
		Expect(r).To(BeBlockedWith("PreflightMissingAllowOriginHeader"))
	}, within)

	// Surprise: cors.AllowAll() answers "*", which Chrome refuses for any credentialed request.
	It("AllowAll() cannot serve a credentialed request", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{URL: "/rs-all/items", Credentials: true})
		Expect(r).To(BeBlockedWith("WildcardOriginNotAllowed"))
		Expect(r).To(BeExecutedDespiteBlock())
	}, within)
})

var _ = Describe("github.com/go-chi/cors", func() {
	// chicors.Handler: origins https://*.example.com, GET POST PATCH, Content-Type, credentials, max-age 300.
	It("lets any https subdomain of example.com read a credentialed GET", func(ctx SpecContext) {
		r := doAs(ctx, "https://shop.example.com", harness.Request{URL: "/chi/items", Credentials: true})
		Expect(r).To(BeAllowed())
		Expect(r).To(ComeFromPageOrigin())
		Expect(r.Browser.Actual.ResponseHeaders["access-control-allow-origin"]).To(Equal("https://shop.example.com"))
	}, within)

	It("does not match the bare domain, nor a look-alike domain, against https://*.example.com", func(ctx SpecContext) {
		Expect(doAs(ctx, "https://example.com", harness.Request{URL: "/chi/items"})).To(BeBlockedWith("MissingAllowOriginHeader"))
		Expect(doAs(ctx, "https://app.example.com.evil.net", harness.Request{URL: "/chi/items"})).To(BeBlockedWith("MissingAllowOriginHeader"))
	}, within)

	It("preflights a JSON PATCH and allows it", func(ctx SpecContext) {
		r := doAs(ctx, app, json("PATCH", "/chi/items/1"))
		Expect(r).To(SendPreflightWith("PATCH", "content-type"))
		Expect(r).To(BeAllowed())
	}, within)

	// Surprise: fetch sends "patch" as written (only DELETE GET HEAD OPTIONS
	// POST PUT are upper-cased by the Fetch standard); go-chi/cors upper-cases
	// it to check it, allows it, and answers Allow-Methods: PATCH, which does
	// not match "patch" byte for byte, so Chrome blocks it.
	It("allows a lowercase patch on the server's side yet Chrome blocks it", func(ctx SpecContext) {
		r := doAs(ctx, app, json("patch", "/chi/items/1"))
		Expect(r).To(SendPreflightWith("patch", "content-type"))
		Expect(r.Browser.Preflight.ResponseHeaders["access-control-allow-methods"]).To(Equal("PATCH"))
		Expect(r).To(BeBlockedWith("MethodDisallowedByPreflightResponse", "patch"))
	}, within)

	It("refuses a method it does not list with a silent preflight", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{API: harness.Fetch, Method: "DELETE", URL: "/chi/items/1"})
		Expect(r).To(BeBlockedWith("PreflightMissingAllowOriginHeader"))
		Expect(r.Server.Actuals()).To(BeEmpty())
	}, within)
})

var _ = Describe("github.com/gorilla/handlers CORS", func() {
	// handlers.CORS: origin https://app.example.com, GET and PUT, exposes X-Total, credentials.
	It("lets app.example.com read a credentialed GET and the exposed header", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{URL: "/gorilla/items", Credentials: true})
		Expect(r).To(BeAllowed())
		Expect(r).To(LetPageRead("X-Total"))
		Expect(r).To(HideFromPage("X-Secret"))
	}, within)

	It("serves another origin without CORS headers: blocked, but executed", func(ctx SpecContext) {
		r := doAs(ctx, evil, harness.Request{URL: "/gorilla/items"})
		Expect(r).To(BeBlockedWith("MissingAllowOriginHeader"))
		Expect(r).To(BeExecutedDespiteBlock())
	}, within)

	It("preflights a PUT without custom headers and allows it", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{Method: "PUT", URL: "/gorilla/items/1", Body: "n=1"})
		Expect(r).To(SendPreflightWith("PUT", ""))
		Expect(r).To(BeAllowed())
	}, within)

	// Surprise: gorilla's default allowed headers are Accept, Accept-Language,
	// Content-Language and Origin; a JSON Content-Type gets a 403 preflight
	// with no Allow-Origin, which Chrome reports as the missing origin.
	It("refuses a JSON PUT unless Content-Type is added to AllowedHeaders", func(ctx SpecContext) {
		r := doAs(ctx, app, json("PUT", "/gorilla/items/1"))
		Expect(r).To(BeBlockedWith("PreflightMissingAllowOriginHeader"))
		Expect(r.Server.Preflights()).To(HaveLen(1))
		Expect(r.Server.Preflights()[0].Status).To(Equal(403))
		Expect(r.Server.Actuals()).To(BeEmpty())
	}, within)

	// Surprise: AllowCredentials() with the default origins answers "*", which
	// Chrome never accepts with credentials: the option cannot work alone.
	It("AllowCredentials() without AllowedOrigins cannot serve a credentialed request", func(ctx SpecContext) {
		r := doAs(ctx, app, harness.Request{URL: "/gorilla-any/items", Credentials: true})
		Expect(r).To(BeBlockedWith("WildcardOriginNotAllowed"))
		Expect(r.Browser.Actual.ResponseHeaders["access-control-allow-credentials"]).To(Equal("true"))
	}, within)
})
