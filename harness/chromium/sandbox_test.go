package chromium

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// What Chromium prints when it finds no usable sandbox, as builds print it:
// the snapshot build GitHub's ubuntu-24.04 runner links as /usr/bin/chromium
// (reported in actions/runner-images issue 12096), a newer upstream build,
// and Debian's Chromium 156, run as uid 65534 in a process where creating a
// user namespace fails (measured 2026-12-01; its line says ERROR, not FATAL).
var noSandboxOutputs = map[string]string{
	"ubuntu-24.04 runner": "[2007:2007:0425/163136.680338:FATAL:zygote_host_impl_linux.cc(132)] No usable sandbox! If you are running on Ubuntu 23.10+ or another Linux distro that has disabled unprivileged user namespaces with AppArmor, see https://chromium.googlesource.com/chromium/src/+/main/docs/security/apparmor-userns-restrictions.md. Otherwise see https://chromium.googlesource.com/chromium/src/+/main/docs/linux/suid_sandbox_development.md for more information on developing with the (older) SUID sandbox. If you want to live dangerously and need an immediate workaround, you can try using --no-sandbox.",
	"upstream":            "[0722/094450.718161:FATAL:content/browser/zygote_host/zygote_host_impl_linux.cc:128] No usable sandbox! If you are running on Ubuntu 23.10+ or another Linux distro that has disabled unprivileged user namespaces with AppArmor, see https://chromium.googlesource.com/chromium/src/+/main/docs/security/apparmor-userns-restrictions.md. Otherwise see https://chromium.googlesource.com/chromium/src/+/main/docs/linux/suid_sandbox_development.md for more information on developing with the (older) SUID sandbox. If you want to live dangerously and need an immediate workaround, you can try using --no-sandbox.",
	"debian":              "[11453:11453:1201/015444.943061:ERROR:content/browser/zygote_host/zygote_host_impl_linux.cc:130] No usable sandbox! If this is a Debian system, please install the chromium-sandbox package to solve this problem. If you are running on Ubuntu 23.10+ or another Linux distro that has disabled unprivileged user namespaces with AppArmor, see https://chromium.googlesource.com/chromium/src/+/main/docs/security/apparmor-userns-restrictions.md. If you want to live dangerously and need an immediate workaround, you can try using --no-sandbox.",
}

func TestNoUsableSandboxIsExplainedWithTheFixes(t *testing.T) {
	for name, out := range noSandboxOutputs {
		t.Run(name, func(t *testing.T) {
			launchErr := errors.New("launch /usr/bin/chromium (Chromium 156): chrome failed to start:\n" + out + "\n")
			err := explainSandbox(launchErr, "/usr/bin/chromium")
			if !errors.Is(err, ErrNoUsableSandbox) || !errors.Is(err, launchErr) {
				t.Fatalf("errors.Is(ErrNoUsableSandbox) = %v, errors.Is(the launch error) = %v: %v",
					errors.Is(err, ErrNoUsableSandbox), errors.Is(err, launchErr), err)
			}
			for _, want := range []string{
				"no usable sandbox: /usr/bin/chromium could not start its sandbox",
				"sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
				"userns,",
				"sudo apparmor_parser -r /etc/apparmor.d/corslab-chromium",
				"run corslab as root",
				"docs/install-and-ci.md",
				"https://chromium.googlesource.com/chromium/src/+/main/docs/security/apparmor-userns-restrictions.md",
				out, // Chromium's own words stay in the error
			} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error lacks %q:\n%s", want, err)
				}
			}
		})
	}
}

func TestTheSandboxExplanationNamesTheCause(t *testing.T) {
	launchErr := errors.New(noSandboxOutputs["upstream"])
	for restricted, want := range map[string]string{
		"1": "this machine restricts: kernel.apparmor_restrict_unprivileged_userns = 1",
		"":  "look at kernel.unprivileged_userns_clone",
		"0": "though kernel.apparmor_restrict_unprivileged_userns = 0",
	} {
		e := &sandboxError{path: "/usr/bin/chromium", restricted: restricted, err: launchErr}
		if !strings.Contains(e.Error(), want) {
			t.Errorf("sysctl %q: the error lacks %q:\n%s", restricted, want, e.Error())
		}
	}
}

// The AppArmor profile must name the file that runs: a profile for a
// symbolic link would never attach.
func TestTheAppArmorProfileNamesTheRealBinary(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "chrome-linux", "chrome")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("\x7fELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "chromium")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	err := explainSandbox(errors.New(noSandboxOutputs["ubuntu-24.04 runner"]), link)
	if !strings.Contains(err.Error(), "profile corslab-chromium "+real+" flags=(unconfined)") {
		t.Errorf("the profile does not name %s:\n%s", real, err)
	}
}

func TestOtherLaunchErrorsAreLeftAlone(t *testing.T) {
	for _, launchErr := range []error{
		errors.New("launch /usr/bin/chromium: chrome failed to start:\nSocket path too long"),
		errors.New("launch /usr/bin/chromium: no answer after 30s"),
	} {
		if err := explainSandbox(launchErr, "/usr/bin/chromium"); err != launchErr || errors.Is(err, ErrNoUsableSandbox) {
			t.Errorf("explainSandbox changed %q into %q", launchErr, err)
		}
	}
	if explainSandbox(nil, "/usr/bin/chromium") != nil {
		t.Error("explainSandbox(nil) is not nil")
	}
}

// fakeChromium writes a program that answers --version as Chromium does and
// otherwise prints Chromium's no-sandbox FATAL line and dies of SIGTRAP, as
// Chromium does on a runner that restricts user namespaces.
func fakeChromium(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "chromium")
	script := "#!/bin/sh\n" +
		"if [ \"$1\" = --version ]; then echo 'Chromium 156.0.8078.114'; exit 0; fi\n" +
		"echo '" + noSandboxOutputs["ubuntu-24.04 runner"] + "' >&2\n" +
		"kill -TRAP $$\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// The explanation reaches the caller through both ways corslab starts
// Chromium: a launch (chromedp reads the output) and StartRemote.
func TestAChromiumWithoutASandboxFailsToStartWithTheExplanation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := fakeChromium(t)
	_, err := launch(ctx, launchConfig{path: path})
	if !errors.Is(err, ErrNoUsableSandbox) || !strings.Contains(err.Error(), "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0") {
		t.Errorf("launch: %v", err)
	}
	if _, err := StartRemote(ctx, path); !errors.Is(err, ErrNoUsableSandbox) {
		t.Errorf("StartRemote: %v", err)
	}
}
