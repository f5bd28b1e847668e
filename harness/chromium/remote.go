package chromium

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Remote is a Chromium running on its own with a DevTools port on loopback,
// as a browser service would: Envs attach to it through Options.RemoteURL
// (or $CORSLAB_CHROME_URL) and leave it running when they close.
type Remote struct {
	// URL is its DevTools URL, ws://127.0.0.1:PORT/devtools/browser/ID.
	URL string
	cmd *exec.Cmd
	dir string
}

// StartRemote starts Chromium at path ("" finds it as Launch does),
// headless, with web security on and a DevTools port on 127.0.0.1, and
// returns once it listens; ctx bounds the wait. The caller must Close it.
func StartRemote(ctx context.Context, path string) (*Remote, error) {
	path, err := Find(path)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("make chrome temp folder: %w", err)
	}
	profile, tmp := filepath.Join(dir, "profile"), filepath.Join(dir, "t")
	for _, d := range []string{profile, tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("make chrome temp folder: %w", err)
		}
	}
	args := []string{"--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
		"--disable-quic", "--disable-component-update", "--disable-sync", "--password-store=basic",
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--user-data-dir=" + profile}
	if os.Geteuid() == 0 {
		args = append(args, "--no-sandbox")
	}
	cmd := exec.Command(path, append(args, "about:blank")...)
	// Its own process group, killed with corslab if corslab dies; its
	// singleton folder goes to its own TMPDIR, removed by Close.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	r := &Remote{cmd: cmd, dir: dir}
	// Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" when ready.
	found := make(chan string, 1)
	var last strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, ws, ok := strings.Cut(sc.Text(), "DevTools listening on "); ok {
				found <- strings.TrimSpace(ws)
				break
			}
			if last.Len() < 4096 {
				last.WriteString(sc.Text() + "\n")
			}
		}
		close(found)
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			r.Close()
			return nil, explainSandbox(fmt.Errorf("start %s: it exited before it listened:\n%s", path, last.String()), path)
		}
		r.URL = u
		return r, nil
	case <-ctx.Done():
		r.Close()
		return nil, fmt.Errorf("start %s: no DevTools URL announced: %w", path, ctx.Err())
	}
}

// Close kills the Chromium and its process group and removes its folders.
func (r *Remote) Close() error {
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	_ = r.cmd.Wait()
	if err := os.RemoveAll(r.dir); err != nil {
		return fmt.Errorf("remove %s: %w", r.dir, err)
	}
	return nil
}
