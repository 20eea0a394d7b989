package runner_test

import (
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/local/runner"
)

func TestLockDirMakesTheSecondWait(t *testing.T) {
	dir := t.TempDir()
	unlock, err := runner.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		unlock2, err := runner.LockDir(dir)
		if err != nil {
			t.Error(err)
		} else {
			unlock2()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("a second lock was taken while the first was held")
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the second lock was not taken after the first was released")
	}
}
