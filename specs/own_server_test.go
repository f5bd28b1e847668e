package specs_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/rs/cors"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/suite"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// usersAPI is a hand-written API with its own CORS policy, the kind a user
// mounts: it allows exactly https://app.example.com, with credentials.
func usersAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "https://app.example.com" {
			w.Header().Set("Access-Control-Allow-Origin", "https://app.example.com")
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			w.Header().Set("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, PUT")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, `[{"name":"ada"}]`)
	})
}

var _ = Describe("your own server", func() {
	It("mounts a user's handler as the API origin and the journal records its requests by the corslab-token query parameter", func(ctx SpecContext) {
		own := mountedEnv(ctx)
		r, err := own.Do(ctx, harness.Request{URL: "/users?page=2"})
		Expect(err).NotTo(HaveOccurred())
		Expect(r.URL).To(Equal(own.Origins.API.URL + "/users?corslab-token=" + r.Token + "&page=2"))
		Expect(r.Server.Recorded).To(BeTrue())
		Expect(r.Server.Entries).To(HaveLen(1))
		Expect(r.Server.Entries[0].URL).To(HavePrefix("/users?"))
		Expect(own.Origins.Journal.Entries(r.Token)).To(BeEmpty(), "the Result holds the entries; the journal forgot them")
		// The handler allows only https://app.example.com: from corslab's own page origin it sends no ACAO.
		Expect(r).To(matchers.BeBlockedWith("MissingAllowOriginHeader"))
		Expect(r).To(matchers.BeExecutedDespiteBlock())
	}, within)

	It("runs the page as https://app.example.com: the API receives exactly that Origin and its requests are not intercepted", func(ctx SpecContext) {
		own := mountedEnv(ctx)
		s, err := own.NewSessionAs(ctx, "https://app.example.com")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Close)
		Expect(s.Origin()).To(Equal("https://app.example.com"))
		r, err := s.Do(ctx, harness.Request{Method: "PUT", URL: "/users/1", Credentials: true,
			Headers: []servers.Header{{Name: "Content-Type", Value: "application/json"}}, Body: `{"name":"ada"}`})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BePreflighted())
		Expect(r).To(matchers.BeAllowed())
		Expect(r).To(matchers.ComeFromPageOrigin())
		entries := r.Server.Entries
		Expect(entries).To(HaveLen(2))
		for _, e := range entries {
			Expect(e.Header.Values("Origin")).To(Equal([]string{"https://app.example.com"}))
		}
		// Chrome paused the page document and nothing else: the preflight and
		// the PUT went over the real network (Chrome saw their wire headers).
		Expect(s.Intercepted()).To(Equal([]string{"https://app.example.com/"}))
		Expect(r.Browser.Preflight.OnWire).To(BeTrue())
		Expect(r.Browser.Actual.OnWire).To(BeTrue())
	}, within)

	It("refuses a page origin that is not scheme://host[:port]", func(ctx SpecContext) {
		_, err := mountedEnv(ctx).NewSessionAs(ctx, "https://app.example.com/login")
		Expect(err).To(MatchError(ContainSubstring(`field "from" = "https://app.example.com/login"`)))
	}, within)

	// Chrome puts an impersonated page in the public address space and grants
	// the local-network permission only to secure origins (measured): an
	// http:// page opens without it, as a real one would, and Chrome itself
	// refuses its requests to a loopback API before CORS is asked.
	It("opens an http:// page origin, whose requests to a loopback API Chrome refuses: InsecureLocalNetwork", func(ctx SpecContext) {
		r, err := sessionAs(ctx, "http://app.example.com").Do(ctx, harness.Request{URL: "/users"})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeBlockedWith("InsecureLocalNetwork"))
		Expect(r.Server.Entries).To(BeEmpty(), "refused before the wire")
	}, within)
})

