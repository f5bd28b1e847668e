package chromium

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDebianWrapperResolvesToTheRealBinary(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "lib", "chromium", "chromium")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("\x7fELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(dir, "chromium")
	script := "#!/bin/sh\nAPPNAME=chromium\nLIBDIR=" + filepath.Join(dir, "lib") + "/$APPNAME\nexec $LIBDIR/$APPNAME \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := resolveWrapper(wrapper); got != real {
		t.Errorf("resolveWrapper(wrapper) = %s, want %s", got, real)
	}
	if got := resolveWrapper(real); got != real {
		t.Errorf("resolveWrapper(binary) = %s, want it unchanged", got)
	}
}
