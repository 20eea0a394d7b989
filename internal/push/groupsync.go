package push

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// Reading WeCom customer groups from WeChat. A change_external_chat event
// names the group but not its name (on create and rename) nor its new
// owner, and a group Qunyun first hears of through a join is known by its
// id alone; the callback holds no secret to ask, so it requests a sync
// (GroupSyncRequested) and push reads the group with groupchat/get: its
// name, its owner (whom its tasks go to: followTask moves the open ones)
// and its members, which also mends joins and leaves whose callbacks were
// lost (WeCom's callbacks "may come out of order or not at all"). Every
// night each group is read once more (syncNight). Calls go through the
// client's rate limiter, one per group, well inside WeCom's 10,000 a
// minute per API.

// GroupChats reads customer groups (wechatapi.Client).
type GroupChats interface {
	GroupChat(ctx context.Context, a qunyun.Account, chatID string) (wechatapi.GroupChat, error)
}

var _ GroupChats = (*wechatapi.Client)(nil)

const (
	// joinSyncEvery: a join asks for a sync only while the group's name or
	// owner is unknown; a burst of joins reads it once.
	joinSyncEvery = 10 * time.Minute
	// syncLag: WeCom fills groupchat/get's member list asynchronously, so
	// a member who joined this recently and is not listed yet is not
	// taken for gone.
	syncLag = 10 * time.Minute
	// The nightly sync reads each group between 03:00 and 06:00 in its
	// zone, at most syncPerTick groups a minute.
	syncHour, syncHours = 3, 3
	syncPerTick         = 100
)

// handleSyncRequest reads the group a GroupSyncRequested names.
func (s *Service) handleSyncRequest(ctx context.Context, cat *catalog, r qunyun.GroupSyncRequest) error {
	if s.GroupChats == nil {
		return nil
	}
	g, err := cat.group(ctx, r.GroupID)
	if err != nil || g == nil {
		return err // the callback writes the group before it asks
	}
	if r.Why == qunyun.SyncJoined && s.now().Sub(g.SyncedAt) < joinSyncEvery {
		return nil
	}
	a, err := cat.account(ctx, orString(g.AccountID, r.AccountID))
	if err != nil || a == nil || a.Kind != qunyun.ChannelWeCom {
		return err
	}
	err = s.syncGroup(ctx, *a, *g)
	if wechatapi.IsAPIError(err) {
		// WeChat answered (an unknown chat, a group out of the app's
		// range): the bus's retry would get the same; the night tries again.
		s.log().Warn("group not read from WeChat", "group", g.ID, "why", r.Why, "err", err)
		return nil
	}
	return err
}

