package push

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// checkPolicies applies every policy before a send. It reserves the cap
// counters the delivery uses (recorded in it.Caps, persisted with the
// send-started mark) and returns a skip reason, or "" to send. A delivery
// that quiet hours hold back while its deadline allows comes back with its
// reason and it.DeferredUntil set: skip defers it.
func (s *Service) checkPolicies(ctx context.Context, it *qunyun.DeliveryRecord, g *qunyun.Group, a *qunyun.Account, customerGroup bool) (string, error) {
	d := it.Delivery
	now := s.now()
	if g != nil && d.TargetKind != qunyun.TargetStaff {
		switch {
		case g.State == qunyun.GroupDismissed:
			return qunyun.ReasonDismissed, nil
		case g.State == qunyun.GroupPaused:
			return qunyun.ReasonPaused, nil
		}
		if reason := healthHolds(d, *g, now); reason != "" {
			return reason, nil
		}
	}
	if expired(d, now) {
		return qunyun.ReasonExpired, nil
	}
	loc := qunyun.LoadLocation("")
	caps := qunyun.Group{}.EffectiveCaps()
	if g != nil {
		loc, caps = g.Location(), g.EffectiveCaps()
	}
	local := now.In(loc)
	if quietHolds(d) && InQuietHours(local, caps) {
		// Held back until the quiet hours end, if it is still worth sending
		// then; skip (below) defers it rather than skipping it.
		next := QuietEnd(local, caps)
		switch {
		case d.Deadline.IsZero():
			return qunyun.ReasonQuietHours, nil // stored before deadlines existed
		case !next.Before(d.Deadline):
			return qunyun.ReasonExpired, nil
		}
		it.DeferredUntil = next
		return qunyun.ReasonQuietHours, nil
	}
	want := budget(d, g, caps, local, customerGroup)
	switch d.TargetKind {
	case qunyun.TargetMember:
		// Fatigue protects the person, whatever the message is for.
		want = append(want, capWant{qunyun.MemberDayCap(d.TargetID, local.Format(time.DateOnly)), qunyun.DefaultMemberDailyMax, 48 * time.Hour, qunyun.ReasonFatigue})
		if a != nil && a.Kind == qunyun.ChannelOA {
			last, err := s.Store.Log.LastMessageSince(ctx, a.ID, d.TargetID, now.Add(-qunyun.CSWindowHours*time.Hour))
			if err != nil {
				return "", err
			}
			if last.IsZero() || now.Sub(last) >= qunyun.CSWindowHours*time.Hour {
				return qunyun.ReasonCSWindow, nil
			}
			want = append(want, capWant{qunyun.CSWindowCap(d.TargetID, last), qunyun.CSWindowMax, 50 * time.Hour, qunyun.ReasonCSQuota})
		}
	}
	var got []string
	for _, w := range want {
		ok, err := s.Store.Deliveries.ReserveCap(ctx, w.counter, w.max, w.ttl, it.ID)
		if err != nil {
			return "", errors.Join(err, s.releaseCaps(ctx, it.ID, got))
		}
		if !ok {
			return w.reason, s.releaseCaps(ctx, it.ID, got)
		}
		got = append(got, w.counter.String())
	}
	it.Caps = got
	return "", nil
}

type capWant struct {
	counter qunyun.CapCounter
	max     int
	ttl     time.Duration
	reason  string
}

// InQuietHours reports whether local time t falls in the caps' quiet hours
// ("22:00"–"08:00" wraps midnight; equal bounds mean none).
func InQuietHours(t time.Time, c qunyun.Caps) bool {
	start, ok1 := minuteOfDay(c.QuietStart)
	end, ok2 := minuteOfDay(c.QuietEnd)
	if !ok1 || !ok2 || start == end {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	if start < end {
		return m >= start && m < end
	}
	return m >= start || m < end
}

func minuteOfDay(hhmm string) (int, bool) {
	var h, m int
	if _, err := fmt.Sscanf(strings.TrimSpace(hhmm), "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// DaysIn is the number of days in t's month: the platform's monthly cap of
// tasks per customer group.
func DaysIn(t time.Time) int {
	return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, t.Location()).Day()
}
