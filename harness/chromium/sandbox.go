package chromium

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// noSandboxMessage is what Chromium prints (in a FATAL line, an ERROR line
// in Chromium 156) before it exits when it finds no sandbox it can use: as a
// user other than root, on a machine that does not let it create user
// namespaces (Ubuntu 23.10 and later, GitHub's ubuntu-24.04 runners), with
// no setuid sandbox helper. The rest of the line differs between builds
// (Debian's names its chromium-sandbox package), so only this is matched.
const noSandboxMessage = "No usable sandbox!"

// usernsSysctl is the Ubuntu (AppArmor) switch that restricts unprivileged
// user namespaces; 1 means restricted.
const usernsSysctl = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"

// ErrNoUsableSandbox is in the error of a launch that failed because
// Chromium found no usable sandbox; errors.Is finds it.
var ErrNoUsableSandbox = errors.New("no usable sandbox")

// sandboxError explains a launch that Chromium ended with "No usable sandbox!".
type sandboxError struct {
	path       string // the binary
	restricted string // the value of usernsSysctl; "" when the file is missing
	err        error  // the launch error, with Chromium's output
}

func (e *sandboxError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: %s could not start its sandbox, so it exited.\n", ErrNoUsableSandbox, e.path)
	b.WriteString("corslab starts Chromium with its sandbox on (unless corslab runs as root), and the sandbox needs\n")
	b.WriteString("unprivileged user namespaces, which ")
	switch e.restricted {
	case "1":
		b.WriteString("this machine restricts: kernel.apparmor_restrict_unprivileged_userns = 1\n")
		b.WriteString("(the default on Ubuntu 23.10 and later, GitHub's ubuntu-24.04 runners included).\n")
	case "":
		b.WriteString("this machine does not allow (look at kernel.unprivileged_userns_clone,\n")
		b.WriteString("user.max_user_namespaces, or the seccomp profile of the container corslab runs in).\n")
	default:
		fmt.Fprintf(&b, "this machine does not allow, though kernel.apparmor_restrict_unprivileged_userns = %s (look at\n", e.restricted)
		b.WriteString("kernel.unprivileged_userns_clone, user.max_user_namespaces, or the container's seccomp profile).\n")
	}
	b.WriteString("Either fix works:\n")
	b.WriteString("  1. allow them on this machine:\n")
	b.WriteString("       sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0\n")
	b.WriteString("  2. allow them for this binary alone, with an AppArmor profile:\n")
	fmt.Fprintf(&b, "       printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\nprofile corslab-chromium %s flags=(unconfined) {\\n  userns,\\n}\\n' \\\n", e.real())
	b.WriteString("         | sudo tee /etc/apparmor.d/corslab-chromium && sudo apparmor_parser -r /etc/apparmor.d/corslab-chromium\n")
	b.WriteString("     or run corslab as root (in a container, say): it then starts Chromium with --no-sandbox.\n")
	b.WriteString("More in docs/install-and-ci.md (corslab's repository) and in Chromium's note:\n")
	b.WriteString("https://chromium.googlesource.com/chromium/src/+/main/docs/security/apparmor-userns-restrictions.md\n")
	b.WriteString("What Chromium printed: " + e.err.Error())
	return b.String()
}

// real is the binary with its symbolic links resolved: AppArmor attaches a
// profile to the file that runs, not to a link to it.
func (e *sandboxError) real() string {
	if p, err := filepath.EvalSymlinks(e.path); err == nil {
		return p
	}
	return e.path
}

func (e *sandboxError) Unwrap() []error { return []error{ErrNoUsableSandbox, e.err} }

// explainSandbox returns err explained, with the fixes, when what Chromium
// printed (which err holds) says it found no usable sandbox; else err.
func explainSandbox(err error, path string) error {
	if err == nil || !strings.Contains(err.Error(), noSandboxMessage) {
		return err
	}
	restricted := ""
	if b, rerr := os.ReadFile(usernsSysctl); rerr == nil {
		restricted = strings.TrimSpace(string(b))
	}
	return &sandboxError{path: path, restricted: restricted, err: err}
}
