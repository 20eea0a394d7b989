package community

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

type writeFunc = func(ctx context.Context, t *dynamo.Table) error

// records says how Compute compares one kind of record the file names with
// what the table holds: its key, what the table should hold given both
// sides, and how apply writes and deletes one.
type records[T any] struct {
	kind string
	key  func(T) string
	// merge gives what the table should hold for a stored record (have)
	// and the file's (want); nil means the file's record replaces it.
	merge  func(have, want T) T
	put    func(ctx context.Context, t *dynamo.Table, v T) error
	remove func(ctx context.Context, t *dynamo.Table, key string) error
}

// diff compares one kind of record: a record whose merge equals what is
// stored is left alone, which makes apply idempotent. gone are the stored
// records the file does not name.
func (r records[T]) diff(stored, wanted []T) (changes, gone []Change) {
	merge := r.merge
	if merge == nil {
		merge = func(_, want T) T { return want }
	}
	have := make(map[string]T, len(stored))
	for _, v := range stored {
		have[r.key(v)] = v
	}
	named := make(map[string]bool, len(wanted))
	for _, want := range wanted {
		k := r.key(want)
		named[k] = true
		old, found := have[k]
		if !found {
			var zero T
			changes = append(changes, Change{Op: Create, Kind: r.kind, ID: k, write: r.write(merge(zero, want))})
			continue
		}
		next := merge(old, want)
		if ch := edits(old, next); len(ch.Fields) > 0 {
			ch.Op, ch.Kind, ch.ID, ch.write = Update, r.kind, k, r.write(want)
			changes = append(changes, ch)
		}
	}
	var unnamed []string
	for k := range have {
		if !named[k] {
			unnamed = append(unnamed, k)
		}
	}
	sort.Strings(unnamed)
	for _, k := range unnamed {
		gone = append(gone, Change{Op: Delete, Kind: r.kind, ID: k, write: r.delete(k)})
	}
	return changes, gone
}

func (r records[T]) write(v T) writeFunc {
	return func(ctx context.Context, t *dynamo.Table) error { return r.put(ctx, t, v) }
}

func (r records[T]) delete(key string) writeFunc {
	return func(ctx context.Context, t *dynamo.Table) error { return r.remove(ctx, t, key) }
}

// on adapts a store's method (a method expression such as
// dynamo.Catalog.PutContent) to records' put or remove.
func on[S, V any](store func(*dynamo.Table) S, m func(S, context.Context, V) error) func(context.Context, *dynamo.Table, V) error {
	return func(ctx context.Context, t *dynamo.Table, v V) error { return m(store(t), ctx, v) }
}

func catalogOf(t *dynamo.Table) dynamo.Catalog       { return dynamo.Catalog{Table: t} }
func moderationOf(t *dynamo.Table) dynamo.Moderation { return dynamo.Moderation{Table: t} }
func peopleOf(t *dynamo.Table) dynamo.People         { return dynamo.People{Table: t} }
func textsOf(t *dynamo.Table) dynamo.Texts           { return dynamo.Texts{Table: t} }

