package webkit

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// xvfbInstall is what to run when Xvfb or MiniBrowser is missing.
const xvfbInstall = "apt-get install -y --no-install-recommends libwebkit2gtk-4.1-0 xvfb"

// display is an Xvfb server that picked its own free display number (-displayfd).
type display struct {
	proc *proc
	num  int
}

// startXvfb starts Xvfb in its own process group; it gets SIGTERM when we
// die, which lets it remove its socket and lock file.
func startXvfb(ctx context.Context) (*display, error) {
	path, err := exec.LookPath("Xvfb")
	if err != nil {
		return nil, fmt.Errorf("webkit: MiniBrowser needs an X display and Xvfb is not installed (%s): %w", xvfbInstall, err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("webkit: start Xvfb: %w", err)
	}
	defer r.Close()
	// fd 3 in the child is ExtraFiles[0].
	cmd := exec.Command(path, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1280x800x24", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	cmd.Env = childEnv()
	p, err := startProc(cmd, syscall.SIGTERM)
	w.Close()
	if err != nil {
		return nil, fmt.Errorf("webkit: start Xvfb: %w", err)
	}
	type answer struct {
		line string
		err  error
	}
	ch := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		ch <- answer{line, err}
	}()
	fail := func(err error) (*display, error) {
		p.stop(syscall.SIGTERM, time.Second)
		return nil, fmt.Errorf("webkit: start Xvfb: %w", err)
	}
	select {
	case a := <-ch:
		if a.err != nil {
			<-p.done
			return fail(fmt.Errorf("it reported no display (%v): %v", a.err, p.exitError()))
		}
		n, err := strconv.Atoi(strings.TrimSpace(a.line))
		if err != nil {
			return fail(fmt.Errorf("bad display number %q", a.line))
		}
		d := &display{proc: p, num: n}
		if onStart != nil {
			onStart(p.pid(), n)
		}
		return d, nil
	case <-ctx.Done():
		return fail(ctx.Err())
	}
}

func (d *display) name() string { return ":" + strconv.Itoa(d.num) }

// files are the socket and lock file Xvfb owns for its display.
func (d *display) files() []string {
	return []string{fmt.Sprintf("/tmp/.X11-unix/X%d", d.num), fmt.Sprintf("/tmp/.X%d-lock", d.num)}
}

// close stops Xvfb and makes sure its socket and lock file are gone.
func (d *display) close() error {
	d.proc.stop(syscall.SIGTERM, 2*time.Second)
	// Xvfb removes them on SIGTERM; after a SIGKILL they stay. Remove them
	// only while the lock still names our Xvfb: another server may already
	// have taken the display number over.
	lock := d.files()[1]
	b, err := os.ReadFile(lock)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("webkit: read %s: %w", lock, err)
	}
	if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid != d.proc.pid() {
		return nil
	}
	var errs []error
	for _, f := range d.files() {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
