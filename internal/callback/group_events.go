package callback

import (
	"context"
	"fmt"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// groupEvents records each event once and applies those whose work is not
// done yet (first deliveries, and retries of unfinished ones).
func (s *Service) groupEvents(ctx context.Context, events []qunyun.GroupEvent) (Outcome, error) {
	out := Outcome{Duplicate: true}
	var todo []qunyun.GroupEvent
	for _, e := range events {
		var f qunyun.Followup
		if hasWork(e) {
			f.Steps = []string{stepApply}
		}
		rec, err := s.Store.Log.RecordGroupEvent(ctx, e, f)
		if err != nil {
			// Earlier events of this callback may be recorded: the retry
			// finds them recorded (with their work, if not done) and records
			// the rest. If no retry gets this far, their work is still
			// listed with nobody to do it: note them for Resume.
			// This event's write may also have landed with its answer lost.
			for _, done := range todo {
				s.noteStuck(ctx, qunyun.Record{Event: &done})
			}
			if f.Pending() {
				s.noteStuck(ctx, qunyun.Record{Event: &e})
			}
			return Outcome{}, err
		}
		if rec.Created {
			out.Duplicate = false
		}
		if rec.Pending() {
			todo = append(todo, e)
		}
	}
	if len(todo) == 0 {
		return out, nil
	}
	if err := s.finishEvents(ctx, todo); err != nil {
		return Outcome{}, err
	}
	return out, nil
}

// finishEvents applies group events whose work is listed, then marks each
// done.
func (s *Service) finishEvents(ctx context.Context, events []qunyun.GroupEvent) error {
	err := s.apply(ctx, events)
	for i, e := range events {
		if err == nil {
			err = s.Store.Followups.FinishFollowup(ctx, qunyun.Record{Event: &e}, "")
		}
		if err != nil {
			for _, left := range events[i:] {
				s.noteStuck(ctx, qunyun.Record{Event: &left})
			}
			return &FollowupError{err}
		}
	}
	return nil
}

// hasWork reports whether a recorded group event changes a member or group.
func hasWork(e qunyun.GroupEvent) bool {
	switch e.Type {
	case qunyun.EventMemberJoined, qunyun.EventMemberLeft, qunyun.EventGroupCreated,
		qunyun.EventGroupRenamed, qunyun.EventGroupDismissed, EventGroupOwnerChanged:
		return true
	}
	return false
}

// apply makes the member and group records say what recorded events imply,
// then publishes MemberJoined (after the count: push selects welcome plans
// by group size). Every step is idempotent: member times only move
// forward, a join or leave adds to the group's count only when it moved
// the member in or out (dynamo.Membership), and MemberJoined carries the
// event id and the join's time (push's welcome delivery id is plan, group
// and member, dated by the event's time, so a second MemberJoined claims
// the same delivery, after midnight too).
func (s *Service) apply(ctx context.Context, events []qunyun.GroupEvent) error {
	ensure := func(e qunyun.GroupEvent) func(g *qunyun.Group, found bool) error {
		return func(g *qunyun.Group, found bool) error {
			if !found {
				g.ID, g.AccountID, g.CreatedAt, g.State = e.GroupID, e.AccountID, e.At, qunyun.GroupActive
			}
			g.UpdatedAt = s.Now()
			return nil
		}
	}
	var joined, sync []bus.Event
	// A WeCom customer group's events do not carry its name or new owner:
	// push reads them from WeChat (the callback holds no secret to).
	requestSync := func(e qunyun.GroupEvent, why string) {
		if e.Channel != qunyun.ChannelWeCom {
			return
		}
		for _, ev := range sync {
			if ev.Detail.(qunyun.GroupSyncRequest).GroupID == e.GroupID {
				return
			}
		}
		sync = append(sync, bus.Event{DetailType: qunyun.EventGroupSyncRequested, Time: e.At,
			Detail: qunyun.GroupSyncRequest{ID: e.ID, AccountID: e.AccountID, GroupID: e.GroupID, Why: why}})
	}
	for _, e := range events {
		switch e.Type {
		case qunyun.EventMemberJoined, qunyun.EventMemberLeft:
			if e.MemberID == "" {
				// Nobody to move: the group is all there is to note.
				if _, err := s.Store.Catalog.UpdateGroup(ctx, e.GroupID, ensure(e)); err != nil {
					return fmt.Errorf("update group %s: %w", e.GroupID, err)
				}
				continue
			}
			if err := s.applyMember(ctx, e); err != nil {
				return err
			}
			if e.Type == qunyun.EventMemberJoined {
				s.syncUnknownGroup(ctx, e, requestSync)
				joined = append(joined, bus.Event{DetailType: qunyun.EventMemberJoined, Time: e.At, Detail: MemberJoined{
					ID: e.ID, AccountID: e.AccountID, GroupID: e.GroupID, MemberID: e.MemberID,
					Name: e.MemberName, Scene: e.Scene, At: e.At,
				}})
			}
		case qunyun.EventGroupCreated, qunyun.EventGroupRenamed, qunyun.EventGroupDismissed, EventGroupOwnerChanged:
			if _, err := s.Store.Catalog.UpdateGroup(ctx, e.GroupID, func(g *qunyun.Group, found bool) error {
				ensure(e)(g, found)
				if e.GroupName != "" {
					g.Name = e.GroupName
				}
				switch e.Type {
				case qunyun.EventGroupDismissed:
					g.State = qunyun.GroupDismissed
				case EventGroupOwnerChanged:
					if e.MemberID != "" {
						g.OwnerID = e.MemberID
					}
				}
				return nil
			}); err != nil {
				return fmt.Errorf("update group %s: %w", e.GroupID, err)
			}
			switch e.Type {
			case qunyun.EventGroupCreated:
				requestSync(e, qunyun.SyncCreated)
			case EventGroupOwnerChanged:
				requestSync(e, qunyun.SyncOwner)
			case qunyun.EventGroupRenamed:
				requestSync(e, qunyun.SyncRenamed)
			}
		}
	}
	if len(joined) > 0 && s.Bus != nil {
		if err := s.Bus.Publish(ctx, joined...); err != nil {
			return fmt.Errorf("publish MemberJoined: %w", err)
		}
	}
	if len(sync) > 0 && s.Bus != nil {
		if err := s.Bus.Publish(ctx, sync...); err != nil {
			return fmt.Errorf("publish GroupSyncRequested: %w", err)
		}
	}
	return nil
}

// syncUnknownGroup asks push to read a WeCom group learned from a join (a
// group created before Qunyun knew it) while its name or owner is unknown.
// It reads the group through the service's cache, so a burst of joins
// costs no more reads than one.
func (s *Service) syncUnknownGroup(ctx context.Context, e qunyun.GroupEvent, request func(qunyun.GroupEvent, string)) {
	if e.Channel != qunyun.ChannelWeCom {
		return
	}
	g, found, err := s.group(ctx, e.GroupID)
	if err != nil {
		s.secondary(ctx, "read the group to sync", err)
		return
	}
	if !found || ((g.Name == "" || g.OwnerID == "") && g.State != qunyun.GroupDismissed) {
		request(e, qunyun.SyncJoined)
	}
}

// applyMember records a join or leave on the member: each time only moves
// forward, so events in any order, and again, leave the member in or out as
// the latest of them says (a join and a leave in the same second: out).
// The group, created if missing, counts the member once in, once out.
func (s *Service) applyMember(ctx context.Context, e qunyun.GroupEvent) error {
	g := qunyun.Group{ID: e.GroupID, AccountID: e.AccountID, CreatedAt: e.At, State: qunyun.GroupActive, UpdatedAt: s.Now()}
	_, err := s.Store.Membership.MoveMember(ctx, g, e.MemberID, func(m *qunyun.Member, found bool) error {
		if e.Type == qunyun.EventMemberLeft {
			if e.At.After(m.LeftAt) {
				m.LeftAt, m.QuitScene = e.At, e.Scene
			}
			return nil
		}
		// The role is the operator's (community.yaml staff, qunyun
		// promote): this write, under the version just read, only fills
		// it when empty, so a join never demotes staff.
		if m.Role == "" {
			m.Role = qunyun.RoleMember
		}
		if e.MemberName != "" {
			m.Name = e.MemberName
		}
		if e.At.After(m.JoinedAt) {
			m.JoinedAt, m.JoinScene = e.At, e.Scene
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("move member %s of %s: %w", e.MemberID, e.GroupID, err)
	}
	return nil
}

// Group events the bus does not carry but the log records.
const (
	EventGroupOwnerChanged  = "GroupOwnerChanged"
	EventGroupNoticeChanged = "GroupNoticeChanged"
)
