package chromium

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// Every CorsError cdproto knows is a common reason with its row in the
// reason table, so Chrome's words are the common vocabulary by construction.
func TestEveryCorsErrorIsACommonReason(t *testing.T) {
	for _, e := range []network.CorsError{
		network.CorsErrorDisallowedByMode, network.CorsErrorInvalidResponse, network.CorsErrorWildcardOriginNotAllowed,
		network.CorsErrorMissingAllowOriginHeader, network.CorsErrorMultipleAllowOriginValues, network.CorsErrorInvalidAllowOriginValue,
		network.CorsErrorAllowOriginMismatch, network.CorsErrorInvalidAllowCredentials, network.CorsErrorCorsDisabledScheme,
		network.CorsErrorPreflightInvalidStatus, network.CorsErrorPreflightDisallowedRedirect, network.CorsErrorPreflightWildcardOriginNotAllowed,
		network.CorsErrorPreflightMissingAllowOriginHeader, network.CorsErrorPreflightMultipleAllowOriginValues,
		network.CorsErrorPreflightInvalidAllowOriginValue, network.CorsErrorPreflightAllowOriginMismatch,
		network.CorsErrorPreflightInvalidAllowCredentials, network.CorsErrorPreflightMissingAllowExternal,
		network.CorsErrorPreflightInvalidAllowExternal, network.CorsErrorInvalidAllowMethodsPreflightResponse,
		network.CorsErrorInvalidAllowHeadersPreflightResponse, network.CorsErrorMethodDisallowedByPreflightResponse,
		network.CorsErrorHeaderDisallowedByPreflightResponse, network.CorsErrorRedirectContainsCredentials,
		network.CorsErrorInsecureLocalNetwork, network.CorsErrorInvalidLocalNetworkAccess, network.CorsErrorNoCorsRedirectModeNotFollow,
		network.CorsErrorLocalNetworkAccessPermissionDenied,
	} {
		if !verdict.Reason(e).Known() {
			t.Errorf("CorsError %s has no row in the reason table", e)
		}
	}
}

// The journal forgets a request's entries once its Result holds them; it
// used to keep every token for the life of the Env (a lab or matrix run grew).
func TestTheJournalDoesNotGrow(t *testing.T) {
	t.Parallel()
	env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 5 {
		r, err := env.Do(ctx, harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo}}})
		if err != nil || !r.Allowed() || len(r.Server.Entries) != 1 {
			t.Fatalf("Do: %v\n%s", err, r)
		}
	}
	if n := env.Origins.Journal.Len(); n != 0 {
		t.Fatalf("the journal holds %d tokens after 5 requests, want 0", n)
	}
}

// Plan sends a path to the same base Do does: Options.APIURL when it is set.
// It used to build its URL on the API origin whatever the options said.
func TestPlanUsesTheAPIURL(t *testing.T) {
	t.Parallel()
	env := startEnv(t, harness.Options{WarmSessions: -1, ShareBrowser: true, APIURL: "http://localhost:9/api"})
	p, err := env.Plan(harness.Request{URL: "/users"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.URL, "http://localhost:9/api/users?corslab-token=") {
		t.Fatalf("Plan URL %s, want it on the APIURL", p.URL)
	}
}
