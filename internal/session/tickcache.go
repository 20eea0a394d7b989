package session

import (
	"context"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// ListTTL is how long a warm container reuses the tick's list of current
// sessions before reading it again. The list only says which sessions to
// look at: Advance reads each one afresh before it acts, so a stale list
// costs at most a needless read, and a session created or cancelled
// elsewhere is seen within ListTTL (sessions are planned days ahead; the
// cancel notice is not that urgent). It saves half the tick's queries,
// which is what limits how fast the local stack's clock can run.
const ListTTL = 2 * time.Minute

// tickMemory is what a Service remembers between ticks; zero means cold.
type tickMemory struct {
	warm     sync.Once // the segmenter, loaded in the background
	mu       sync.Mutex
	at       time.Time // when list was read
	list     []qunyun.Session
	from, to time.Time // the window it covers
	planned  time.Time // the latest week start seen marked planned
}

// weekPlanned reports whether this container already saw week marked
// planned, saving the tick a read a minute: a marker is never removed.
func (m *tickMemory) weekPlanned(week time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !week.After(m.planned) && !m.planned.IsZero()
}

func (m *tickMemory) markWeekPlanned(week time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if week.After(m.planned) {
		m.planned = week
	}
}

// currentSessions returns the sessions starting in [from, to), read again
// when the remembered list is older than ListTTL or does not cover the
// window.
func (s *Service) currentSessions(ctx context.Context, now, from, to time.Time) ([]qunyun.Session, error) {
	m := &s.memory
	m.mu.Lock()
	fresh := !m.at.IsZero() && !now.Before(m.at) && now.Sub(m.at) < ListTTL &&
		!from.Before(m.from) && !to.After(m.to)
	list := m.list
	m.mu.Unlock()
	if fresh {
		return list, nil
	}
	// Read a little further ahead than asked, so the list still covers the
	// window of the next ticks.
	list, err := s.Sessions.SessionsStarting(ctx, from, to.Add(ListTTL))
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.at, m.list, m.from, m.to = now, list, from, to.Add(ListTTL)
	m.mu.Unlock()
	return list, nil
}

// warmUp starts loading the segmenter (a second or two: its dictionary) in
// the background on a container's first tick, so the first recap does not
// stall the tick that builds it; a recap that comes first waits for the
// same load (segment.Shared loads once).
func (s *Service) warmUp() {
	s.memory.warm.Do(func() {
		go func() {
			if _, err := s.segmenter(); err != nil {
				s.log().Warn("session: segmenter warm-up", "err", err)
			}
		}()
	})
}
