package clock

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// EnvFile names the variable that points FromEnv at a stepped clock's file.
const EnvFile = "QUNYUN_CLOCK_FILE"

// recordSize is the clock file's record: the virtual time in Unix
// nanoseconds, written twice. A reader that sees two different halves read
// while the writer was writing and reads again.
const recordSize = 16

// Stepped is a clock that moves only when told to (Set) and shares its time
// with other processes through a file, which FileClock reads. The local
// stack uses it for discrete-event runs (qunyun simulate): virtual time
// advances when the driver says, so a slow machine cannot change what the
// functions see.
type Stepped struct {
	mu  sync.Mutex
	now time.Time
	f   *os.File
}

// NewStepped creates (or truncates) the clock file at path and sets it to t.
func NewStepped(path string, t time.Time) (*Stepped, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("stepped clock: %w", err)
	}
	t = time.Unix(0, t.UnixNano()).UTC() // as readers of the file see it
	s := &Stepped{f: f, now: t}
	if err := s.write(t); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// Now returns the time last set.
func (s *Stepped) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Set moves the clock to t. Time never goes back: a t before the current
// time is ignored.
func (s *Stepped) Set(t time.Time) error {
	t = time.Unix(0, t.UnixNano()).UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !t.After(s.now) {
		return nil
	}
	if err := s.write(t); err != nil {
		return err
	}
	s.now = t
	return nil
}

// Close closes the clock file; the file stays for readers that have it open.
func (s *Stepped) Close() error { return s.f.Close() }

func (s *Stepped) write(t time.Time) error {
	var b [recordSize]byte
	n := uint64(t.UnixNano())
	binary.LittleEndian.PutUint64(b[:8], n)
	binary.LittleEndian.PutUint64(b[8:], n)
	if _, err := s.f.WriteAt(b[:], 0); err != nil {
		return fmt.Errorf("stepped clock: write: %w", err)
	}
	return nil
}

// FileClock reads a Stepped clock's time from its file, in another process.
type FileClock struct {
	f    *os.File
	last atomic.Int64 // the last time read, returned if a read fails
}

// OpenFile opens a Stepped clock's file for reading.
func OpenFile(path string) (*FileClock, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s=%q: %w", EnvFile, path, err)
	}
	c := &FileClock{f: f}
	if _, err := c.read(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s=%q: %w", EnvFile, path, err)
	}
	return c, nil
}

// Now returns the time in the file. Should the file become unreadable, it
// returns the last time read: the clock stops rather than jump.
func (c *FileClock) Now() time.Time {
	n, err := c.read()
	if err != nil {
		n = c.last.Load()
	}
	return time.Unix(0, n).UTC()
}

// read reads the record until both halves agree.
func (c *FileClock) read() (int64, error) {
	var b [recordSize]byte
	for {
		if _, err := c.f.ReadAt(b[:], 0); err != nil {
			return 0, fmt.Errorf("read clock file: %w", err)
		}
		first, second := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
		if first == second {
			c.last.Store(int64(first))
			return int64(first), nil
		}
	}
}