var _ = Describe("a server that already runs", func() {
	It("runs requests against its URL, carrying the token in the corslab-token query parameter", func(ctx SpecContext) {
		// Started apart from corslab, as a user's dev server would be; its own journal shows what reached it.
		journal := &servers.Journal{}
		srv := httptest.NewServer(journal.Record(usersAPI()))
		DeferCleanup(srv.Close)
		byURL := suite.Start(ctx, harness.Options{Engines: []verdict.Engine{verdict.Chromium}, APIURL: srv.URL})
		s, err := byURL.NewSessionAs(ctx, "https://app.example.com")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Close)
		r, err := s.Do(ctx, harness.Request{URL: "/users", Credentials: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(r.URL).To(HavePrefix(srv.URL + "/users?corslab-token="))
		Expect(r.Server.Recorded).To(BeFalse(), "corslab's journal does not see a server it did not start")
		Expect(r).To(matchers.BeAllowed())
		Expect(r).To(matchers.HaveResponseText(`[{"name":"ada"}]`))
		got := journal.Entries(r.Token)
		Expect(got).To(HaveLen(1))
		Expect(got[0].Origin()).To(Equal("https://app.example.com"))
	}, NodeTimeout(60*time.Second))
})

// A CORS configuration that names the page origin, built from the started
// origins (servers.Options.APIFor), an application marked with servers.App,
// and a cookie set on a top-level visit (Session.Navigate).
var _ = Describe("a handler built from the started origins", Ordered, func() {
	var own *harness.Env
	BeforeAll(func(ctx SpecContext) {
		var err error
		own, err = harness.Start(ctx, harness.Options{Engines: []verdict.Engine{verdict.Chromium}, ShareBrowser: true, WarmSessions: -1,
			Servers: servers.Options{AppMarked: true, APIFor: func(o *servers.Origins) http.Handler {
				mux := http.NewServeMux()
				// The router answers 405 to any other method: the application never runs then.
				mux.Handle("GET /users", servers.App(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.WriteString(w, `[{"name":"ada"}]`)
				})))
				mux.Handle("GET /login", servers.App(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s3cret", Path: "/"})
					_, _ = io.WriteString(w, "welcome")
				})))
				mux.Handle("GET /me", servers.App(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					c, err := r.Cookie("sid")
					if err != nil {
						http.Error(w, "who are you?", http.StatusUnauthorized)
						return
					}
					_, _ = io.WriteString(w, "you are "+c.Value)
				})))
				return cors.New(cors.Options{AllowedOrigins: []string{o.App.URL}, AllowedMethods: []string{"GET", "POST"}, AllowCredentials: true}).Handler(mux)
			}}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(own.Close)
	})

	It("allows corslab's own page origin, which the configuration names", within, func(ctx SpecContext) {
		r, err := own.Do(ctx, harness.Request{URL: "/users"})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeAllowed())
		Expect(r).To(matchers.RunTheApp())
		Expect(r.String()).To(ContainSubstring("(the app ran)"))
	})

	It("a router's 405 is readable by the page, and the application never ran: answered is not ran", within, func(ctx SpecContext) {
		r, err := own.Do(ctx, harness.Request{Method: "POST", Body: "x", URL: "/users"})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeAllowed(), "rs/cors adds its headers to the 405 too")
		Expect(r).To(matchers.HaveStatus(http.StatusMethodNotAllowed))
		Expect(r).To(matchers.NotRunTheApp())
		Expect(r.Executed()).To(BeFalse(), "the server answered, the application did not run")
		Expect(r.String()).To(ContainSubstring("(answered; the app did not run)"))
	})

	It("a preflight the middleware refuses leaves the application unrun: not 'executed despite block'", within, func(ctx SpecContext) {
		r, err := own.Do(ctx, harness.Request{Method: "PUT", URL: "/users"})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeBlocked())
		Expect(r).NotTo(matchers.BeExecutedDespiteBlock())
		Expect(r).To(matchers.NotRunTheApp())
	})

	It("a top-level visit stores the server's cookie in the session's context, and a credentialed request then carries it", within, func(ctx SpecContext) {
		s, err := own.NewSession(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(s.Close)
		Expect(s.Navigate(ctx, own.Origins.API.URL+"/login")).To(Succeed())
		r, err := s.Do(ctx, harness.Request{URL: "/me", Credentials: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(r).To(matchers.BeAllowed())
		Expect(r).To(matchers.SendCookies("sid"))
		Expect(r).To(matchers.HaveResponseText("you are s3cret"))
	})
})
