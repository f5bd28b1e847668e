// Package chromium is corslab's Chromium engine: it launches (or attaches
// to) Chromium and drives it over the DevTools protocol (chromedp), behind
// the harness's engine seam. Every file of corslab that speaks CDP is here.
package chromium

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/remote"
	"github.com/corslab/corslab/harness/internal/procfs"
)

// ChromeEnv is the environment variable that names the Chrome or Chromium binary to use.
const ChromeEnv = "CORSLAB_CHROME"

// InstallHint is what to do when no Chrome is found.
const InstallHint = "install Chromium with `sudo apt-get update && sudo apt-get install -y chromium` (or run `corslab install-browsers --engines chromium`), or set " + ChromeEnv + " to a Chrome or Chromium binary"

// chromeNames are looked up on PATH, in this order.
var chromeNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"}

// Find returns the Chrome binary to launch: explicit (when not empty),
// then $CORSLAB_CHROME, then the first of chromium, chromium-browser,
// google-chrome on PATH. Debian's chromium wrapper script resolves to the real
// binary beside it, so corslab controls every flag.
func Find(explicit string) (string, error) {
	candidate, from := explicit, "the ChromePath option"
	if candidate == "" {
		candidate, from = os.Getenv(ChromeEnv), "$"+ChromeEnv
	}
	if candidate != "" {
		path, err := exec.LookPath(candidate)
		if err != nil {
			return "", fmt.Errorf("chrome from %s (%q) is not an executable file: %w; %s", from, candidate, err, InstallHint)
		}
		return resolveWrapper(path), nil
	}
	for _, name := range chromeNames {
		if path, err := exec.LookPath(name); err == nil {
			return resolveWrapper(path), nil
		}
	}
	return "", fmt.Errorf("no Chrome or Chromium found on PATH (looked for %s): %s", strings.Join(chromeNames, ", "), InstallHint)
}

// resolveWrapper returns the real binary behind a Debian/Ubuntu launcher
// script (/usr/bin/chromium execs $LIBDIR/$APPNAME with extra flags and API
// keys); any other path is returned as it is.
func resolveWrapper(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte("#!")) {
		return path
	}
	var app, libdir string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "APPNAME="); ok {
			app = strings.Trim(v, `"' `)
		}
		if v, ok := strings.CutPrefix(line, "LIBDIR="); ok {
			libdir = strings.Trim(v, `"' `)
		}
	}
	if app == "" || libdir == "" {
		return path
	}
	real := filepath.Join(strings.ReplaceAll(libdir, "$APPNAME", app), app)
	if fi, err := os.Stat(real); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return real
	}
	return path
}

// ProbeVersion runs path --version and returns what it prints; an error means it is not Chrome.
func ProbeVersion(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version failed: %w", path, err)
	}
	v := strings.TrimSpace(string(out))
	if lines := strings.Split(v, "\n"); len(lines) > 1 {
		v = strings.TrimSpace(lines[len(lines)-1])
	}
	if !strings.Contains(v, "Chrom") {
		return "", fmt.Errorf("%s is not Chrome or Chromium: --version printed %q; %s", path, trunc(v, 80), InstallHint)
	}
	return v, nil
}

// browser is one launched (or attached) Chrome.
type browser struct {
	ctx         context.Context // the chromedp browser context: tabs derive from it
	cancel      context.CancelFunc
	cancelAlloc context.CancelFunc
	dir         string // our temp folder: profile and Chrome's TMPDIR; removed on close
	path        string // the binary, or the DevTools URL of an attached browser
	version     string
	pid         int  // 0 for an attached browser
	remote      bool // attached: corslab never closes it, only its own tabs
}

// launchConfig is what the browser must know about the origins.
type launchConfig struct {
	path         string
	remoteURL    string // attach to this DevTools URL instead of launching
	hostRule     string
	spki         string
	extraFlags   map[string]string
	thirdParty   bool // allow third-party cookies
	startTimeout time.Duration
}

// tempPrefix names corslab's Chrome folders in the temp dir.
const tempPrefix = "corslab-chrome-"

// start launches Chrome, or attaches to the one at cfg.remoteURL.
func start(ctx context.Context, cfg launchConfig) (*browser, error) {
	if cfg.remoteURL != "" {
		return attach(ctx, cfg)
	}
	return launch(ctx, cfg)
}

