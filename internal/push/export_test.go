package push

import (
	"context"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// CrashAfterSend makes the service stop, like a dead process, right after
// the send of every delivery for which crash returns true.
func CrashAfterSend(s *Service, crash func(qunyun.Delivery) bool) { s.crashAfterSend = crash }

// PlanAndClaim expands minute m and claims every delivery without sending:
// the first half of a tick, for the benchmark. It returns how many were
// claimed.
func PlanAndClaim(ctx context.Context, s *Service, m time.Time) (int, error) {
	plans, err := s.Store.Catalog.Plans(ctx)
	if err != nil {
		return 0, err
	}
	groups, err := s.Store.Catalog.Groups(ctx)
	if err != nil {
		return 0, err
	}
	jobs, err := s.expand(ctx, plans, groups, m)
	if err != nil {
		return 0, err
	}
	claimed := make(chan bool, len(jobs))
	sem := make(chan struct{}, s.workers())
	errs := make(chan error, len(jobs))
	for _, j := range jobs {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			ok, _, err := s.Store.Deliveries.ClaimDelivery(ctx, j.item)
			errs <- err
			claimed <- ok
		}()
	}
	n := 0
	for range jobs {
		if err := <-errs; err != nil {
			return n, err
		}
		if <-claimed {
			n++
		}
	}
	return n, nil
}
