package community

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/session"
)

// checkBookings holds each manual session the apply would book or move to
// the planner's rules (session.CheckBooking), against the file's other
// manual sessions and the table's sessions around it. A booking the table
// already holds as written is not judged again: it was accepted then, and
// a host's later change must not make every apply fail on history. A
// booking with an override is not refused: what it breaks is returned as
// notes for the diff.
func checkBookings(ctx context.Context, t *dynamo.Table, c *Community) (Problems, []string, error) {
	var todo []qunyun.Session
	for _, w := range c.Sessions {
		if w.State == qunyun.SessionCancelled {
			continue
		}
		have, found, err := dynamo.Sessions{Table: t}.Session(ctx, w.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("read session %s: %w", w.ID, err)
		}
		if found && have.State != qunyun.SessionCancelled && have.GroupID == w.GroupID && have.HostID == w.HostID &&
			have.Start.Equal(w.Start) && have.End.Equal(w.End) {
			continue
		}
		todo = append(todo, w)
	}
	if len(todo) == 0 {
		return nil, nil, nil
	}
	// The table's sessions from a week before the first booking to a week
	// after the last cover every week limit and rest time they touch.
	from, to := todo[0].Start, todo[0].End
	for _, s := range todo {
		from, to = minTime(from, s.Start), maxTime(to, s.End)
	}
	stored, err := dynamo.Sessions{Table: t}.SessionsStarting(ctx, from.Add(-8*24*time.Hour), to.Add(8*24*time.Hour))
	if err != nil {
		return nil, nil, fmt.Errorf("read sessions around the manual ones: %w", err)
	}
	// The file's version of a manual session wins over the table's.
	others := slices.Clone(c.Sessions)
	for _, s := range stored {
		if !slices.ContainsFunc(c.Sessions, func(w qunyun.Session) bool { return w.ID == s.ID }) {
			others = append(others, s)
		}
	}
	var ps Problems
	var notes []string
	for _, s := range todo {
		gi := slices.IndexFunc(c.Groups, func(g Group) bool { return g.ID == s.GroupID })
		hi := slices.IndexFunc(c.Hosts, func(h qunyun.Host) bool { return h.ID == s.HostID })
		if gi < 0 || hi < 0 {
			continue // Parse reported the unknown reference
		}
		for _, p := range session.CheckBooking(session.Booking{
			Session: s, Group: c.Groups[gi].Group, Host: c.Hosts[hi], Others: others,
			MinMinutes: c.MinSessionMinutes, MaxMinutes: c.MaxSessionMinutes,
		}) {
			if why, ok := c.overrides[s.ID]; ok {
				notes = append(notes, fmt.Sprintf("session %s booked by override (%s): %s", s.ID, why, p.Reason))
				continue
			}
			ps = append(ps, c.problem(s.ID, p.Field, "session "+s.ID+": "+p.Reason))
		}
	}
	sortProblems(ps)
	return ps, notes, nil
}

// problem places a problem with a manual session's field; a Community not
// built by Parse has no file to point into.
func (c *Community) problem(id, field, msg string) Problem {
	if c.at == nil {
		return Problem{Path: "sessions.manual(" + id + ")." + field, Message: msg}
	}
	return c.at(id, field, msg)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
