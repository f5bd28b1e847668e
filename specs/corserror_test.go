package specs_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chromedp/cdproto/network"
	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/matchers"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Section J: every value of cdproto's network.CorsError is either produced
// by a spec below (corsErrorProducers) or listed with the reason it cannot be
// produced over loopback (corsErrorsUnreachable). This file is the one place.

// producer is a request that makes Chrome report one CorsError.
type producer struct {
	world string   // "" for the default pair, else an extraEnv name
	apis  []string // the APIs it is shown with
	when  string   // the cause, for the spec name
	param string   // the failedParameter Chrome must blame ("" = not checked)
	build func(o *servers.Origins) harness.Request
}

var (
	echo      = []string{servers.Echo}
	both      = []string{harness.XHR, harness.Fetch}
	fetchOnly = []string{harness.Fetch}
	wrongACAO = "http://127.0.0.1:1"
)

// put is a preflighted request whose preflight answers pre.
func put(pre servers.Policy, credentials bool) harness.Request {
	return harness.Request{Method: "PUT", Credentials: credentials, Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true", Preflight: &pre}}
}

var corsErrorProducers = map[network.CorsError]producer{
	network.CorsErrorMissingAllowOriginHeader: {apis: both, when: "the response has no Access-Control-Allow-Origin",
		build: func(*servers.Origins) harness.Request { return harness.Request{} }},
	network.CorsErrorAllowOriginMismatch: {apis: both, when: "Access-Control-Allow-Origin names another origin", param: wrongACAO,
		build: func(*servers.Origins) harness.Request {
			return harness.Request{Policy: servers.Policy{AllowOrigin: []string{wrongACAO}}}
		}},
	network.CorsErrorInvalidAllowOriginValue: {apis: both, when: "Access-Control-Allow-Origin has no scheme (127.0.0.1)",
		build: func(*servers.Origins) harness.Request {
			return harness.Request{Policy: servers.Policy{AllowOrigin: []string{"127.0.0.1"}}}
		}},
	network.CorsErrorMultipleAllowOriginValues: {apis: both, when: "Access-Control-Allow-Origin is sent twice",
		build: func(*servers.Origins) harness.Request {
			return harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo, servers.Echo}}}
		}},
	network.CorsErrorWildcardOriginNotAllowed: {apis: both, when: "a credentialed request gets Access-Control-Allow-Origin *",
		build: func(*servers.Origins) harness.Request {
			return harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: []string{"*"}, AllowCredentials: "true"}}
		}},
	network.CorsErrorInvalidAllowCredentials: {apis: both, when: `a credentialed request gets Access-Control-Allow-Credentials "True"`,
		build: func(*servers.Origins) harness.Request {
			return harness.Request{Credentials: true, Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "True"}}
		}},
	network.CorsErrorPreflightMissingAllowOriginHeader: {apis: both, when: "the preflight has no Access-Control-Allow-Origin",
		build: func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowMethods: []string{"PUT"}}, false)
		}},
	network.CorsErrorPreflightAllowOriginMismatch: {apis: both, when: "the preflight's Access-Control-Allow-Origin names another origin", param: wrongACAO,
		build: func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: []string{wrongACAO}, AllowMethods: []string{"PUT"}}, false)
		}},
	network.CorsErrorPreflightInvalidAllowOriginValue: {apis: both, when: "the preflight's Access-Control-Allow-Origin has no scheme (127.0.0.1)",
		build: func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: []string{"127.0.0.1"}, AllowMethods: []string{"PUT"}}, false)
		}},
	network.CorsErrorPreflightMultipleAllowOriginValues: {apis: both, when: "the preflight sends Access-Control-Allow-Origin twice",
		build: func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: []string{servers.Echo, servers.Echo}, AllowMethods: []string{"PUT"}}, false)
		}},
	network.CorsErrorPreflightWildcardOriginNotAllowed: {apis: both, when: "a credentialed preflight gets Access-Control-Allow-Origin *",
		build: func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: []string{"*"}, AllowCredentials: "true", AllowMethods: []string{"PUT"}}, true)
		}},
	network.CorsErrorPreflightInvalidAllowCredentials: {apis: both, when: "a credentialed preflight has no Access-Control-Allow-Credentials",
		build: func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}}, true)
		}},
	network.CorsErrorPreflightInvalidStatus: {apis: both, when: "the preflight answers 500 with its CORS headers",
		build: func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, PreflightStatus: 500}, false)
		}},
	network.CorsErrorPreflightDisallowedRedirect: {apis: both, when: "the preflight answers with a 307 redirect",
		build: func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, Redirect: &servers.Redirect{Status: 307}}, false)
		}},
	network.CorsErrorInvalidAllowMethodsPreflightResponse: {apis: both, when: "Access-Control-Allow-Methods is not a list of tokens",
		build: func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT;"}}, false)
		}},
	network.CorsErrorInvalidAllowHeadersPreflightResponse: {apis: both, when: "Access-Control-Allow-Headers is not a list of tokens",
		build: func(*servers.Origins) harness.Request {
			r := put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, AllowHeaders: []string{"x-a;"}}, false)
			r.Headers = []servers.Header{{Name: "X-A", Value: "1"}}
			return r
		}},
	network.CorsErrorMethodDisallowedByPreflightResponse: {apis: both, when: "the preflight does not allow PUT", param: "PUT",
		build: func(*servers.Origins) harness.Request {
			return put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"POST"}}, false)
		}},
	network.CorsErrorHeaderDisallowedByPreflightResponse: {apis: both, when: "the preflight does not allow the header X-A", param: "x-a",
		build: func(*servers.Origins) harness.Request {
			r := put(servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}}, false)
			r.Headers = []servers.Header{{Name: "X-A", Value: "1"}}
			return r
		}},
	network.CorsErrorRedirectContainsCredentials: {apis: both, when: "a redirect's Location carries user:password@",
		build: func(o *servers.Origins) harness.Request {
			to := strings.Replace(o.Other.URL, "://", "://user:secret@", 1)
			return harness.Request{Policy: servers.Policy{AllowOrigin: echo, Redirect: &servers.Redirect{Status: 302, To: to,
				Then: &servers.Policy{AllowOrigin: echo}}}}
		}},
	network.CorsErrorInvalidLocalNetworkAccess: {apis: fetchOnly, when: `fetch claims targetAddressSpace "local" for a loopback server`,
		build: func(*servers.Origins) harness.Request {
			return harness.Request{TargetAddressSpace: "local", Policy: servers.Policy{AllowOrigin: echo}}
		}},
	network.CorsErrorLocalNetworkAccessPermissionDenied: {world: publicPage, apis: both, when: "a public page reaches loopback without the permission",
		build: func(*servers.Origins) harness.Request {
			return harness.Request{Policy: servers.Policy{AllowOrigin: echo}}
		}},
	network.CorsErrorInsecureLocalNetwork: {world: publicInsecurePage, apis: both, when: "a public page that is not a secure context reaches loopback",
		build: func(*servers.Origins) harness.Request {
			return harness.Request{Policy: servers.Policy{AllowOrigin: echo}}
		}},
}

