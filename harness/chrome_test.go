package harness

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corslab/corslab/servers"
)

func TestMissingChromeSaysHowToInstallIt(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(ChromeEnv, "")
	_, err := FindChrome("")
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y chromium") || !strings.Contains(err.Error(), ChromeEnv) {
		t.Fatalf("FindChrome with no Chrome: %v; want the install command", err)
	}
	_, err = FindChrome("/no/such/chrome")
	if err == nil || !strings.Contains(err.Error(), "/no/such/chrome") || !strings.Contains(err.Error(), "apt-get install") {
		t.Fatalf("FindChrome(/no/such/chrome): %v", err)
	}
}

func TestAChromePathThatIsNotChromeIsRefused(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "chrome")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'Firefox 140'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Options{ChromePath: fake})
	if err == nil || !strings.Contains(err.Error(), "is not Chrome or Chromium") || !strings.Contains(err.Error(), "Firefox 140") {
		t.Fatalf("Start with a fake chrome: %v", err)
	}
}

func TestWebSecurityCannotBeSwitchedOff(t *testing.T) {
	_, err := Start(context.Background(), Options{ChromeFlags: map[string]any{"disable-web-security": true}})
	if err == nil || !strings.Contains(err.Error(), "enforces CORS") {
		t.Fatalf("Start with --disable-web-security: %v", err)
	}
}

func TestBadRequestsNameTheField(t *testing.T) {
	cases := []struct {
		req   Request
		field string
		says  string
	}{
		{Request{Method: "GE T"}, "Method", "not an HTTP method token"},
		{Request{Headers: []servers.Header{{Name: "X-A", Value: "1\r\nX-B: 2"}}}, "Headers", "header injection"},
		{Request{Headers: []servers.Header{{Name: "Bad Name", Value: "1"}}}, "Headers", "invalid byte"},
		{Request{API: "websocket"}, "API", "must be"},
		{Request{URL: "ftp://127.0.0.1/"}, "URL", "absolute http"},
		{Request{URL: "http://example.com/"}, "URL", "not loopback"},
		{Request{URL: "http://10.0.0.1:8080/"}, "URL", "not loopback"},
		{Request{Abort: "later"}, "Abort", "must be"},
		{Request{Token: "a/b"}, "Token", "a token is"},
		{Request{Mode: "no-cors"}, "Mode", "only fetch"},
		{Request{Policy: servers.Policy{MaxAge: "soon"}}, "Policy", `"max-age"`},
		{Request{Path: "/x?y=1"}, "Path", "no query"},
		{Request{API: Fetch, Mode: "navigate"}, "Mode", "same-origin"},
		{Request{API: Fetch, RedirectMode: "never"}, "RedirectMode", "manual"},
		{Request{RedirectMode: "manual"}, "RedirectMode", "only fetch"},
		{Request{API: Fetch, TargetAddressSpace: "private"}, "TargetAddressSpace", "loopback"},
		{Request{TargetAddressSpace: "local"}, "TargetAddressSpace", "only fetch"},
		{Request{Target: "elsewhere"}, "Target", `"app"`},
	}
	for _, c := range cases {
		err := c.req.Validate(false)
		if err == nil || !strings.Contains(err.Error(), "request field "+c.field) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%+v: %v; want field %s and %q", c.req, err, c.field, c.says)
		}
	}
	if err := (Request{URL: "http://localhost:8080/x"}).Validate(false); err != nil {
		t.Errorf("localhost URL refused: %v", err)
	}
	if err := (Request{URL: "http://example.com/"}).Validate(true); err != nil {
		t.Errorf("remote URL with opt-in refused: %v", err)
	}
}
