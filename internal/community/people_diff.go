package community

import (
	"context"
	"errors"
	"fmt"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// diffMembers compares what the file says about members with their
// records. Members are never deleted (who is in a group is WeChat's to
// say); a staff role the file no longer gives goes back to member: the
// stored staff records say which roles the file gave before, so a role an
// operator set by hand (qunyun promote) is never touched. Staff the file
// no longer names keep their roles unless prune removes them.
func diffMembers(ctx context.Context, t *dynamo.Table, c *Community, storedStaff []qunyun.Staff, storedGroups []qunyun.Group, prune bool) ([]Change, error) {
	accountOf := map[string]string{}
	for _, g := range storedGroups {
		accountOf[g.ID] = g.AccountID
	}
	for _, g := range c.Groups {
		accountOf[g.ID] = g.AccountID
	}
	account := func(g string) string { return accountOf[g] }
	named := map[string]bool{}
	for _, s := range c.Staff {
		named[s.ID] = true
	}
	staffRole := map[memberKey]bool{}
	groups := map[string]bool{}
	for _, m := range c.Members {
		groups[m.GroupID] = true
		if m.Role != "" {
			staffRole[keyOf(m)] = true
		}
	}
	var dropped []qunyun.Member // memberships with the role the file gave them
	for _, s := range storedStaff {
		if !named[s.ID] && !prune {
			continue
		}
		for _, m := range s.Memberships(account) {
			if !staffRole[keyOf(m)] {
				dropped = append(dropped, m)
				groups[m.GroupID] = true
			}
		}
	}
	stored := map[memberKey]qunyun.Member{}
	for _, g := range sortedKeys(groups) {
		ms, err := t.Members(ctx, g)
		if err != nil {
			return nil, fmt.Errorf("read members of %s: %w", g, err)
		}
		for _, m := range ms {
			stored[keyOf(m)] = m
		}
	}

	var changes []Change
	for _, want := range c.Members {
		id := want.GroupID + "/" + want.ID
		write := func(ctx context.Context, t *dynamo.Table) error {
			// UpdateMember re-reads the record, so what the callback or
			// scoring wrote since Compute survives.
			_, err := t.UpdateMember(ctx, want.GroupID, want.ID, func(m *qunyun.Member, _ bool) error {
				*m = MergeMember(*m, want)
				return nil
			})
			return err
		}
		have, found := stored[keyOf(want)]
		if !found {
			changes = append(changes, Change{Op: Create, Kind: KindMember, ID: id, write: write})
			continue
		}
		if ch := edits(have, MergeMember(have, want)); len(ch.Fields) > 0 {
			ch.Op, ch.Kind, ch.ID, ch.write = Update, KindMember, id, write
			changes = append(changes, ch)
		}
	}
	for _, old := range dropped {
		have, found := stored[keyOf(old)]
		if !found || have.Role != old.Role {
			continue // not there, or someone gave another role since
		}
		next := have
		next.Role, next.WeComUserID = qunyun.RoleMember, ""
		ch := edits(have, next)
		ch.Op, ch.Kind, ch.ID = Update, KindMember, old.GroupID+"/"+old.ID
		ch.write = func(ctx context.Context, t *dynamo.Table) error {
			_, err := t.UpdateMember(ctx, old.GroupID, old.ID, func(m *qunyun.Member, found bool) error {
				if !found || m.Role != old.Role {
					return qunyun.ErrNoChange
				}
				m.Role, m.WeComUserID = qunyun.RoleMember, ""
				return nil
			})
			if errors.Is(err, qunyun.ErrNoChange) {
				return nil
			}
			return err
		}
		changes = append(changes, ch)
	}
	return changes, nil
}

type memberKey struct{ group, id string }

func keyOf(m qunyun.Member) memberKey { return memberKey{m.GroupID, m.ID} }

// MergeMember returns what the table should hold for a member the file
// names: its name (when the file gives one), tags and VIP tier, and a staff
// role; everything else is kept from have: the join and leave the callback
// records, scoring's tier and tags, and a role an operator set by hand.
func MergeMember(have, want qunyun.Member) qunyun.Member {
	m := have
	m.GroupID, m.ID = want.GroupID, want.ID
	if want.Name != "" {
		m.Name = want.Name
	}
	m.VIP, m.Tags = want.VIP, want.Tags
	switch {
	case want.Role != "":
		m.Role, m.WeComUserID = want.Role, want.WeComUserID
	case m.Role == "":
		m.Role = qunyun.RoleMember
	}
	return m
}
