package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// getFilters are the flags every `get` kind may use.
type getFilters struct {
	group, date, plan, state, tz string
	days                         int
}

// getter lists one kind: the rows of the table and the values for --json.
type getter func(ctx context.Context, t *dynamo.Table, f getFilters, now time.Time) (header []string, rows [][]string, values any, err error)

var getters = map[string]getter{
	"groups":     getGroups,
	"members":    getMembers,
	"plans":      getPlans,
	"contents":   getContents,
	"hosts":      getHosts,
	"deliveries": getDeliveries,
	"sessions":   getSessions,
	"scores":     getScores,
	"heat":       getHeat,
	"roles":      getRoles,
	"replies":    getReplies,
}

func getKinds() []string {
	kinds := make([]string, 0, len(getters))
	for k := range getters {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

func newGetCmd() *cobra.Command {
	var f getFilters
	cmd := &cobra.Command{
		Use:   "get " + strings.Join(getKinds(), "|"),
		Short: "Show what the table holds, as a table or --json",
		Long: `Get lists one kind of record.

  groups      every group (purpose, tier, members, state, caps)
  members     members of --group (or of every group)
  plans       plans (SOP)
  contents    content items
  hosts       hosts, their windows and limits
  deliveries  deliveries on --date (a local date, --tz), by --group, --plan or --state
  sessions    host sessions on --date, or from yesterday to two weeks ahead; --group
  scores      group scores (value, rolling 7/28 days, activity, flags) on --date,
              default yesterday; by value, best first
  heat        reading heat per content over --days local days ending with --date:
              deliveries sent, opens, readers, opens from shares and who shared,
              in all and per group (1:1 for messages outside groups); --group
              keeps that group's rows (a content's totals stay its whole)
  roles       the audited role changes (promote, demote): when, who, by whom, why;
              --group
  replies     what the smart bot answered at once in the groups on --date: each
              message, its reply and the kind of rule (keyword, checkin); --group

Dates are local dates in --tz (default Asia/Shanghai); today is taken from the
stack's clock (QUNYUN_CLOCK_START/SPEED) when those are set.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: getKinds(),
		RunE: func(cmd *cobra.Command, args []string) error {
			get, ok := getters[args[0]]
			if !ok {
				return fmt.Errorf("unknown kind %q: expected one of %s", args[0], strings.Join(getKinds(), ", "))
			}
			if f.date != "" {
				if _, err := time.Parse(time.DateOnly, f.date); err != nil {
					return fmt.Errorf("--date %q: expected YYYY-MM-DD", f.date)
				}
			}
			if _, err := time.LoadLocation(f.tz); err != nil {
				return fmt.Errorf("--tz %q: expected an IANA time zone such as Asia/Shanghai", f.tz)
			}
			ctx := cmd.Context()
			t, err := openTable(ctx, cmd)
			if err != nil {
				return err
			}
			header, rows, values, err := get(ctx, t, f, t.Now())
			if err != nil {
				return tableError(cmd, err)
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), values)
			}
			if len(rows) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "no %s found\n", args[0])
				return nil
			}
			return printTable(cmd.OutOrStdout(), header, rows)
		},
	}
	cmd.Flags().StringVar(&f.group, "group", "", "only this group")
	cmd.Flags().StringVar(&f.date, "date", "", "local date YYYY-MM-DD (default today)")
	cmd.Flags().StringVar(&f.plan, "plan", "", "deliveries: only this plan (or source: session, moderation, contest)")
	cmd.Flags().StringVar(&f.state, "state", "", "deliveries: only this state (sent, skipped, task_created, ...)")
	cmd.Flags().IntVar(&f.days, "days", 1, "heat: how many local days, ending with --date")
	cmd.Flags().StringVar(&f.tz, "tz", qunyun.DefaultTimeZone, "time zone of --date and of the times shown")
	tableFlags(cmd)
	jsonFlag(cmd)
	return cmd
}

// localDay returns the instants bounding a local date and the UTC dates
// that key records falling in it (a local day overlaps one or two).
func localDay(date, tz string, now time.Time) (from, to time.Time, utcDates []string) {
	loc := qunyun.LoadLocation(tz)
	day, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		n := now.In(loc)
		day = time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, loc)
	}
	from, to = day, day.AddDate(0, 0, 1)
	for d := from.UTC(); d.Before(to); d = d.AddDate(0, 0, 1) {
		utcDates = append(utcDates, d.Format(time.DateOnly))
		d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	}
	return from, to, utcDates
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

func getGroups(ctx context.Context, t *dynamo.Table, f getFilters, _ time.Time) ([]string, [][]string, any, error) {
	groups, err := dynamo.Catalog{Table: t}.Groups(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if f.group != "" {
		groups = filter(groups, func(g qunyun.Group) bool { return g.ID == f.group })
	}
	var rows [][]string
	for _, g := range groups {
		c := g.EffectiveCaps()
		rows = append(rows, []string{g.ID, g.Name, string(g.Purpose), g.Tier,
			fmt.Sprintf("%d/%d", g.MemberCount, g.SizeCap), string(g.State), yesNo(g.Noisy), string(g.NoisyAction()),
			fmt.Sprintf("%d/day session %d/day %s-%s", c.DailyMax, c.SessionMax, c.QuietStart, c.QuietEnd), g.Lifecycle.Kind, g.AccountID})
	}
	// ON NOISY: what a noisy flag does to the group's SOP content (docs/deliveries.md).
	return []string{"ID", "NAME", "PURPOSE", "TIER", "MEMBERS", "STATE", "NOISY", "ON NOISY", "CAPS", "LIFECYCLE", "ACCOUNT"}, rows, groups, nil
}

func getMembers(ctx context.Context, t *dynamo.Table, f getFilters, _ time.Time) ([]string, [][]string, any, error) {
	ids, err := groupIDs(ctx, t, f.group)
	if err != nil {
		return nil, nil, nil, err
	}
	loc := qunyun.LoadLocation(f.tz)
	var all []qunyun.Member
	var rows [][]string
	for _, id := range ids {
		members, err := dynamo.Catalog{Table: t}.Members(ctx, id)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, m := range members {
			all = append(all, m)
			rows = append(rows, []string{m.GroupID, m.ID, m.Name, string(m.Role), m.Tier,
				strings.Join(m.Tags, ","), strings.Join(m.AutoTags, ","), localTime(m.JoinedAt, loc), yesNo(m.Active())})
		}
	}
	// TAGS are the operator's, AUTO TAGS what scoring found in what the
	// member says and opens.
	return []string{"GROUP", "ID", "NAME", "ROLE", "TIER", "TAGS", "AUTO TAGS", "JOINED", "ACTIVE"}, rows, all, nil
}

func getPlans(ctx context.Context, t *dynamo.Table, f getFilters, _ time.Time) ([]string, [][]string, any, error) {
	plans, err := dynamo.Catalog{Table: t}.Plans(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	if f.plan != "" {
		plans = filter(plans, func(p qunyun.Plan) bool { return p.ID == f.plan })
	}
	var rows [][]string
	for _, p := range plans {
		schedule := p.Cron
		if len(p.Journey) > 0 {
			steps := make([]string, len(p.Journey))
			for i, s := range p.Journey {
				steps[i] = fmt.Sprintf("day %d:%s", s.Day, s.Content)
			}
			schedule = strings.TrimSpace(schedule + " journey " + strings.Join(steps, " "))
		}
		rows = append(rows, []string{p.ID, p.Name, schedule, strings.Join(p.Contents, ","), describeSelector(p.Select), yesNo(p.Paused)})
	}
	return []string{"ID", "NAME", "SCHEDULE", "CONTENTS", "SELECT", "PAUSED"}, rows, plans, nil
}

func describeSelector(s qunyun.GroupSelector) string {
	var parts []string
	add := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, name+"="+strings.Join(v, ","))
		}
	}
	add("groups", s.Groups)
	add("tags", s.Tags)
	purposes := make([]string, len(s.Purposes))
	for i, p := range s.Purposes {
		purposes[i] = string(p)
	}
	add("purposes", purposes)
	if s.MinSize > 0 || s.MaxSize > 0 {
		parts = append(parts, fmt.Sprintf("size=%d..%d", s.MinSize, s.MaxSize))
	}
	if s.MinAgeDays > 0 || s.MaxAgeDays > 0 {
		parts = append(parts, fmt.Sprintf("age=%d..%dd", s.MinAgeDays, s.MaxAgeDays))
	}
	if len(parts) == 0 {
		return "all groups"
	}
	return strings.Join(parts, " ")
}

func getContents(ctx context.Context, t *dynamo.Table, _ getFilters, _ time.Time) ([]string, [][]string, any, error) {
	contents, err := dynamo.Catalog{Table: t}.Contents(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	var rows [][]string
	for _, c := range contents {
		text := c.Title
		if text == "" {
			text = c.Text
		}
		rows = append(rows, []string{c.ID, string(c.Kind), truncate(text, 40), strings.Join(c.Tags, ","), yesNo(c.Benefit)})
	}
	return []string{"ID", "KIND", "TITLE/TEXT", "TAGS", "BENEFIT"}, rows, contents, nil
}

func getHosts(ctx context.Context, t *dynamo.Table, _ getFilters, _ time.Time) ([]string, [][]string, any, error) {
	hosts, err := dynamo.Catalog{Table: t}.Hosts(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	var rows [][]string
	for _, h := range hosts {
		windows := make([]string, len(h.Availability))
		for i, w := range h.Availability {
			windows[i] = w.Day + " " + w.Start + "-" + w.End
		}
		rows = append(rows, []string{h.ID, h.Name, strconv.Itoa(h.MaxPerWeek), strings.Join(windows, ", "),
			strconv.Itoa(len(h.Exceptions)), strings.Join(h.Tiers, ","), strings.Join(h.Groups, ",")})
	}
	return []string{"ID", "NAME", "MAX/WEEK", "AVAILABILITY", "EXCEPTIONS", "TIERS", "GROUPS"}, rows, hosts, nil
}

func getDeliveries(ctx context.Context, t *dynamo.Table, f getFilters, now time.Time) ([]string, [][]string, any, error) {
	from, to, dates := localDay(f.date, f.tz, now)
	var items []qunyun.DeliveryRecord
	for _, date := range dates {
		var got []qunyun.DeliveryRecord
		var err error
		switch {
		case f.group != "":
			got, err = dynamo.Deliveries{Table: t}.GroupDayDeliveries(ctx, f.group, date)
		case f.plan != "":
			got, err = dynamo.Deliveries{Table: t}.PlanDeliveries(ctx, f.plan, date)
		default:
			got, err = dynamo.Deliveries{Table: t}.DayDeliveries(ctx, date, qunyun.DeliveryState(f.state))
		}
		if err != nil {
			return nil, nil, nil, err
		}
		items = append(items, got...)
	}
	loc := qunyun.LoadLocation(f.tz)
	var out []qunyun.Delivery
	for _, it := range items {
		d := it.Delivery
		if d.At.Before(from) || !d.At.Before(to) {
			continue
		}
		if (f.plan != "" && d.Source != f.plan) || (f.state != "" && string(d.State) != f.state) || (f.group != "" && d.GroupID != f.group) {
			continue
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].At.Equal(out[j].At) {
			return out[i].At.Before(out[j].At)
		}
		return out[i].ID < out[j].ID
	})
	var rows [][]string
	for _, d := range out {
		target := d.GroupID
		if d.TargetKind != qunyun.TargetGroup {
			target = string(d.TargetKind) + ":" + d.TargetID
		}
		rows = append(rows, []string{localTime(d.At, loc), target, d.Source, d.ContentID, string(d.State), d.Reason})
	}
	return []string{"AT", "TARGET", "SOURCE", "CONTENT", "STATE", "REASON"}, rows, out, nil
}

func getSessions(ctx context.Context, t *dynamo.Table, f getFilters, now time.Time) ([]string, [][]string, any, error) {
	from, to := now.AddDate(0, 0, -1), now.AddDate(0, 0, 14)
	if f.date != "" {
		from, to, _ = localDay(f.date, f.tz, now)
	}
	var sessions []qunyun.Session
	var err error
	if f.group != "" {
		sessions, err = dynamo.Sessions{Table: t}.GroupSessions(ctx, f.group, from, to)
	} else {
		sessions, err = dynamo.Sessions{Table: t}.SessionsStarting(ctx, from, to)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	loc := qunyun.LoadLocation(f.tz)
	var rows [][]string
	for _, s := range sessions {
		manual := ""
		if s.Manual {
			manual = "manual"
		}
		rows = append(rows, []string{s.ID, localTime(s.Start, loc), strconv.Itoa(int(s.End.Sub(s.Start).Minutes())),
			s.GroupID, s.HostID, string(s.State), manual, s.Topic})
	}
	return []string{"ID", "START", "MIN", "GROUP", "HOST", "STATE", "BOOKED", "TOPIC"}, rows, sessions, nil
}

// getScores shows group scores of a local date: --date, else yesterday,
// the last night scoring ran for.
func getScores(ctx context.Context, t *dynamo.Table, f getFilters, now time.Time) ([]string, [][]string, any, error) {
	date := f.date
	if date == "" {
		date = now.In(qunyun.LoadLocation(f.tz)).AddDate(0, 0, -1).Format(time.DateOnly)
	}
	var scores []qunyun.GroupScore
	var err error
	if f.group != "" {
		scores, err = dynamo.Scores{Table: t}.GroupScores(ctx, f.group, date, date)
	} else {
		scores, err = dynamo.Scores{Table: t}.ScoresOn(ctx, date)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	sort.SliceStable(scores, func(i, j int) bool { return scores[i].Value > scores[j].Value })
	var rows [][]string
	for _, s := range scores {
		flags := make([]string, len(s.Flags))
		for i, fl := range s.Flags {
			flags[i] = fl.Kind
		}
		rows = append(rows, []string{s.GroupID, s.Name, string(s.Purpose), s.Date,
			fmt.Sprintf("%.1f", s.Value), fmt.Sprintf("%.1f", s.Value7), fmt.Sprintf("%.1f", s.Value28),
			fmt.Sprintf("%.1f", s.Activity.MessagesPerMember), strings.Join(flags, ","), yesNo(s.Noisy), truncate(s.Why, 50)})
	}
	return []string{"GROUP", "NAME", "PURPOSE", "DATE", "VALUE", "7D", "28D", "MSG/MEMBER", "FLAGS", "NOISY", "WHY"}, rows, scores, nil
}

// getHeat shows how content was read: per content its totals, then a row
// per group. A group link's opens name no one, so there each open is a
// reader; a 1:1 link is its recipient's own, so its opens from a share
// are that member's (SHARED BY).
func getHeat(ctx context.Context, t *dynamo.Table, f getFilters, now time.Time) ([]string, [][]string, any, error) {
	if f.days < 1 {
		return nil, nil, nil, fmt.Errorf("--days %d: expected 1 or more", f.days)
	}
	_, to, _ := localDay(f.date, f.tz, now)
	from := to.AddDate(0, 0, -f.days)
	heat, err := dynamo.Links{Table: t}.ReadingHeat(ctx, from, to)
	if err != nil {
		return nil, nil, nil, err
	}
	if f.group != "" {
		kept := []qunyun.ContentHeat{} // --json prints [], not null
		for _, h := range heat {
			h.Groups = filter(h.Groups, func(g qunyun.GroupHeat) bool { return g.GroupID == f.group })
			if len(h.Groups) > 0 {
				kept = append(kept, h)
			}
		}
		heat = kept
	}
	var rows [][]string
	row := func(id, title, group string, sent int, h qunyun.Heat, sharers string) {
		rows = append(rows, []string{id, title, group, strconv.Itoa(sent), strconv.Itoa(h.Opens), strconv.Itoa(h.Readers),
			strconv.Itoa(h.Shares), sharers})
	}
	for _, c := range heat {
		sharers := make([]string, len(c.SharedBy))
		for i, s := range c.SharedBy {
			sharers[i] = fmt.Sprintf("%s×%d", s.MemberID, s.Opens)
		}
		if f.group == "" {
			row(c.ContentID, truncate(c.Title, 30), "all", c.Deliveries, c.Heat, strings.Join(sharers, ","))
		}
		for _, g := range c.Groups {
			name := "1:1"
			if g.GroupID != "" {
				name = strings.TrimSpace(g.GroupID + " " + g.Name)
			}
			row(c.ContentID, truncate(c.Title, 30), name, g.Deliveries, g.Heat, "")
		}
	}
	return []string{"CONTENT", "TITLE", "GROUP", "SENT", "OPENS", "READERS", "SHARED OPENS", "SHARED BY"}, rows, heat, nil
}

// getRoles lists the role changes operators made (promote, demote), oldest
// first; the member's name comes from the group's members.
func getRoles(ctx context.Context, t *dynamo.Table, f getFilters, _ time.Time) ([]string, [][]string, any, error) {
	ids, err := groupIDs(ctx, t, f.group)
	if err != nil {
		return nil, nil, nil, err
	}
	people := dynamo.People{Table: t}
	changes := []qunyun.RoleChange{} // --json prints [], not null
	names := map[string]string{}
	for _, id := range ids {
		got, err := people.RoleChanges(ctx, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if len(got) == 0 {
			continue
		}
		members, err := dynamo.Catalog{Table: t}.Members(ctx, id)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, m := range members {
			names[id+"/"+m.ID] = m.Name
		}
		changes = append(changes, got...)
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].At.Before(changes[j].At) })
	loc := qunyun.LoadLocation(f.tz)
	var rows [][]string
	for _, rc := range changes {
		rows = append(rows, []string{localTime(rc.At, loc), rc.GroupID, rc.MemberID, names[rc.GroupID+"/"+rc.MemberID],
			string(rc.From), string(rc.To), rc.By, truncate(rc.Reason, 50)})
	}
	return []string{"AT", "GROUP", "MEMBER", "NAME", "FROM", "TO", "BY", "REASON"}, rows, changes, nil
}

func localTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

func filter[T any](in []T, keep func(T) bool) []T {
	var out []T
	for _, v := range in {
		if keep(v) {
			out = append(out, v)
		}
	}
	return out
}

// groupIDs is the group --group names, or every group when it names none.
func groupIDs(ctx context.Context, t *dynamo.Table, group string) ([]string, error) {
	if group != "" {
		return []string{group}, nil
	}
	groups, err := dynamo.Catalog{Table: t}.Groups(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(groups))
	for _, g := range groups {
		ids = append(ids, g.ID)
	}
	return ids, nil
}
