package readme_test

import (
	"io"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/rs/cors"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/suite"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// users stands for the user's own API.
func users() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "[]") })
}

// README:begin
var _ = It("lets https://app.example.com read /users through my rs/cors policy", func(ctx SpecContext) {
	api := cors.New(cors.Options{AllowedOrigins: []string{"https://app.example.com"}}).Handler(users())
	mine := suite.Start(ctx, harness.Options{Servers: servers.Options{API: api}})
	page, err := mine.NewSessionAs(ctx, "https://app.example.com")
	Expect(err).NotTo(HaveOccurred())
	r, err := page.Do(ctx, harness.Request{URL: "/users"})
	Expect(err).NotTo(HaveOccurred())
	Expect(r).To(matchers.BeAllowed())
	Expect(r.Server.Entries[0].Origin()).To(Equal("https://app.example.com"))
})

// README:end

// README:begin
var _ = It("never runs my handler for an origin my policy refuses", func(ctx SpecContext) {
	mine := suite.Start(ctx, harness.Options{Servers: servers.Options{AppMarked: true,
		APIFor: func(o *servers.Origins) http.Handler { // built once the origins run
			return cors.New(cors.Options{AllowedOrigins: []string{o.App.URL}, AllowedMethods: []string{"DELETE"}}).
				Handler(servers.App(users())) // servers.App marks where my application starts
		}}})
	ours, err := mine.NewSession(ctx) // a page on corslab's page origin, which the policy names
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(ours.Close)
	evil, err := ours.NewTabAs(ctx, "https://evil.example.net") // same browser context, another origin
	Expect(err).NotTo(HaveOccurred())
	for _, page := range []*harness.Session{ours, evil} {
		r, err := page.Do(ctx, harness.Request{URL: "/users/1", Method: "DELETE"})
		Expect(err).NotTo(HaveOccurred())
		if page == ours {
			Expect(r).To(And(matchers.BeAllowed(), matchers.RunTheApp()))
		} else {
			Expect(r).To(And(matchers.BeBlockedWith(verdict.PreflightMissingAllowOriginHeader), matchers.NotRunTheApp()))
		}
	}
})

// README:end