// syncGroup reads group g from WeChat and makes the table say what WeChat
// says: members it lists join, members it no longer lists leave, then the
// group takes its name, owner and member count.
func (s *Service) syncGroup(ctx context.Context, a qunyun.Account, g qunyun.Group) error {
	chat, err := s.GroupChats.GroupChat(ctx, a, g.ID)
	if err != nil {
		return fmt.Errorf("read group %s from WeChat: %w", g.ID, err)
	}
	now := s.now()
	members, err := s.Store.Catalog.Members(ctx, g.ID)
	if err != nil {
		return err
	}
	listed := make(map[string]wechatapi.GroupChatMember, len(chat.Members))
	for _, m := range chat.Members {
		listed[m.UserID] = m
	}
	var errs []error
	for _, m := range members {
		// Staff keep their records: apply writes them before they join,
		// and their alerts must not stop.
		if _, ok := listed[m.ID]; ok || !m.Active() || m.Role.Staff() || now.Sub(m.JoinedAt) < syncLag {
			continue
		}
		errs = append(errs, s.syncMember(ctx, g.ID, m.ID, func(m *qunyun.Member) {
			if now.After(m.LeftAt) {
				m.LeftAt = now
			}
		}))
	}
	known := make(map[string]qunyun.Member, len(members))
	for _, m := range members {
		known[m.ID] = m
	}
	for _, c := range chat.Members {
		joined := time.Unix(c.JoinTime, 0).UTC()
		if m, ok := known[c.UserID]; ok && (m.Active() || !joined.After(m.LeftAt)) {
			continue // in already, or a leave we know of is later than WeChat's join
		}
		errs = append(errs, s.syncMember(ctx, g.ID, c.UserID, func(m *qunyun.Member) {
			if m.Role == "" {
				m.Role = qunyun.RoleMember
			}
			if m.Name == "" {
				m.Name = orString(c.GroupNickname, c.Name)
			}
			if joined.After(m.JoinedAt) {
				m.JoinedAt = joined
			}
		}))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	_, err = s.Store.Catalog.UpdateGroup(ctx, g.ID, func(gr *qunyun.Group, found bool) error {
		if !found {
			gr.ID, gr.AccountID, gr.State = g.ID, a.ID, qunyun.GroupActive
			gr.CreatedAt = time.Unix(chat.CreateTime, 0).UTC()
		}
		gr.Name = orString(chat.Name, gr.Name)
		gr.OwnerID = orString(chat.Owner, gr.OwnerID)
		gr.SyncedAt, gr.UpdatedAt = now, now
		return nil
	})
	if err != nil {
		return fmt.Errorf("write group %s as WeChat has it: %w", g.ID, err)
	}
	if _, _, err := s.Store.Membership.RecountMembers(ctx, g.ID); err != nil {
		return fmt.Errorf("recount group %s as WeChat has it: %w", g.ID, err)
	}
	if g.OwnerID != "" && chat.Owner != "" && chat.Owner != g.OwnerID {
		s.log().Info("group has a new owner; its open tasks move to them", "group", g.ID, "owner", chat.Owner)
	}
	return nil
}

func (s *Service) syncMember(ctx context.Context, groupID, memberID string, fn func(m *qunyun.Member)) error {
	_, err := s.Store.Catalog.UpdateMember(ctx, groupID, memberID, func(m *qunyun.Member, _ bool) error {
		m.GroupID, m.ID = groupID, memberID
		fn(m)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync member %s of %s: %w", memberID, groupID, err)
	}
	return nil
}

// syncNight reads every WeCom customer group once a night, between 03:00
// and 06:00 in its zone, unless it was read since its local midnight. A
// minute reads at most syncPerTick groups; a group that fails is tried
// again the next night (by this container). Between windows it costs
// nothing but a look at the container's memory, and an hourly read of the
// group list.
func (s *Service) syncNight(ctx context.Context, cat *catalog, now time.Time) error {
	if s.GroupChats == nil {
		return nil
	}
	s.memory.mu.Lock()
	next := s.memory.syncNext
	s.memory.mu.Unlock()
	if now.Before(next) {
		return nil
	}
	groups, err := s.Store.Catalog.Groups(ctx)
	if err != nil {
		return err
	}
	wake := now.Add(time.Hour)
	var due []qunyun.Group
	var accts []qunyun.Account
	for _, g := range groups {
		if g.State == qunyun.GroupDismissed || hasTag(g.Tags, qunyun.TagInternal) {
			continue
		}
		a, err := cat.account(ctx, g.AccountID)
		if err != nil || a == nil || a.Kind != qunyun.ChannelWeCom {
			continue
		}
		local := now.In(g.Location())
		midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
		start := midnight.Add(syncHour * time.Hour)
		date := local.Format(time.DateOnly)
		inWindow := !local.Before(start) && local.Before(start.Add(syncHours*time.Hour))
		if inWindow && g.SyncedAt.Before(midnight) && !s.syncTried(g.ID, date) {
			due, accts = append(due, g), append(accts, *a)
			continue
		}
		if !local.Before(start) {
			start = start.AddDate(0, 0, 1)
		}
		if start.Before(wake) {
			wake = start
		}
	}
	if len(due) > syncPerTick {
		due, wake = due[:syncPerTick], now // the rest next minute
	}
	var errs []error
	for i, g := range due {
		s.remember(func(m *tickMemory) {
			if m.syncTried == nil {
				m.syncTried = map[string]string{}
			}
			m.syncTried[g.ID] = now.In(g.Location()).Format(time.DateOnly)
		})
		errs = append(errs, s.syncGroup(ctx, accts[i], g))
	}
	s.remember(func(m *tickMemory) { m.syncNext = wake })
	return errors.Join(errs...)
}

func (s *Service) syncTried(groupID, date string) bool {
	s.memory.mu.Lock()
	defer s.memory.mu.Unlock()
	return s.memory.syncTried[groupID] == date
}