var (
	contentRecords = records[qunyun.Content]{
		kind:   KindContent,
		key:    func(v qunyun.Content) string { return v.ID },
		put:    on(catalogOf, dynamo.Catalog.PutContent),
		remove: on(catalogOf, dynamo.Catalog.DeleteContent),
	}
	hostRecords = records[qunyun.Host]{
		kind:   KindHost,
		key:    func(v qunyun.Host) string { return v.ID },
		put:    on(catalogOf, dynamo.Catalog.PutHost),
		remove: on(catalogOf, dynamo.Catalog.DeleteHost),
	}
	staffRecords = records[qunyun.Staff]{
		kind:   KindStaff,
		key:    func(v qunyun.Staff) string { return v.ID },
		put:    on(peopleOf, dynamo.People.PutStaff),
		remove: on(peopleOf, dynamo.People.DeleteStaff),
	}
	planRecords = records[qunyun.Plan]{
		kind: KindPlan,
		key:  func(v qunyun.Plan) string { return v.ID },
		put: func(ctx context.Context, t *dynamo.Table, want qunyun.Plan) error {
			_, err := dynamo.Catalog{Table: t}.UpdatePlan(ctx, want.ID, func(p *qunyun.Plan, _ bool) error { *p = want; return nil })
			return err
		},
		remove: on(catalogOf, dynamo.Catalog.DeletePlan),
	}
	keywordRuleRecords = records[qunyun.KeywordRule]{
		kind: KindKeywordRule,
		key:  func(v qunyun.KeywordRule) string { return v.AccountID + "/" + v.ID },
		put:  on(catalogOf, dynamo.Catalog.PutKeywordRule),
		remove: func(ctx context.Context, t *dynamo.Table, key string) error {
			acct, id := splitRuleKey(key)
			return dynamo.Catalog{Table: t}.DeleteKeywordRule(ctx, acct, id)
		},
	}
	checkinRuleRecords = records[qunyun.CheckinRule]{
		kind: KindCheckinRule,
		key:  func(v qunyun.CheckinRule) string { return v.AccountID + "/" + v.ID },
		put:  on(catalogOf, dynamo.Catalog.PutCheckinRule),
		remove: func(ctx context.Context, t *dynamo.Table, key string) error {
			acct, id := splitRuleKey(key)
			return dynamo.Catalog{Table: t}.DeleteCheckinRule(ctx, acct, id)
		},
	}
	contestRecords = records[qunyun.Contest]{
		kind:   KindContest,
		key:    func(v qunyun.Contest) string { return v.ID },
		put:    on(catalogOf, dynamo.Catalog.PutContest),
		remove: on(catalogOf, dynamo.Catalog.DeleteContest),
	}
	moderationRecords = records[qunyun.ModerationRules]{
		kind:   KindModeration,
		key:    func(v qunyun.ModerationRules) string { return v.AccountID },
		put:    on(moderationOf, dynamo.Moderation.PutRules),
		remove: on(moderationOf, dynamo.Moderation.DeleteRules),
	}
	textsRecords = records[qunyun.AccountTexts]{
		kind:   KindTexts,
		key:    func(v qunyun.AccountTexts) string { return v.AccountID },
		put:    on(textsOf, dynamo.Texts.PutTexts),
		remove: on(textsOf, dynamo.Texts.DeleteTexts),
	}
	sessionTargetRecords = records[qunyun.SessionTarget]{
		kind:   KindSessionTarget,
		key:    func(v qunyun.SessionTarget) string { return v.Key() },
		put:    on(catalogOf, dynamo.Catalog.PutSessionTarget),
		remove: on(catalogOf, dynamo.Catalog.DeleteSessionTarget),
	}
)

// groupRecords compares groups under the operator's pause switches of the
// file's groups; it returns them as the groups the file wants.
func groupRecords(file []Group) (records[qunyun.Group], []qunyun.Group) {
	want := make([]qunyun.Group, len(file))
	paused := map[string]bool{}
	for i, g := range file {
		want[i] = g.Group
		paused[g.ID] = g.Paused
	}
	merge := func(have, want qunyun.Group) qunyun.Group {
		return MergeGroup(have, want, paused[want.ID])
	}
	return records[qunyun.Group]{
		kind:  KindGroup,
		key:   func(v qunyun.Group) string { return v.ID },
		merge: merge,
		// UpdateGroup re-reads the record, so fields scoring or the
		// callback changed since Compute survive.
		put: func(ctx context.Context, t *dynamo.Table, want qunyun.Group) error {
			_, err := dynamo.Catalog{Table: t}.UpdateGroup(ctx, want.ID, func(g *qunyun.Group, _ bool) error {
				*g = merge(*g, want)
				return nil
			})
			return err
		},
		remove: on(catalogOf, dynamo.Catalog.DeleteGroup),
	}, want
}

// splitRuleKey splits the "<account>/<id>" key of a keyword or check-in rule.
func splitRuleKey(key string) (account, id string) {
	account, id, _ = strings.Cut(key, "/")
	return account, id
}