// corsErrorsUnreachable are the values no spec produces, each with what was
// tried and why it cannot be produced here (Chromium 156, loopback origins).
var corsErrorsUnreachable = map[network.CorsError]string{
	network.CorsErrorDisallowedByMode: `fetch mode "same-origin" to another origin is refused by Blink before the network service (TypeError, no CDP event); ` +
		`a same-origin fetch redirected to another origin ends in net::ERR_ABORTED with no corsErrorStatus (tried both)`,
	network.CorsErrorNoCorsRedirectModeNotFollow: `fetch mode "no-cors" with redirect "manual" or "error" is refused by Blink before any request (TypeError, no CDP event, tried both)`,
	network.CorsErrorCorsDisabledScheme: `fetch() and XHR to ftp:// fail in the renderer with no network event (tried); reaching it needs a redirect to a non-HTTP scheme, ` +
		`which corslab's servers refuse to send (Redirect.To is one of its own http(s) origins)`,
	network.CorsErrorInvalidResponse: "Chromium sets it when a response to a CORS check has no HTTP status (status 0); every answer of an HTTP server over loopback has one",
	network.CorsErrorPreflightMissingAllowExternal: "the Private Network Access preflight (Access-Control-Request-Private-Network) is gone in Chromium 156: " +
		"Local Network Access asks a permission instead and sends no such header (docs/engines/chromium.md; the Local Network Access specs show the granted request's headers)",
	network.CorsErrorPreflightInvalidAllowExternal: "as PreflightMissingAllowExternal: Chromium 156 sends no Private Network Access preflight to answer",
}

// corsErrorEntry is the report entry a passing producer spec adds.
const corsErrorEntry = "corserror produced"

