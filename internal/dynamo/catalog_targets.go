package dynamo

import (
	"context"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Community store: what `qunyun apply` writes beyond the catalog. Session
// targets (community.yaml sessions.targets) are one item each under PK
// SESSIONTARGETS, SK the target's key ("group:<gid>" or "tier:<tier>"),
// type "SessionTarget", with the qunyun.SessionTarget attributes. The
// session planner reads them all with one Query.

const sessionTargetsPK = "SESSIONTARGETS"

type sessionTargetItem struct {
	Keys
	qunyun.SessionTarget
}

// PutSessionTarget writes (or replaces) one session target.
func (c Catalog) PutSessionTarget(ctx context.Context, st qunyun.SessionTarget) error {
	return c.Table.Put(ctx, sessionTargetItem{
		Keys:          Keys{PK: sessionTargetsPK, SK: st.Key(), Type: "SessionTarget"},
		SessionTarget: st,
	})
}

// SessionTargets lists every session target, by key.
func (c Catalog) SessionTargets(ctx context.Context) ([]qunyun.SessionTarget, error) {
	items, err := QueryInto[sessionTargetItem](ctx, c.Table, Query{PK: sessionTargetsPK})
	if err != nil {
		return nil, err
	}
	out := make([]qunyun.SessionTarget, len(items))
	for i, it := range items {
		out[i] = it.SessionTarget
	}
	return out, nil
}

// DeleteSessionTarget removes the target with the given key.
func (c Catalog) DeleteSessionTarget(ctx context.Context, key string) error {
	return c.Table.Delete(ctx, sessionTargetsPK, key)
}
