package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInstallInAUsersModule does what docs/install-and-ci.md tells a user:
// in a module of their own (go 1.25.0, the oldest Go corslab supports) it
// adds corslab as a tool with `go get -tool`, installs the browser with
// `go tool corslab install-browsers`, builds the command from the module
// and runs `corslab check` on the example file in Chromium. corslab has no
// published version to fetch here, so it asks for v0.0.0 and a replace
// points that at this checkout; everything else comes from the module
// cache, or from $GOPROXY.
func TestInstallInAUsersModule(t *testing.T) {
	t.Parallel() // its corslab has its own Chrome and origins
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	checkout, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mod := "module example.com/user\n\ngo 1.25.0\n\nreplace github.com/corslab/corslab => " + checkout + "\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	// -mod=mod: go may write go.mod and go.sum; local: never a downloaded toolchain.
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local", "GOWORK=off", "GOPROXY="+proxies(t, gobin), "CORSLAB_ENGINES=chromium")
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir, cmd.Env = dir, env
		// Ctrl-C, not a kill, when the test runs out of time: corslab then
		// closes its Chrome and removes its folders.
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 15 * time.Second
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}

	run(gobin, "get", "-tool", "github.com/corslab/corslab/cmd/corslab@v0.0.0")
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\ngo 1.25.0\n", "\ntool github.com/corslab/corslab/cmd/corslab\n"} {
		if !strings.Contains(string(gomod), want) {
			t.Errorf("after go get -tool, the user's go.mod lacks %q (did corslab's go line, or a module's it requires, rise above 1.25.0, the GOFLOOR of the Makefile?):\n%s", strings.TrimSpace(want), gomod)
		}
	}
	out := run(gobin, "tool", "corslab", "install-browsers")
	if !strings.Contains(out, "install-browsers: chromium: ") {
		t.Errorf("go tool corslab install-browsers:\n%s", out)
	}
	t.Logf("go tool corslab install-browsers: %s", strings.TrimSpace(out))
	bin := filepath.Join(dir, "bin", "corslab")
	run(gobin, "build", "-o", bin, "github.com/corslab/corslab/cmd/corslab")
	out = run(bin, "check", filepath.Join(checkout, "examples", "expectations.yaml"))
	if !strings.Contains(out, "check: 8 cases, 8 passed, 0 failed\n") {
		t.Errorf("no summary line:\n%s", out)
	}
	t.Logf("corslab check examples/expectations.yaml:\n%s", out)
}

// proxies is $GOPROXY for the user's module: its proxies, any error from one
// meaning "not here", and no direct fetch. go get looks the package's path
// and its parents up as modules before it finds github.com/corslab/corslab
// (which only the replace serves); a proxy answers 404 for a path that is no
// module, and go tries the next, but a mirror may answer 403, which would
// stop it.
func proxies(t *testing.T, gobin string) string {
	t.Helper()
	out, err := exec.Command(gobin, "env", "GOPROXY").Output()
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, p := range strings.FieldsFunc(strings.TrimSpace(string(out)), func(r rune) bool { return r == ',' || r == '|' }) {
		if p != "direct" && p != "off" {
			list = append(list, p)
		}
	}
	return strings.Join(append(list, "off"), "|")
}
