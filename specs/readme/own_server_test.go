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
