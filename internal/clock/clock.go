// Package clock gives every part of Qunyun the current time through an
// injected Clock, so tests and the local stack can run a day in minutes.
// In Lambda the clock is the real one; locally it may be scaled (see FromEnv).
// It must not hold any other state.
package clock

import (
	"fmt"
	"strconv"
	"sync"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Scaled runs from Start at Speed times real time, counted from RealStart.
// Every process given the same three values agrees on the time, which is how
// the local stack's functions share one fast clock.
type Scaled struct {
	Start     time.Time // virtual time at RealStart
	RealStart time.Time
	Speed     float64
	real      func() time.Time
}

// NewScaled returns a clock that starts at start now and runs speed times faster.
func NewScaled(start time.Time, speed float64) *Scaled {
	return &Scaled{Start: start, RealStart: time.Now(), Speed: speed}
}

// Now returns the virtual time.
func (s *Scaled) Now() time.Time {
	now := time.Now
	if s.real != nil {
		now = s.real
	}
	elapsed := now().Sub(s.RealStart)
	return s.Start.Add(time.Duration(float64(elapsed) * s.Speed))
}

// RealDuration converts a virtual duration into the real time it takes.
func (s *Scaled) RealDuration(virtual time.Duration) time.Duration {
	if s.Speed <= 0 {
		return virtual
	}
	return time.Duration(float64(virtual) / s.Speed)
}

// Env names the variables FromEnv reads.
const (
	EnvStart = "QUNYUN_CLOCK_START" // "<virtual RFC 3339>@<real RFC 3339>"
	EnvSpeed = "QUNYUN_CLOCK_SPEED" // e.g. "1440" = a day a minute
)

// FromEnv returns a FileClock when QUNYUN_CLOCK_FILE is set (a stepped clock
// shared by the local stack), the Real clock when no variable is set, and a
// Scaled clock otherwise. QUNYUN_CLOCK_START is "virtual@real": the virtual time at
// the real instant, both RFC 3339; a bare virtual time means "at process start".
func FromEnv(getenv func(string) string) (Clock, error) {
	if path := getenv(EnvFile); path != "" {
		return OpenFile(path)
	}
	start, speedS := getenv(EnvStart), getenv(EnvSpeed)
	if start == "" && (speedS == "" || speedS == "1") {
		return Real{}, nil
	}
	speed := 1.0
	if speedS != "" {
		v, err := strconv.ParseFloat(speedS, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%s=%q: want a positive number", EnvSpeed, speedS)
		}
		speed = v
	}
	s := &Scaled{Start: time.Now(), RealStart: time.Now(), Speed: speed}
	if start != "" {
		virt, real, hasReal := cut(start)
		v, err := time.Parse(time.RFC3339Nano, virt)
		if err != nil {
			return nil, fmt.Errorf("%s=%q: virtual time: %w", EnvStart, start, err)
		}
		s.Start = v
		if hasReal {
			r, err := time.Parse(time.RFC3339Nano, real)
			if err != nil {
				return nil, fmt.Errorf("%s=%q: real time: %w", EnvStart, start, err)
			}
			s.RealStart = r
		}
	}
	return s, nil
}

// EnvValue formats a Scaled clock for FromEnv in another process.
func (s *Scaled) EnvValue() string {
	return s.Start.UTC().Format(time.RFC3339Nano) + "@" + s.RealStart.UTC().Format(time.RFC3339Nano)
}

func cut(s string) (before, after string, found bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '@' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// Manual is a clock for tests: it stands still until Set or Advance.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a Manual clock at t.
func NewManual(t time.Time) *Manual { return &Manual{now: t} }

// Now returns the set time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.now = t
	m.mu.Unlock()
}

// Advance moves the clock forward by d.
func (m *Manual) Advance(d time.Duration) {
	m.mu.Lock()
	m.now = m.now.Add(d)
	m.mu.Unlock()
}