// MergeGroup returns what the table should hold for a group: the
// operator's fields from want, and from have everything others maintain
// (scoring's noise flag, the member count, WeChat's state and creation
// time, the update stamp). paused maps onto the state without reviving a
// group WeChat dismissed.
func MergeGroup(have, want qunyun.Group, paused bool) qunyun.Group {
	g := want
	g.Noisy, g.MemberCount, g.UpdatedAt, g.SyncedAt = have.Noisy, have.MemberCount, have.UpdatedAt, have.SyncedAt
	if g.CreatedAt.IsZero() {
		g.CreatedAt = have.CreatedAt
	}
	// A name and owner WeChat gave (a WeCom group read with groupchat/get)
	// are WeChat's: the file cannot rename a group or hand it over, and its
	// tasks can only go to its real owner (wechatNotes says where they
	// differ). The file saying nothing keeps what was learned.
	if !have.SyncedAt.IsZero() || g.Name == "" {
		g.Name = orKeep(have.Name, g.Name)
	}
	if !have.SyncedAt.IsZero() || g.OwnerID == "" {
		g.OwnerID = orKeep(have.OwnerID, g.OwnerID)
	}
	g.State = have.State
	switch {
	case have.State == qunyun.GroupDismissed:
	case paused:
		g.State = qunyun.GroupPaused
	case have.State == qunyun.GroupPaused:
		g.State = qunyun.GroupActive
	}
	return g
}

// stored is what the table holds of the kinds of record a file names
// (members and sessions are read per group and per session).
type stored struct {
	contents     []qunyun.Content
	hosts        []qunyun.Host
	staff        []qunyun.Staff
	groups       []qunyun.Group
	plans        []qunyun.Plan
	keywordRules []qunyun.KeywordRule
	checkinRules []qunyun.CheckinRule
	contests     []qunyun.Contest
	moderation   []qunyun.ModerationRules
	texts        []qunyun.AccountTexts
	targets      []qunyun.SessionTarget
}

func readStored(ctx context.Context, t *dynamo.Table) (*stored, error) {
	var s stored
	var err error
	if s.contents, err = (dynamo.Catalog{Table: t}).Contents(ctx); err != nil {
		return nil, fmt.Errorf("read contents: %w", err)
	}
	// Members' contributions live in the library beside the file's content
	// but are not the file's: apply neither shows nor prunes them.
	s.contents = slices.DeleteFunc(s.contents, func(c qunyun.Content) bool { return c.Contribution != nil })
	if s.hosts, err = (dynamo.Catalog{Table: t}).Hosts(ctx); err != nil {
		return nil, fmt.Errorf("read hosts: %w", err)
	}
	if s.staff, err = (dynamo.People{Table: t}).Staff(ctx); err != nil {
		return nil, fmt.Errorf("read staff: %w", err)
	}
	if s.groups, err = (dynamo.Catalog{Table: t}).Groups(ctx); err != nil {
		return nil, fmt.Errorf("read groups: %w", err)
	}
	if s.plans, err = (dynamo.Catalog{Table: t}).Plans(ctx); err != nil {
		return nil, fmt.Errorf("read plans: %w", err)
	}
	if s.keywordRules, s.checkinRules, err = (dynamo.Catalog{Table: t}).AllRules(ctx); err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	if s.contests, err = (dynamo.Catalog{Table: t}).Contests(ctx); err != nil {
		return nil, fmt.Errorf("read contests: %w", err)
	}
	if s.moderation, err = (dynamo.Moderation{Table: t}).AllRules(ctx); err != nil {
		return nil, fmt.Errorf("read moderation lists: %w", err)
	}
	if s.texts, err = (dynamo.Texts{Table: t}).AllTexts(ctx); err != nil {
		return nil, fmt.Errorf("read account texts: %w", err)
	}
	if s.targets, err = (dynamo.Catalog{Table: t}).SessionTargets(ctx); err != nil {
		return nil, fmt.Errorf("read session targets: %w", err)
	}
	return &s, nil
}
