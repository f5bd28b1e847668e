package webkit

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The files a private mount namespace replaces for MiniBrowser and its
// helpers: glibc's getaddrinfo (which GLib's resolver uses) reads the hosts
// file, and GnuTLS (glib-networking's TLS backend) reads its system trust
// from the CA bundle. Neither reads an environment variable instead.
const (
	hostsFile    = "/etc/hosts"
	caBundleFile = "/etc/ssl/certs/ca-certificates.crt"
)

// mounts are the bind mounts of the browser's private view of /etc.
type mounts struct {
	hosts string // our hosts file, "" for the system's
	ca    string // our CA bundle, "" for the system's
}

func (m mounts) needed() bool { return m.hosts != "" || m.ca != "" }

// writeMounts writes into dir the hosts file that maps names to addr and
// the CA bundle that holds exactly cert (DER); nothing for what is empty.
func writeMounts(dir string, names []string, addr string, cert []byte) (mounts, error) {
	var m mounts
	if len(names) > 0 {
		ip, err := netip.ParseAddr(addr)
		if err != nil || !ip.IsLoopback() {
			return m, fmt.Errorf("webkit: the origins' names must map to a loopback address, not %q", addr)
		}
		var sb strings.Builder
		sb.WriteString("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n")
		for _, n := range slices.Sorted(slices.Values(names)) {
			if n == "" || strings.ContainsAny(n, " \t\n#*") {
				return m, fmt.Errorf("webkit: bad host name %q (one exact name per entry, no wildcards)", n)
			}
			fmt.Fprintf(&sb, "%s %s\n", ip, n)
		}
		m.hosts = filepath.Join(dir, "hosts")
		if err := os.WriteFile(m.hosts, []byte(sb.String()), 0o644); err != nil {
			return m, fmt.Errorf("webkit: write the browser's hosts file: %w", err)
		}
	}
	if len(cert) > 0 {
		m.ca = filepath.Join(dir, "ca.pem")
		if err := os.WriteFile(m.ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert}), 0o644); err != nil {
			return m, fmt.Errorf("webkit: write the browser's CA bundle: %w", err)
		}
	}
	return m, nil
}

// wrap returns the command that runs name with args in a private mount
// namespace with m's files bound over the system's; the plain command when
// m replaces nothing. unshare and sh exec in turn, so the process started is
// MiniBrowser itself. Without root it maps the user to root in a new user
// namespace (unprivileged user namespaces must be allowed).
func (m mounts) wrap(name string, args ...string) (*exec.Cmd, error) {
	if !m.needed() {
		return exec.Command(name, args...), nil
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return nil, errors.New("unshare (util-linux) is not installed")
	}
	script := "set -e\n"
	binds := []string{"-", "-"}
	if m.hosts != "" {
		script += `mount --bind "$1" ` + hostsFile + "\n"
		binds[0] = m.hosts
	}
	if m.ca != "" {
		script += `mount --bind "$2" ` + caBundleFile + "\n"
		binds[1] = m.ca
	}
	script += "shift 2\nexec \"$@\"\n"
	uargs := []string{"--mount", "--propagation", "private"}
	if os.Geteuid() != 0 {
		uargs = append([]string{"--user", "--map-root-user"}, uargs...)
	}
	uargs = append(uargs, "/bin/sh", "-c", script, "sh")
	uargs = append(uargs, binds...)
	uargs = append(uargs, name)
	uargs = append(uargs, args...)
	return exec.Command(unshare, uargs...), nil
}

// check runs `true` the way wrap runs MiniBrowser, so that a missing
// unshare, a refused mount or a missing system file is reported at launch,
// in words that say what is missing and what works without it.
func (m mounts) check(ctx context.Context, what string) error {
	if !m.needed() {
		return nil
	}
	explain := func(cause string) error {
		return fmt.Errorf("webkit: %s reach MiniBrowser through a private mount namespace (its own %s), and that is not available: %s. "+
			"It needs unshare (util-linux) and the right to mount: root, or unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1), "+
			"and the system file it replaces must exist. Without it WebKit still tests plain-HTTP origins on 127.0.0.1 "+
			"(servers.Options without Names and TLS), which need no sandbox",
			what, strings.Join(m.files(), " and "), cause)
	}
	for _, f := range m.files() {
		if _, err := os.Stat(f); err != nil {
			return explain(fmt.Sprintf("%s: %v", f, err))
		}
	}
	cmd, err := m.wrap("/bin/true")
	if err != nil {
		return explain(err.Error())
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = childEnv()
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return explain(err.Error())
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-cctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("webkit: check the mount namespace: %w", cctx.Err())
	}
	if err != nil {
		return explain(fmt.Sprintf("%v: %s", err, strings.TrimSpace(out.String())))
	}
	return nil
}

// files are the system files m replaces.
func (m mounts) files() []string {
	var out []string
	if m.hosts != "" {
		out = append(out, hostsFile)
	}
	if m.ca != "" {
		out = append(out, caBundleFile)
	}
	return out
}
