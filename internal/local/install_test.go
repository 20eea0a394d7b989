package local

import (
	"os"
	"path/filepath"
	"testing"
)

// An installed binary keeps the bytes it was installed with when the build
// output is replaced (as go build does) and is never rewritten in place, so a
// process running it is not disturbed.
func TestInstallBinaryKeepsItsBytes(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "push"), filepath.Join(dir, "PushFunction", "bootstrap")
	write := func(path, text string) {
		t.Helper()
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	write(src, "build 1")
	if err := installBinary(src, dst); err != nil {
		t.Fatal(err)
	}
	running, err := os.Open(dst) // a process holding the first install
	if err != nil {
		t.Fatal(err)
	}
	defer running.Close()

	write(src, "build 2") // the next go build replaces its output
	if got := read(dst); got != "build 1" {
		t.Fatalf("installed binary changed with its source: %q", got)
	}
	if err := installBinary(src, dst); err != nil {
		t.Fatal(err)
	}
	if got := read(dst); got != "build 2" {
		t.Fatalf("reinstall: %q", got)
	}
	held := make([]byte, 16)
	n, _ := running.ReadAt(held, 0)
	if string(held[:n]) != "build 1" {
		t.Fatalf("the running binary was rewritten: %q", held[:n])
	}
	if info, err := os.Stat(dst); err != nil || info.Mode().Perm()&0o100 == 0 {
		t.Fatalf("installed binary not executable: %v %v", info, err)
	}
	if _, err := os.Stat(dst + ".new"); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
}
