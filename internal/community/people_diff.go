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
	dropped := droppedRoles(c, storedStaff, storedGroups, prune)
	groups := map[string]bool{}
	for _, m := range c.Members {
		groups[m.GroupID] = true
	}
	for _, m := range dropped {
		groups[m.GroupID] = true
	}
	stored, err := readMembers(ctx, t, sortedKeys(groups))
	if err != nil {
		return nil, err
	}
	var changes []Change
	for _, want := range c.Members {
		have, found := stored[keyOf(want)]
		if ch, changed := memberChange(want, have, found); changed {
			changes = append(changes, ch)
		}
	}
	for _, old := range dropped {
		have, found := stored[keyOf(old)]
		if !found || have.Role != old.Role {
			continue // not there, or someone gave another role since
		}
		changes = append(changes, demotion(old, have))
	}
	return changes, nil
}

// droppedRoles returns the memberships, with the role the file gave them,
// of the stored staff whose role the file no longer gives: of staff it
// still names, and with prune of those it does not.
func droppedRoles(c *Community, storedStaff []qunyun.Staff, storedGroups []qunyun.Group, prune bool) []qunyun.Member {
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
	for _, m := range c.Members {
		if m.Role != "" {
			staffRole[keyOf(m)] = true
		}
	}
	var dropped []qunyun.Member
	for _, s := range storedStaff {
		if !named[s.ID] && !prune {
			continue
		}
		for _, m := range s.Memberships(account) {
			if !staffRole[keyOf(m)] {
				dropped = append(dropped, m)
			}
		}
	}
	return dropped
}

// readMembers reads the member records of groups.
func readMembers(ctx context.Context, t *dynamo.Table, groups []string) (map[memberKey]qunyun.Member, error) {
	stored := map[memberKey]qunyun.Member{}
	for _, g := range groups {
		ms, err := dynamo.Catalog{Table: t}.Members(ctx, g)
		if err != nil {
			return nil, fmt.Errorf("read members of %s: %w", g, err)
		}
		for _, m := range ms {
			stored[keyOf(m)] = m
		}
	}
	return stored, nil
}

// memberChange compares a member the file names with its record (have,
// when found); changed is false when the record already says it.
func memberChange(want, have qunyun.Member, found bool) (ch Change, changed bool) {
	id := want.GroupID + "/" + want.ID
	write := func(ctx context.Context, t *dynamo.Table) error {
		// UpdateMember re-reads the record, so what the callback or
		// scoring wrote since Compute survives.
		_, err := dynamo.Catalog{Table: t}.UpdateMember(ctx, want.GroupID, want.ID, func(m *qunyun.Member, _ bool) error {
			*m = MergeMember(*m, want)
			return nil
		})
		return err
	}
	if !found {
		return Change{Op: Create, Kind: KindMember, ID: id, write: write}, true
	}
	ch = edits(have, MergeMember(have, want))
	if len(ch.Fields) == 0 {
		return Change{}, false
	}
	ch.Op, ch.Kind, ch.ID, ch.write = Update, KindMember, id, write
	return ch, true
}

// demotion takes back the role old had from the file: the member's record
// (have) still has it.
func demotion(old, have qunyun.Member) Change {
	next := have
	next.Role, next.WeComUserID = qunyun.RoleMember, ""
	ch := edits(have, next)
	ch.Op, ch.Kind, ch.ID = Update, KindMember, old.GroupID+"/"+old.ID
	ch.write = func(ctx context.Context, t *dynamo.Table) error {
		_, err := dynamo.Catalog{Table: t}.UpdateMember(ctx, old.GroupID, old.ID, func(m *qunyun.Member, found bool) error {
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
	return ch
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
