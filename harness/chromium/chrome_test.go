package chromium

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
)

func TestMissingChromeSaysHowToInstallIt(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(ChromeEnv, "")
	_, err := Find("")
	if err == nil || !strings.Contains(err.Error(), "apt-get install -y chromium") || !strings.Contains(err.Error(), ChromeEnv) {
		t.Fatalf("FindChrome with no Chrome: %v; want the install command", err)
	}
	_, err = Find("/no/such/chrome")
	if err == nil || !strings.Contains(err.Error(), "/no/such/chrome") || !strings.Contains(err.Error(), "apt-get install") {
		t.Fatalf("Find(/no/such/chrome): %v", err)
	}
}

func TestAChromePathThatIsNotChromeIsRefused(t *testing.T) {
	fake := filepath.Join(t.TempDir(), "chrome")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\necho 'Firefox 140'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := harness.Start(context.Background(), harness.Options{Engines: []verdict.Engine{verdict.Chromium}, Paths: map[verdict.Engine]string{verdict.Chromium: fake}})
	if err == nil || !strings.Contains(err.Error(), "is not Chrome or Chromium") || !strings.Contains(err.Error(), "Firefox 140") {
		t.Fatalf("harness.Start with a fake chrome: %v", err)
	}
}

func TestWebSecurityCannotBeSwitchedOff(t *testing.T) {
	_, err := harness.Start(context.Background(), harness.Options{Engines: []verdict.Engine{verdict.Chromium}, ChromeFlags: map[string]any{"disable-web-security": true}})
	if err == nil || !strings.Contains(err.Error(), "enforces CORS") {
		t.Fatalf("harness.Start with --disable-web-security: %v", err)
	}
}
