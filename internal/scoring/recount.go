package scoring

import (
	"context"
	"log/slog"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Membership recounts a group's members (dynamo.Membership): the callback
// adds each join and leave to the group's count as it comes, and this
// once-a-day count corrects what those additions could not see (a
// callback that died between a member's write and the count, members
// config apply imported).
type Membership interface {
	RecountMembers(ctx context.Context, groupID string) (n int, changed bool, err error)
}

// recount corrects the member counts of the groups a shard scored, once a
// day each. A failure is logged, not returned: the count is kept by the
// callback meanwhile, and the next night counts again.
func (n *Night) recount(ctx context.Context, groups []qunyun.Group) {
	if n.Stores.Membership == nil {
		return
	}
	_ = forEach(len(groups), n.concurrency(), func(i int) error {
		g := groups[i]
		count, changed, err := n.Stores.Membership.RecountMembers(ctx, g.ID)
		switch {
		case err != nil:
			slog.WarnContext(ctx, "scoring: member count not recounted", "group", g.ID, "error", err.Error())
		case changed:
			slog.InfoContext(ctx, "scoring: member count corrected", "group", g.ID, "was", g.MemberCount, "now", count)
		}
		return nil
	})
}
