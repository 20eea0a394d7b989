package community

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

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
	KindTexts         = "texts"
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
		if c.Op == Create && okTo {
			parts[i] = fmt.Sprintf("%s: %s", f, plain(to, true))
			continue
		}
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
	have, err := readStored(ctx, t)
	if err != nil {
		return nil, err
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
	// In the order apply writes them: what others refer to first.
	add(contentRecords.diff(have.contents, c.Contents))
	add(hostRecords.diff(have.hosts, c.Hosts))
	add(staffRecords.diff(have.staff, c.Staff))
	groups, wantGroups := groupRecords(c.Groups)
	groupChanges, groupsGone := groups.diff(have.groups, wantGroups)
	add(showWebhooks(groupChanges, wantGroups), groupsGone)
	d.Notes = append(d.Notes, wechatNotes(have.groups, wantGroups)...)
	members, err := diffMembers(ctx, t, c, have.staff, have.groups, prune)
	if err != nil {
		return nil, err
	}
	upserts = append(upserts, members...)
	add(planRecords.diff(have.plans, c.Plans))
	add(keywordRuleRecords.diff(have.keywordRules, c.KeywordRules))
	add(checkinRuleRecords.diff(have.checkinRules, c.CheckinRules))
	add(contestRecords.diff(have.contests, c.Contests))
	add(moderationRecords.diff(have.moderation, c.Moderation))
	add(textsRecords.diff(have.texts, c.Texts))
	add(sessionTargetRecords.diff(have.targets, c.SessionTargets))
	sessionChanges, sessionNotes, err := diffSessions(ctx, t, c.Sessions)
	if err != nil {
		return nil, err
	}
	upserts = append(upserts, sessionChanges...)
	d.Notes = append(d.Notes, sessionNotes...)

	d.Changes = append(append([]Change{}, upserts...), deletes...) // [] in JSON when nothing changes
	return d, nil
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

func orKeep(have, want string) string {
	if have != "" {
		return have
	}
	return want
}

// wechatNotes says where the file names a WeCom group differently, or
// gives it another owner, than WeChat does: apply keeps WeChat's.
func wechatNotes(have []qunyun.Group, want []qunyun.Group) []string {
	stored := make(map[string]qunyun.Group, len(have))
	for _, g := range have {
		stored[g.ID] = g
	}
	var notes []string
	for _, w := range want {
		h, ok := stored[w.ID]
		if !ok || h.SyncedAt.IsZero() {
			continue
		}
		for _, f := range []struct{ what, file, wechat string }{{"name", w.Name, h.Name}, {"owner", w.OwnerID, h.OwnerID}} {
			if f.file != "" && f.wechat != "" && f.file != f.wechat {
				notes = append(notes, fmt.Sprintf("group %s: WeChat says %s %q (read %s), the file %q; WeChat's is kept",
					w.ID, f.what, f.wechat, h.SyncedAt.Format(time.DateOnly), f.file))
			}
		}
	}
	return notes
}

// showWebhooks names the robot of each new group in its create line, as
// an update line names a changed one: which robot posts into which group
// is what an operator must check. The name only: the URL and its key are
// in the account's sending half, never in the file or the table.
func showWebhooks(changes []Change, want []qunyun.Group) []Change {
	robot := make(map[string]string, len(want))
	for _, g := range want {
		robot[g.ID] = g.Webhook
	}
	for i, c := range changes {
		if c.Op == Create && robot[c.ID] != "" {
			changes[i].Fields = []string{"webhook"}
			changes[i].To = map[string]any{"webhook": robot[c.ID]}
		}
	}
	return changes
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
