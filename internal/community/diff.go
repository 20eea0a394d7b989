package community

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Op is what a Change does to one record.
type Op string

const (
	Create Op = "+"
	Update Op = "~"
	Delete Op = "-"
)

// Kinds of records a community file describes, in the order apply writes
// them (what others refer to first).
const (
	KindContent       = "content"
	KindHost          = "host"
	KindStaff         = "staff"
	KindGroup         = "group"
	KindMember        = "member"
	KindPlan          = "plan"
	KindKeywordRule   = "keyword-rule"
	KindCheckinRule   = "checkin-rule"
	KindContest       = "contest"
	KindModeration    = "moderation"
	KindSessionTarget = "session-target"
	KindSession       = "session"
)

// Change is one record to create, update or delete.
type Change struct {
	Op     Op       `json:"op"`
	Kind   string   `json:"kind"`
	ID     string   `json:"id"`
	Fields []string `json:"fields,omitempty"` // the fields an update changes
	// From and To hold the old and new values of changed fields that are
	// plain values (text, numbers, switches), so the diff can show them.
	From map[string]any `json:"from,omitempty"`
	To   map[string]any `json:"to,omitempty"`

	write func(ctx context.Context, t *dynamo.Table) error
}

// String renders the change as the diff shows it:
// `~ group g-shelf (name: "旧" → "新", caps)`.
func (c Change) String() string {
	s := fmt.Sprintf("%s %s %s", c.Op, c.Kind, c.ID)
	if len(c.Fields) == 0 {
		return s
	}
	parts := make([]string, len(c.Fields))
	for i, f := range c.Fields {
		parts[i] = f
		from, okFrom := c.From[f]
		to, okTo := c.To[f]
		if okFrom || okTo {
			parts[i] = fmt.Sprintf("%s: %s → %s", f, plain(from, okFrom), plain(to, okTo))
		}
	}
	return s + " (" + strings.Join(parts, ", ") + ")"
}

