package clock

import (
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestSteppedSharesItsTimeThroughTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock")
	start := time.Date(2026, 11, 23, 8, 0, 0, 123, time.UTC)
	w, err := NewStepped(path, start)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c, err := FromEnv(func(k string) string {
		if k == EnvFile {
			return path
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); !got.Equal(start) {
		t.Fatalf("reader at %v, want %v", got, start)
	}
	next := start.Add(90 * time.Second)
	if err := w.Set(next); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); !got.Equal(next) {
		t.Fatalf("after Set: reader at %v, want %v", got, next)
	}
	if got := w.Now(); !got.Equal(next) {
		t.Fatalf("after Set: writer at %v, want %v", got, next)
	}
	// Never back.
	if err := w.Set(start); err != nil {
		t.Fatal(err)
	}
	if got := c.Now(); !got.Equal(next) {
		t.Fatalf("after Set back: reader at %v, want %v still", got, next)
	}
}

func TestFileClockMissingFileIsAnError(t *testing.T) {
	_, err := FromEnv(func(k string) string {
		if k == EnvFile {
			return filepath.Join(t.TempDir(), "none")
		}
		return ""
	})
	if err == nil {
		t.Fatal("no error for a missing clock file")
	}
}

// A reader running beside the writer only ever sees times the writer set,
// in order.
func TestFileClockReadsWholeTimesWhileWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clock")
	start := time.Unix(0, 0x0102030405060708).UTC()
	w, err := NewStepped(path, start)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const steps = 20000
	// Steps that change every byte, so a torn read would show.
	step := time.Duration(0x0101010101010101 / steps)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= steps; i++ {
			w.Set(start.Add(time.Duration(i) * step))
		}
	}()
	last := start
	for i := 0; i < steps; i++ {
		got := r.Now()
		if got.Before(last) {
			t.Fatalf("read %v after %v: went back", got, last)
		}
		if off := got.Sub(start); off%step != 0 || off > steps*step {
			t.Fatalf("read %v: never set (torn read)", got)
		}
		last = got
	}
	wg.Wait()
	if got := r.Now(); !got.Equal(start.Add(steps * step)) {
		t.Fatalf("finally %v, want %v", got, start.Add(steps*step))
	}
}