// launch starts Chrome with web security on and the flags docs/engines/chromium.md lists.
func launch(ctx context.Context, cfg launchConfig) (*browser, error) {
	version, err := ProbeVersion(ctx, cfg.path)
	if err != nil {
		return nil, err
	}
	sweepStale()
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("make chrome temp folder: %w", err)
	}
	profile, tmp := filepath.Join(dir, "profile"), filepath.Join(dir, "t")
	// Chrome's singleton socket lives in its TMPDIR and a unix socket path is
	// at most 107 bytes; past that Chrome dies with "Socket path too long".
	if n := len(tmp) + len("/org.chromium.Chromium.XXXXXX/SingletonSocket"); n > 107 {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("chrome temp folder %s is too deep: Chrome's singleton socket path would be %d bytes, over the 107 a unix socket allows; set TMPDIR to a shorter folder", tmp, n)
	}
	for _, d := range []string{filepath.Join(profile, "Default"), tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("make chrome temp folder: %w", err)
		}
	}
	if cfg.thirdParty {
		// Measured in Chromium 156: with this preference written before launch,
		// third-party cookies are allowed (cookie_controls_mode 1 blocks them).
		prefs := []byte(`{"profile":{"cookie_controls_mode":0}}`)
		if err := os.WriteFile(filepath.Join(profile, "Default", "Preferences"), prefs, 0o600); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("write chrome preferences: %w", err)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(cfg.path),
		chromedp.UserDataDir(profile),
		// Chrome's singleton folders land in its TMPDIR: ours, removed on close.
		chromedp.Env("TMPDIR="+tmp),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			if cmd.SysProcAttr == nil {
				cmd.SysProcAttr = &syscall.SysProcAttr{}
			}
			// Its own process group: a Ctrl-C at the terminal reaches corslab,
			// which closes Chrome gracefully, instead of killing Chrome first.
			cmd.SysProcAttr.Setpgid = true
			cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
		}),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	opts = append(opts, siteFlags(cfg)...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel := chromedp.NewContext(allocCtx)
	b := &browser{ctx: bctx, cancel: cancel, cancelAlloc: cancelAlloc, dir: dir, path: cfg.path, version: version}
	if err := b.first(ctx, cfg.startTimeout); err != nil {
		b.close()
		return nil, explainSandbox(fmt.Errorf("launch %s (%s): %w", cfg.path, version, err), cfg.path)
	}
	if c := chromedp.FromContext(bctx); c != nil && c.Browser != nil && c.Browser.Process() != nil {
		b.pid = c.Browser.Process().Pid
	}
	return b, nil
}

// siteFlags are the flags that connect Chrome to corslab's origins.
func siteFlags(cfg launchConfig) []chromedp.ExecAllocatorOption {
	var opts []chromedp.ExecAllocatorOption
	if cfg.hostRule != "" {
		opts = append(opts, chromedp.Flag("host-resolver-rules", cfg.hostRule))
	}
	if cfg.spki != "" {
		// Trust exactly our certificate's key; never a blanket ignore.
		opts = append(opts, chromedp.Flag("ignore-certificate-errors-spki-list", cfg.spki))
	}
	for k, v := range cfg.extraFlags {
		switch v {
		case "true":
			opts = append(opts, chromedp.Flag(k, true))
		case "false":
			opts = append(opts, chromedp.Flag(k, false))
		default:
			opts = append(opts, chromedp.Flag(k, v))
		}
	}
	return opts
}

// attach connects to a Chrome that already runs (a browser service, or one
// started with --remote-debugging-port). Its flags are its own: names and
// certificates need the remote Chrome started with the matching flags.
func attach(ctx context.Context, cfg launchConfig) (*browser, error) {
	allocCtx, cancelAlloc := remote.NewAllocator(context.Background(), cfg.remoteURL)
	bctx, cancel := chromedp.NewContext(allocCtx)
	b := &browser{ctx: bctx, cancel: cancel, cancelAlloc: cancelAlloc, path: cfg.remoteURL, remote: true}
	if err := b.first(ctx, cfg.startTimeout); err != nil {
		b.close()
		return nil, fmt.Errorf("attach to the browser at %s: %w", cfg.remoteURL, err)
	}
	v, err := chromedp.CallBrowser(bctx, cdpbrowser.GetVersion, cdp.Empty{})
	if err != nil {
		b.close()
		return nil, fmt.Errorf("attach to the browser at %s: Browser.getVersion: %w", cfg.remoteURL, err)
	}
	b.version = v.Product + " (attached)"
	return b, nil
}

// first runs the first action, which binds Chrome's life to b.ctx; so it
// cannot take the caller's deadline, and ctx bounds it from outside.
func (b *browser) first(ctx context.Context, timeout time.Duration) error {
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(b.ctx) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-started:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("no answer after %s", timeout)
	}
}

// alive reports whether the browser still runs.
func (b *browser) alive() bool { return b.ctx.Err() == nil }

// close shuts Chrome down gracefully (Browser.close), kills its process group
// if it does not go within a few seconds, and removes its temp folder. An
// attached browser is left running: only corslab's tabs and contexts go.
func (b *browser) close() error {
	if b.remote {
		b.cancel()
		b.cancelAlloc()
		return nil
	}
	var errs []error
	done := make(chan error, 1)
	go func() { done <- chromedp.Cancel(b.ctx) }()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, chromedp.ErrInvalidContext) {
			errs = append(errs, fmt.Errorf("close chrome: %w", err))
		}
	case <-t.C:
		errs = append(errs, errors.New("close chrome: Browser.close got no answer in 5s; killed it"))
	}
	b.cancel()
	b.cancelAlloc()
	if b.pid > 0 {
		// The last resort; a no-op when Chrome already went.
		_ = syscall.Kill(-b.pid, syscall.SIGKILL)
	}
	if b.dir != "" {
		if err := procfs.RemoveAll(b.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove chrome temp folder: %w", err))
		}
	}
	return errors.Join(errs...)
}

// sweepStale removes the folders of corslab Chromes that died with their
// process (a SIGKILL or os.Exit skips every cleanup). A folder is stale when
// its SingletonLock names a process that no longer runs.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, dir := range dirs {
		target, err := os.Readlink(filepath.Join(dir, "profile", "SingletonLock"))
		if err != nil {
			continue // no lock yet: a Chrome may be starting; leave it
		}
		i := strings.LastIndexByte(target, '-')
		pid, err := strconv.Atoi(target[i+1:])
		if err != nil || pid <= 0 {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(dir)
		}
	}
}

// rss returns the summed PSS of the Chrome process group in bytes; 0 for an
// attached browser or when /proc cannot be read.
func (b *browser) rss() int64 {
	if b.pid <= 0 {
		return 0
	}
	return procfs.PSS(procfs.GroupPIDs(b.pid)...)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