func plain(v any, ok bool) string {
	if !ok {
		return "(none)"
	}
	if s, isString := v.(string); isString {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func joinFields(f []string) string { return strings.Join(f, ", ") }

// Diff is what applying a community would change in the table.
type Diff struct {
	Changes []Change `json:"changes"`
	// Unnamed counts records the table holds that the file does not name;
	// they become Delete changes only when the diff was computed with prune.
	Unnamed int `json:"unnamed,omitempty"`
	// Notes are things apply cannot do (yet), said rather than hidden.
	Notes []string `json:"notes,omitempty"`
	// Warnings are what the file asks that will not happen as written
	// (QuietSlots); apply goes ahead.
	Warnings []string `json:"warnings,omitempty"`
}

// Empty reports whether applying would change nothing.
func (d *Diff) Empty() bool { return len(d.Changes) == 0 }

// Count returns how many changes have op.
func (d *Diff) Count(op Op) int {
	n := 0
	for _, c := range d.Changes {
		if c.Op == op {
			n++
		}
	}
	return n
}

// Compute reads what the table holds and compares it with c. With prune,
// records the file does not name become Delete changes. A manual session
// that breaks the planner's rules (checkBookings) makes it return Problems.
func Compute(ctx context.Context, t *dynamo.Table, c *Community, prune bool) (*Diff, error) {
	// Bad bookings stop the apply before anything is read for the diff:
	// nothing is written.
	ps, overridden, err := checkBookings(ctx, t, c)
	if err != nil {
		return nil, err
	}
	if len(ps) > 0 {
		return nil, ps
	}
	var upserts, deletes []Change
	d := &Diff{Notes: overridden, Warnings: QuietSlots(c, t.Now())}
	add := func(changes, gone []Change) {
		upserts = append(upserts, changes...)
		if prune {
			deletes = append(gone, deletes...) // reverse order: dependants first
		} else {
			d.Unnamed += len(gone)
		}
	}

	contents, err := t.Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("read contents: %w", err)
	}
	// Members' contributions live in the library beside the file's content
	// but are not the file's: apply neither shows nor prunes them.
	contents = slices.DeleteFunc(contents, func(c qunyun.Content) bool { return c.Contribution != nil })
	add(diffRecords(KindContent, contents, c.Contents,
		func(v qunyun.Content) string { return v.ID },
		func(_ qunyun.Content, want qunyun.Content) qunyun.Content { return want },
		func(v qunyun.Content) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.PutContent(ctx, v) }
		},
		func(id string) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.DeleteContent(ctx, id) }
		}))

	hosts, err := t.Hosts(ctx)
	if err != nil {
		return nil, fmt.Errorf("read hosts: %w", err)
	}
	add(diffRecords(KindHost, hosts, c.Hosts,
		func(v qunyun.Host) string { return v.ID },
		func(_ qunyun.Host, want qunyun.Host) qunyun.Host { return want },
		func(v qunyun.Host) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.PutHost(ctx, v) }
		},
		func(id string) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.DeleteHost(ctx, id) }
		}))

	staff, err := dynamo.People{Table: t}.Staff(ctx)
	if err != nil {
		return nil, fmt.Errorf("read staff: %w", err)
	}
	add(diffStaff(staff, c.Staff))

	groups, err := t.Groups(ctx)
	if err != nil {
		return nil, fmt.Errorf("read groups: %w", err)
	}
	wantGroups := make([]qunyun.Group, len(c.Groups))
	paused := map[string]bool{}
	for i, g := range c.Groups {
		wantGroups[i] = g.Group
		paused[g.ID] = g.Paused
	}
	mergeGroup := func(have, want qunyun.Group) qunyun.Group {
		return MergeGroup(have, want, paused[want.ID])
	}
	add(diffRecords(KindGroup, groups, wantGroups,
		func(v qunyun.Group) string { return v.ID },
		mergeGroup,
		func(want qunyun.Group) writeFunc {
			// UpdateGroup re-reads the record, so fields scoring or the
			// callback changed since Compute survive.
			return func(ctx context.Context, t *dynamo.Table) error {
				_, err := t.UpdateGroup(ctx, want.ID, func(g *qunyun.Group, _ bool) error {
					*g = mergeGroup(*g, want)
					return nil
				})
				return err
			}
		},
		func(id string) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.DeleteGroup(ctx, id) }
		}))

	members, err := diffMembers(ctx, t, c, staff, groups, prune)
	if err != nil {
		return nil, err
	}
	upserts = append(upserts, members...)

	plans, err := t.Plans(ctx)
	if err != nil {
		return nil, fmt.Errorf("read plans: %w", err)
	}
	add(diffRecords(KindPlan, plans, c.Plans,
		func(v qunyun.Plan) string { return v.ID },
		func(_ qunyun.Plan, want qunyun.Plan) qunyun.Plan { return want },
		func(want qunyun.Plan) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error {
				_, err := t.UpdatePlan(ctx, want.ID, func(p *qunyun.Plan, _ bool) error { *p = want; return nil })
				return err
			}
		},
		func(id string) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.DeletePlan(ctx, id) }
		}))

	keywords, checkins, err := t.AllRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	add(diffRecords(KindKeywordRule, keywords, c.KeywordRules,
		func(v qunyun.KeywordRule) string { return v.AccountID + "/" + v.ID },
		func(_ qunyun.KeywordRule, want qunyun.KeywordRule) qunyun.KeywordRule { return want },
		func(v qunyun.KeywordRule) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.PutKeywordRule(ctx, v) }
		},
		func(key string) writeFunc {
			acct, id := splitRuleKey(key)
			return func(ctx context.Context, t *dynamo.Table) error { return t.DeleteKeywordRule(ctx, acct, id) }
		}))
	add(diffRecords(KindCheckinRule, checkins, c.CheckinRules,
		func(v qunyun.CheckinRule) string { return v.AccountID + "/" + v.ID },
		func(_ qunyun.CheckinRule, want qunyun.CheckinRule) qunyun.CheckinRule { return want },
		func(v qunyun.CheckinRule) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.PutCheckinRule(ctx, v) }
		},
		func(key string) writeFunc {
			acct, id := splitRuleKey(key)
			return func(ctx context.Context, t *dynamo.Table) error { return t.DeleteCheckinRule(ctx, acct, id) }
		}))

	contests, err := t.Contests(ctx)
	if err != nil {
		return nil, fmt.Errorf("read contests: %w", err)
	}
	add(diffRecords(KindContest, contests, c.Contests,
		func(v qunyun.Contest) string { return v.ID },
		func(_ qunyun.Contest, want qunyun.Contest) qunyun.Contest { return want },
		func(v qunyun.Contest) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.PutContest(ctx, v) }
		},
		func(id string) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.DeleteContest(ctx, id) }
		}))

	mod := dynamo.Moderation{Table: t}
	lists, err := mod.AllRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("read moderation lists: %w", err)
	}
	add(diffRecords(KindModeration, lists, c.Moderation,
		func(v qunyun.ModerationRules) string { return v.AccountID },
		func(_ qunyun.ModerationRules, want qunyun.ModerationRules) qunyun.ModerationRules { return want },
		func(v qunyun.ModerationRules) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return dynamo.Moderation{Table: t}.PutRules(ctx, v) }
		},
		func(id string) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error {
				return dynamo.Moderation{Table: t}.DeleteRules(ctx, id)
			}
		}))

	targets, err := t.SessionTargets(ctx)
	if err != nil {
		return nil, fmt.Errorf("read session targets: %w", err)
	}
	add(diffRecords(KindSessionTarget, targets, c.SessionTargets,
		func(v qunyun.SessionTarget) string { return v.Key() },
		func(_ qunyun.SessionTarget, want qunyun.SessionTarget) qunyun.SessionTarget { return want },
		func(v qunyun.SessionTarget) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.PutSessionTarget(ctx, v) }
		},
		func(key string) writeFunc {
			return func(ctx context.Context, t *dynamo.Table) error { return t.DeleteSessionTarget(ctx, key) }
		}))

	sessionChanges, sessionNotes, err := diffSessions(ctx, t, c.Sessions)
	if err != nil {
		return nil, err
	}
	upserts = append(upserts, sessionChanges...)
	d.Notes = append(d.Notes, sessionNotes...)

	d.Changes = append(append([]Change{}, upserts...), deletes...) // [] in JSON when nothing changes
	return d, nil
}

