package session

import (
	"context"
	"fmt"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// NextWeekStart is the Monday 00:00 (Asia/Shanghai) after t.
func NextWeekStart(t time.Time) time.Time {
	local := t.In(qunyun.LoadLocation(""))
	days := (8 - int(local.Weekday())) % 7
	if days == 0 {
		days = 7
	}
	return time.Date(local.Year(), local.Month(), local.Day()+days, 0, 0, 0, 0, local.Location())
}

// WeekStart is the Monday 00:00 (Asia/Shanghai) at or before t: the
// planning week t is in.
func WeekStart(t time.Time) time.Time {
	return NextWeekStart(t).AddDate(0, 0, -7)
}

// planIfDue plans the current week if no run has planned it yet, and next
// week on the first tick at or after Sunday 20:00 Shanghai time (and on any
// later tick until Monday if that failed). The current week matters on a
// first deploy: waiting for Sunday would leave its rest without sessions.
// The marker is written after the sessions, and planning is idempotent
// (deterministic ids, booked sessions count), so a crash only repeats it.
func (s *Service) planIfDue(ctx context.Context, now time.Time) error {
	weeks := []time.Time{WeekStart(now)}
	local := now.In(qunyun.LoadLocation(""))
	if local.Weekday() == PlanAt.Day && local.Hour() >= PlanAt.Hour {
		weeks = append(weeks, NextWeekStart(now))
	}
	for _, week := range weeks {
		if s.memory.weekPlanned(week) {
			continue
		}
		done, err := s.Sessions.WeekPlanned(ctx, week)
		if err != nil {
			return err
		}
		if !done {
			if _, err := s.PlanAndMark(ctx, week); err != nil {
				return err
			}
		}
		s.memory.markWeekPlanned(week)
	}
	return nil
}

// PlanAndMark plans the week, creates its sessions and marks it planned
// with the unmet demands: what the tick does, and `qunyun plan --apply`.
func (s *Service) PlanAndMark(ctx context.Context, week time.Time) (Plan, error) {
	plan, err := s.PlanWeek(ctx, week, false)
	if err != nil {
		return plan, err
	}
	var unmet []string
	for _, u := range plan.Unmet {
		s.log().Warn("session: unmet demand", "week", week.Format(time.DateOnly), "group", u.GroupID, "wanted", u.Wanted, "planned", u.Planned, "reason", u.Reason)
		unmet = append(unmet, u.String())
	}
	_, err = s.Sessions.MarkWeekPlanned(ctx, week, len(plan.Sessions), unmet)
	return plan, err
}

// PlanWeek plans the week starting at weekStart from the table's groups,
// hosts, targets and sessions, and (unless dryRun) creates the sessions.
// The CLI calls it; the tick calls it on Sunday evening.
func (s *Service) PlanWeek(ctx context.Context, weekStart time.Time, dryRun bool) (Plan, error) {
	groups, err := s.Catalog.Groups(ctx)
	if err != nil {
		return Plan{}, fmt.Errorf("plan week: %w", err)
	}
	hosts, err := s.Catalog.Hosts(ctx)
	if err != nil {
		return Plan{}, fmt.Errorf("plan week: %w", err)
	}
	targets, err := s.Catalog.SessionTargets(ctx)
	if err != nil {
		return Plan{}, fmt.Errorf("plan week: %w", err)
	}
	// History for rotation and limits: the lookback, this week, and a day
	// after it (rest time across the boundary).
	sessions, err := s.Sessions.SessionsStarting(ctx, weekStart.Add(-rotationLookback), weekStart.Add(8*24*time.Hour))
	if err != nil {
		return Plan{}, fmt.Errorf("plan week: %w", err)
	}
	// Never book a session so soon that its host cannot be reminded.
	notBefore := s.Clock.Now().Add(RemindBefore + 30*time.Minute)
	plan := PlanWeek(PlanInput{WeekStart: weekStart, Groups: groups, Hosts: hosts, Targets: targets, Sessions: sessions, NotBefore: notBefore})
	if dryRun {
		return plan, nil
	}
	for _, ss := range plan.Sessions {
		if _, err := s.Sessions.CreateSession(ctx, ss); err != nil {
			return plan, fmt.Errorf("plan week %s: %w", weekStart.Format(time.DateOnly), err)
		}
	}
	s.log().Info("session: week planned", "week", weekStart.Format(time.DateOnly), "sessions", len(plan.Sessions), "unmet", len(plan.Unmet))
	return plan, nil
}

// CancelSession cancels a session before it opens; the next tick tells the
// group. The CLI's apply calls it for a manual session marked cancelled.
func (s *Service) CancelSession(ctx context.Context, id string) error {
	_, _, err := s.Sessions.CancelSession(ctx, id)
	return err
}
