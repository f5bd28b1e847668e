package procfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestAGroupItsMemoryAndItsEnd(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if got := GroupPIDs(pid); !slices.Equal(got, []int{pid}) {
		t.Errorf("GroupPIDs(%d) = %v, want the sleep alone", pid, got)
	}
	if !Alive(pid) {
		t.Errorf("Alive(%d) = false for a running sleep", pid)
	}
	if PSS(pid) <= 0 {
		t.Errorf("PSS(%d) = %d, want some memory", pid, PSS(pid))
	}
	// Killed and not reaped (nobody waits yet): a zombie, which counts
	// neither as alive nor as a member of the group.
	_ = cmd.Process.Kill()
	deadline := time.Now().Add(5 * time.Second)
	for f := stat(strconv.Itoa(pid)); (len(f) == 0 || f[0] != "Z") && time.Now().Before(deadline); f = stat(strconv.Itoa(pid)) {
		time.Sleep(5 * time.Millisecond)
	}
	if f := stat(strconv.Itoa(pid)); len(f) == 0 || f[0] != "Z" {
		t.Fatalf("the killed sleep is not a zombie: %v", f)
	}
	if Alive(pid) || len(GroupPIDs(pid)) != 0 {
		t.Errorf("a zombie: Alive %v, GroupPIDs %v; want neither", Alive(pid), GroupPIDs(pid))
	}
	_ = cmd.Wait()
}

func TestRemoveAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "x")
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", dir, err)
	}
}