type writeFunc = func(ctx context.Context, t *dynamo.Table) error

// diffRecords compares one kind of record: merge gives what the table
// should hold for a stored record (have) and the file's (want); a record
// whose merge equals what is stored is left alone, which makes apply
// idempotent.
func diffRecords[T any](kind string, stored, wanted []T, key func(T) string, merge func(have, want T) T,
	write func(T) writeFunc, remove func(key string) writeFunc) (changes, gone []Change) {
	have := make(map[string]T, len(stored))
	for _, v := range stored {
		have[key(v)] = v
	}
	named := make(map[string]bool, len(wanted))
	for _, want := range wanted {
		k := key(want)
		named[k] = true
		old, found := have[k]
		if !found {
			var zero T
			changes = append(changes, Change{Op: Create, Kind: kind, ID: k, write: write(merge(zero, want))})
			continue
		}
		next := merge(old, want)
		if ch := edits(old, next); len(ch.Fields) > 0 {
			ch.Op, ch.Kind, ch.ID, ch.write = Update, kind, k, write(want)
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
		gone = append(gone, Change{Op: Delete, Kind: kind, ID: k, write: remove(k)})
	}
	return changes, gone
}

// edits lists the top-level JSON fields that differ between a and b, with
// their old and new plain values: JSON (with omitempty) makes nil and empty
// lists, and equal instants in different zones, compare equal, as they do
// after a round trip through the table.
func edits(a, b any) Change {
	ma, mb := jsonMap(a), jsonMap(b)
	c := Change{From: map[string]any{}, To: map[string]any{}}
	for k, va := range ma {
		if vb, ok := mb[k]; !ok || !reflect.DeepEqual(va, vb) {
			c.Fields = append(c.Fields, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			c.Fields = append(c.Fields, k)
		}
	}
	sort.Strings(c.Fields)
	for _, f := range c.Fields {
		if v, ok := ma[f]; ok && isPlain(v) {
			c.From[f] = v
		}
		if v, ok := mb[f]; ok && isPlain(v) {
			c.To[f] = v
		}
		// A field that is a list or an object on either side is named only.
		if !isPlain(ma[f]) && ma[f] != nil || !isPlain(mb[f]) && mb[f] != nil {
			delete(c.From, f)
			delete(c.To, f)
		}
	}
	if len(c.From) == 0 {
		c.From = nil
	}
	if len(c.To) == 0 {
		c.To = nil
	}
	return c
}

func isPlain(v any) bool {
	switch v.(type) {
	case string, float64, bool:
		return true
	}
	return false
}

func jsonMap(v any) map[string]any {
	data, err := json.Marshal(v)
	if err != nil {
		return map[string]any{"?": err.Error()}
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return map[string]any{"?": err.Error()}
	}
	normaliseTimes(m)
	return m
}

// normaliseTimes drops zero times, which JSON cannot omit.
func normaliseTimes(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case string:
			if x == "0001-01-01T00:00:00Z" {
				delete(m, k)
			}
		case map[string]any:
			normaliseTimes(x)
			if len(x) == 0 {
				delete(m, k)
			}
		}
	}
}

// splitRuleKey splits the "<account>/<id>" key diffRecords gives rules.
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
	g.Noisy, g.MemberCount, g.UpdatedAt = have.Noisy, have.MemberCount, have.UpdatedAt
	if g.CreatedAt.IsZero() {
		g.CreatedAt = have.CreatedAt
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

// Apply writes the changes in order, calling progress after each. It stops
// at the first failure; running it again finishes the job, since every
// write is an idempotent upsert or delete.
func (d *Diff) Apply(ctx context.Context, t *dynamo.Table, progress func(done int, c Change)) error {
	for i, c := range d.Changes {
		if err := c.write(ctx, t); err != nil {
			return fmt.Errorf("apply %s: %w", c, err)
		}
		if progress != nil {
			progress(i+1, c)
		}
	}
	return nil
}
