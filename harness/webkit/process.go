package webkit

import (
	"errors"
	"fmt"
	"github.com/corslab/corslab/harness/internal/procfs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a child started in its own process group, so that it and every
// process it starts (WebKit's web and network processes) can be signalled
// together, and with a parent-death signal, so that it does not outlive us.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has been waited for
	err  error         // its exit status, set before done closes
}

// onStart, when set (by tests), is told of every process group started and
// of every display Xvfb took, so that leftovers can be looked for.
var onStart func(pgid, display int)

// startProc starts cmd in a new process group with deathSig as its parent-death signal.
func startProc(cmd *exec.Cmd, deathSig syscall.Signal) (*proc, error) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = deathSig
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	if onStart != nil {
		onStart(cmd.Process.Pid, -1)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop signals the group with sig, waits up to grace for the leader, then
// kills the whole group and waits until no live process of it is left.
//
// The leader's helpers go first, while it still runs and reaps them: killed
// with it, they would end as zombies of init, which a container's init may
// leave for seconds.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) {
	pgid := p.pid()
	var helpers []int
	for _, pid := range procfs.GroupPIDs(pgid) {
		if pid != pgid {
			helpers = append(helpers, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	reaped := time.Now().Add(time.Second)
	for !p.exited() && anyExists(helpers) && time.Now().Before(reaped) {
		time.Sleep(5 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, sig)
	t := time.NewTimer(grace)
	select {
	case <-p.done:
		t.Stop()
	case <-t.C:
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
	// Children of the leader (WebKit's helpers) may outlive it briefly.
	deadline := time.Now().Add(3 * time.Second)
	for groupAlive(pgid) && time.Now().Before(deadline) {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		time.Sleep(10 * time.Millisecond)
	}
}

// anyExists reports whether any of pids is still in the process table,
// a zombie not yet reaped included.
func anyExists(pids []int) bool {
	for _, pid := range pids {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			return true
		}
	}
	return false
}

// groupAlive reports whether any live process is left in process group
// pgid. A zombie does not count: it has ended and only waits for its new
// parent (init) to reap it, which may take a while in a container.
func groupAlive(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil && len(procfs.GroupPIDs(pgid)) > 0
}

// processName returns the command name of pid ("" when it is gone).
func processName(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// exitError describes how p ended, for errors.
func (p *proc) exitError() error {
	if !p.exited() {
		return nil
	}
	if p.err == nil {
		return errors.New("exited with status 0")
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Errorf("killed by signal %v", ws.Signal())
		}
	}
	return p.err
}

// childEnv is this process's environment without what would steer the
// browser elsewhere (proxies: the guard is its proxy; display, session bus,
// XDG folders, inspector settings), with TMPDIR set to the harness's temp
// folder, so that every child names it and a leak check can find it.
func childEnv() []string {
	out := []string{"TMPDIR=" + os.TempDir()}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToLower(k) {
		case "http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy",
			"display", "wayland_display", "dbus_session_bus_address",
			"xdg_data_home", "xdg_cache_home", "xdg_config_home", "xdg_runtime_dir",
			"webkit_inspector_http_server", "webkit_inspector_server", "tmpdir":
			continue
		}
		out = append(out, kv)
	}
	return out
}
