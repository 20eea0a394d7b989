package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// People is the store of who works the community: the staff records
// community.yaml writes and the audit of the roles operators change by
// hand. The roles themselves live on the member records (catalog.go), where
// the callback, push and sessions read them.
//
// Keys (docs/data-model.md):
//
//	STAFF#<sid>     #META                 a staff record; GSI1 STAFF / <sid>
//	GROUP#<gid>     ROLE#<ms>#<mid>#<from>><to>  one role change (qunyun.RoleChange)
//
// It is a store type of its own rather than more methods on Table
// (STYLE.md: one small store per area).
type People struct{ Table *Table }

var staffEntity = entity[qunyun.Staff]{"Staff", func(s qunyun.Staff) Keys {
	return Keys{PK: "STAFF#" + s.ID, SK: meta, GSI1PK: "STAFF", GSI1SK: s.ID}
}}

// PutStaff writes (or replaces) a staff record.
func (p People) PutStaff(ctx context.Context, s qunyun.Staff) error {
	return staffEntity.put(ctx, p.Table, s)
}

// Staff lists every staff record, by id.
func (p People) Staff(ctx context.Context) ([]qunyun.Staff, error) {
	return staffEntity.list(ctx, p.Table, Query{Index: GSI1, PK: "STAFF"})
}

// DeleteStaff removes a staff record (not the roles it gave; community
// apply reverts those itself).
func (p People) DeleteStaff(ctx context.Context, id string) error {
	return p.Table.Delete(ctx, "STAFF#"+id, meta)
}

type roleChangeItem struct {
	Keys
	qunyun.RoleChange
}

// ChangeRole moves a member to rc.To when qunyun.CheckRoleChange allows it
// from the role they hold, then records the change with rc's who, when and
// why. The member must be in the catalog already (they joined, or
// community.yaml imported them): a promotion names someone scoring saw.
// The role is written first, conditional on the member's version, so two
// operators cannot both promote from the same state; if the audit write
// then fails the error says so, and the role stands.
func (p People) ChangeRole(ctx context.Context, rc qunyun.RoleChange) (qunyun.RoleChange, error) {
	_, err := Catalog{Table: p.Table}.UpdateMember(ctx, rc.GroupID, rc.MemberID, func(m *qunyun.Member, found bool) error {
		if !found {
			return qunyun.Errorf(qunyun.ENOTFOUND, "member %s is not in group %s", rc.MemberID, rc.GroupID)
		}
		if rc.To != qunyun.RoleMember && !m.Active() {
			return qunyun.Errorf(qunyun.EINVALID, "member %s left group %s on %s", rc.MemberID, rc.GroupID, m.LeftAt.Format(time.DateOnly))
		}
		if err := qunyun.CheckRoleChange(m.Role, rc.To); err != nil {
			return err
		}
		rc.From = m.Role
		m.Role = rc.To
		return nil
	})
	if err != nil {
		return rc, err
	}
	// The change is in the key: a promotion and a demotion in the same
	// millisecond are two records, not one written over the other.
	sk := "ROLE#" + Millis(rc.At) + "#" + rc.MemberID + "#" + string(rc.From) + ">" + string(rc.To)
	k := Keys{PK: "GROUP#" + rc.GroupID, SK: sk, Type: "RoleChange"}
	if err := p.Table.Put(ctx, roleChangeItem{k, rc}); err != nil {
		return rc, fmt.Errorf("%s of %s is now %s, but its audit record was not written: %w", rc.MemberID, rc.GroupID, rc.To, err)
	}
	return rc, nil
}

// RoleChanges lists a group's role changes, oldest first.
func (p People) RoleChanges(ctx context.Context, groupID string) ([]qunyun.RoleChange, error) {
	out, err := QueryInto[qunyun.RoleChange](ctx, p.Table, Query{PK: "GROUP#" + groupID, SKPrefix: "ROLE#"})
	if err != nil {
		return nil, fmt.Errorf("read role changes of %s: %w", groupID, err)
	}
	return out, nil
}