// corsErrorEntries are the producer specs whose world is one of worlds ("" is the default pair).
func corsErrorEntries(worlds ...string) []TableEntry {
	var entries []TableEntry
	for _, name := range slices.Sorted(mapsKeys(corsErrorProducers)) {
		p := corsErrorProducers[name]
		if !slices.Contains(worlds, p.world) {
			continue
		}
		for _, api := range p.apis {
			entries = append(entries, Entry(fmt.Sprintf("%s when %s (%s)", name, p.when, api), name, api, within))
		}
	}
	return entries
}

// expectCorsError sends name's producer request with api and asserts Chrome's verdict.
func expectCorsError(ctx SpecContext, name network.CorsError, api string) {
	p := corsErrorProducers[name]
	e := env
	if p.world != "" {
		e = extraEnv(ctx, p.world)
	}
	req := p.build(e.Origins)
	req.API = api
	r, err := e.Do(ctx, req)
	Expect(err).NotTo(HaveOccurred())
	want := []string{}
	if p.param != "" {
		want = append(want, p.param)
	}
	Expect(r).To(matchers.BeBlockedWith(verdict.Reason(name), want...))
	AddReportEntry(corsErrorEntry, string(name), ReportEntryVisibilityNever)
}

// The producers that need a public page run with the Local Network Access
// specs (localnetwork_test.go), in their Ordered container, so each ginkgo
// run starts those Chromes once.
var _ = Describe("Chrome's CorsError reasons", Label("corserror"), func() {
	DescribeTable("are produced and asserted", expectCorsError, corsErrorEntries(""))

	It("every value of cdproto's network.CorsError is produced above or listed as unreachable, never both", func() {
		all := cdprotoCorsErrors()
		Expect(all).To(HaveLen(28), "cdproto's CorsError changed: re-check every value against Chrome")
		for _, v := range all {
			_, produced := corsErrorProducers[network.CorsError(v)]
			_, listed := corsErrorsUnreachable[network.CorsError(v)]
			Expect(produced != listed).To(BeTrue(), "%s: produced=%v listed=%v; it must be exactly one", v, produced, listed)
		}
		Expect(len(corsErrorProducers)+len(corsErrorsUnreachable)).To(Equal(len(all)), "a value not in cdproto is listed")
		Expect(len(corsErrorProducers)).To(BeNumerically(">=", 22))
	})
})

// ReportAfterSuite counts the values whose producer specs all passed in this
// run (across every ginkgo process) and writes the coverage line for make.
// When the producer specs did not all run (a label filter), it writes nothing.
var _ = ReportAfterSuite("corserror coverage", func(report Report) {
	passed, ran := map[string]bool{}, 0
	for _, s := range report.SpecReports {
		if !slices.Contains(s.Labels(), "corserror") || s.LeafNodeType != types.NodeTypeIt || s.LeafNodeText == "" || !strings.Contains(s.LeafNodeText, " when ") {
			continue
		}
		if s.State == types.SpecStateSkipped || s.State == types.SpecStatePending {
			continue
		}
		ran++
		for _, e := range s.ReportEntries {
			if e.Name == corsErrorEntry && s.State == types.SpecStatePassed {
				passed[e.Value.String()] = true
			}
		}
	}
	if ran == 0 {
		return
	}
	total := len(cdprotoCorsErrors())
	line := fmt.Sprintf("corserror coverage: %d produced, %d listed as unreachable, of %d\n", len(passed), len(corsErrorsUnreachable), total)
	// make passes its output folder; a plain `ginkgo ./specs` writes to ../out.
	dir := os.Getenv("CORSLAB_OUT")
	if dir == "" {
		dir = filepath.Join("..", "out")
	}
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	Expect(os.WriteFile(filepath.Join(dir, "corserror.txt"), []byte(line), 0o644)).To(Succeed())
	Expect(len(passed)+len(corsErrorsUnreachable)).To(Equal(total), "not every CorsError was produced or listed: %s", line)
})

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// cdprotoCorsErrors walks the CorsError constants in the source of the
// cdproto this test binary was built with.
func cdprotoCorsErrors() []string {
	GinkgoHelper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/chromedp/cdproto").Output()
	Expect(err).NotTo(HaveOccurred(), "go list -m github.com/chromedp/cdproto")
	file := filepath.Join(strings.TrimSpace(string(out)), "network", "types.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	Expect(err).NotTo(HaveOccurred(), "parse %s", file)
	var values []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "CorsError" {
				for _, v := range vs.Values {
					if lit, ok := v.(*ast.BasicLit); ok {
						values = append(values, strings.Trim(lit.Value, `"`))
					}
				}
			}
		}
	}
	return values
}
