package scoring

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// RecapDays is how many days of session recaps a report shows, the date
// the last of them.
const RecapDays = 7

// Report assembles the daily report from the stored scores of date (and the
// 27 days before, for the trend), stores it and publishes ScoresComputed
// with the run's key as its id. Each run that scored groups for date
// rebuilds it, so it grows as the date ends in zones further west.
func (n *Night) Report(ctx context.Context, date, run string) error {
	scores, err := n.Stores.Scores.ScoresOn(ctx, date)
	if err != nil {
		return err
	}
	r := qunyun.Report{Date: date, Groups: scores, Levels: map[string]int{}, Deliveries: map[string]int{}}
	r.GeneratedAt = n.now().UTC()
	if err := n.addScores(ctx, &r, scores); err != nil {
		return err
	}
	loc := qunyun.LoadLocation("") // recaps: the report's day in the default zone
	end, _ := time.ParseInLocation(time.DateOnly, date, loc)
	end = end.AddDate(0, 0, 1)
	if r.Recaps, err = n.recaps(ctx, end); err != nil {
		return err
	}
	if r.Skips, err = n.skips(ctx, end); err != nil {
		return err
	}
	if r.Contests, err = n.contestStandings(ctx, end.AddDate(0, 0, -ContestDays), end); err != nil {
		return err
	}
	if r.Heat, err = n.Stores.Links.ReadingHeat(ctx, end.AddDate(0, 0, -1), end); err != nil {
		return err
	}
	r.Heat = r.Heat[:min(len(r.Heat), HeatTop)] // the report is one item, at most 400 KB
	if r.Moderation, err = n.moderation(ctx, scores, end.AddDate(0, 0, -RecapDays), end); err != nil {
		return err
	}
	r.Tags = reportTags(scores)
	if err := n.Stores.Scores.PutReport(ctx, r); err != nil {
		return err
	}
	return n.publish(ctx, date, run, scores)
}

// addScores adds up the groups' scores of r's date: deliveries, levels
// and leaders, and each group's trend over the 28 days to the date.
func (n *Night) addScores(ctx context.Context, r *qunyun.Report, scores []qunyun.GroupScore) error {
	day, _ := time.Parse(time.DateOnly, r.Date)
	from := day.AddDate(0, 0, -27).Format(time.DateOnly)
	for _, s := range scores {
		for st, c := range s.Deliveries {
			r.Deliveries[st] += c
		}
		history, err := n.Stores.Scores.GroupScores(ctx, s.GroupID, from, r.Date)
		if err != nil {
			return err
		}
		for _, h := range history {
			r.Trend = append(r.Trend, qunyun.TrendPoint{GroupID: h.GroupID, Date: h.Date, Value: h.Value})
		}
		for name, c := range s.Levels {
			r.Levels[name] += c
		}
		for _, l := range s.Leaders {
			if l.Promote == "" { // scored before candidates carried it
				l.Promote = l.PromoteCommand()
			}
			r.Leaders = append(r.Leaders, l)
		}
	}
	return nil
}

// recaps are the recaps of the week before end, every group's: sessions
// run a few times a week, so the date alone mostly had none ("今天没有
// 嘉宾场" in a week of sessions), and a group not scored yet still had its
// session.
func (n *Night) recaps(ctx context.Context, end time.Time) ([]qunyun.Recap, error) {
	sessions, err := n.Stores.Sessions.SessionsStarting(ctx, end.AddDate(0, 0, -RecapDays), end)
	if err != nil {
		return nil, err
	}
	var out []qunyun.Recap
	for _, ss := range sessions {
		if rc, ok, err := n.Stores.Sessions.Recap(ctx, ss.ID); err != nil {
			return nil, err
		} else if ok {
			rc.DigestMembers = nil // personal: not for the dashboard
			out = append(out, rc)
		}
	}
	return out, nil
}

// skips counts the deliveries skipped in the day before end, by reason;
// nil when none was. They are counted over every delivery of the day, not
// only the groups' (GroupScore.Deliveries): a 1:1 message skipped for
// fatigue or the customer-service window is a skip the operator should
// see too.
func (n *Night) skips(ctx context.Context, end time.Time) (map[string]int, error) {
	deliveries, err := n.Stores.Deliveries.DeliveriesBetween(ctx, end.AddDate(0, 0, -1), end)
	if err != nil {
		return nil, err
	}
	var skips map[string]int
	for _, d := range deliveries {
		if d.State == qunyun.DeliverySkipped {
			if skips == nil {
				skips = map[string]int{}
			}
			skips[d.Reason]++
		}
	}
	return skips, nil
}

// reportTags are the 20 tags the groups' scores rank highest: a group's
// first tag weighs most.
func reportTags(scores []qunyun.GroupScore) []qunyun.TagCount {
	tags := map[string]float64{}
	for _, s := range scores {
		for i, t := range s.Tags {
			tags[t] += float64(len(s.Tags) - i)
		}
	}
	var out []qunyun.TagCount
	for t, sc := range tags {
		out = append(out, qunyun.TagCount{Tag: t, Score: sc})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Tag < out[j].Tag
	})
	if len(out) > 20 {
		out = out[:20]
	}
	return out
}

// publish announces the scores of date on the bus, when there is one.
func (n *Night) publish(ctx context.Context, date, run string, scores []qunyun.GroupScore) error {
	if n.Bus == nil {
		return nil
	}
	noisy := 0
	for _, s := range scores {
		if s.Noisy {
			noisy++
		}
	}
	err := n.Bus.Publish(ctx, bus.Event{DetailType: qunyun.EventScoresComputed,
		Detail: qunyun.ScoresComputed{ID: cmp.Or(run, date), Date: date, Groups: len(scores), Noisy: noisy}})
	if err != nil {
		return fmt.Errorf("publish scores of %s: %w", date, err)
	}
	return nil
}

// HeatTop is how many of the day's most opened content items a report keeps.
const HeatTop = 20

// ContestDays is how many days back a report looks for contests that ran,
// the date the last of them; ContestTop how many entries of each it shows.
const (
	ContestDays = 7
	ContestTop  = 3
)

// contestStandings lists the contests whose window overlaps [from, to),
// newest start first, each with its top ranked entries. Ranks are what the
// contest's last nightly run gave (contest.Rank); an entry never ranked
// (excluded, or the contest not run yet) is not shown.
func (n *Night) contestStandings(ctx context.Context, from, to time.Time) ([]qunyun.ContestStanding, error) {
	contests, err := n.Stores.Catalog.Contests(ctx)
	if err != nil {
		return nil, err
	}
	var out []qunyun.ContestStanding
	for _, c := range contests {
		start, err1 := time.Parse(time.RFC3339, c.Start)
		end, err2 := time.Parse(time.RFC3339, c.End)
		if err1 != nil || err2 != nil || !start.Before(to) || !end.After(from) {
			continue
		}
		entries, err := n.Stores.Scores.ContestEntries(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		st := qunyun.ContestStanding{ContestID: c.ID, Title: c.Title, Start: c.Start, End: c.End, Entries: []qunyun.ContestEntry{}}
		for _, e := range entries {
			if e.Rank > 0 {
				e.OpenID = ""
				st.Entries = append(st.Entries, e)
			}
		}
		slices.SortFunc(st.Entries, func(a, b qunyun.ContestEntry) int { return cmp.Compare(a.Rank, b.Rank) })
		st.Entries = st.Entries[:min(len(st.Entries), ContestTop)]
		out = append(out, st)
	}
	slices.SortStableFunc(out, func(a, b qunyun.ContestStanding) int {
		sa, _ := time.Parse(time.RFC3339, a.Start) // parsed above
		sb, _ := time.Parse(time.RFC3339, b.Start)
		return sb.Compare(sa)
	})
	return out, nil
}

// BurstTop bounds the moderation windows a report lists (newest first),
// BurstMembers the senders named per window.
const (
	BurstTop     = 50
	BurstMembers = 5
)

// moderation lists the moderation alert windows of the scored groups that
// began in [from, to), newest first: their counts, senders and the
// decisions on their case codes, with names for ids.
func (n *Night) moderation(ctx context.Context, scores []qunyun.GroupScore, from, to time.Time) ([]qunyun.ModerationBurst, error) {
	if n.Stores.Moderation == nil {
		return nil, nil
	}
	var out []qunyun.ModerationBurst
	for _, s := range scores {
		batches, err := n.Stores.Moderation.Batches(ctx, s.GroupID, from, to)
		if err != nil {
			return nil, err
		}
		if len(batches) == 0 {
			continue
		}
		members, err := n.Stores.Catalog.Members(ctx, s.GroupID)
		if err != nil {
			return nil, err
		}
		for _, b := range batches {
			burst, err := n.burst(ctx, b, memberNames(b, members))
			if err != nil {
				return nil, err
			}
			out = append(out, burst)
		}
	}
	slices.SortStableFunc(out, func(a, b qunyun.ModerationBurst) int {
		if c := b.Window.Compare(a.Window); c != 0 {
			return c
		}
		return cmp.Compare(a.GroupID, b.GroupID)
	})
	return out[:min(len(out), BurstTop)], nil
}

// burst is batch b as the report shows it, name giving a person's name.
func (n *Night) burst(ctx context.Context, b qunyun.ModerationBatch, name func(id string) string) (qunyun.ModerationBurst, error) {
	out := qunyun.ModerationBurst{GroupID: b.GroupID, Window: b.Window, Hits: b.Hits, Signals: b.Signals}
	for _, id := range slices.Sorted(slices.Values(b.Members)) { // a set: in no order
		if id != "-" && len(out.Members) < BurstMembers { // "-": a sender the channel did not name
			out.Members = append(out.Members, name(id))
		}
	}
	for _, hit := range []string{b.AlertHit, b.FollowUpHit} {
		if hit == "" {
			continue
		}
		c, found, err := n.Stores.Moderation.Case(ctx, moderation.CaseCode(hit))
		if err != nil {
			return out, err
		}
		if !found {
			continue
		}
		bc := qunyun.BurstCase{Code: c.Code, Member: name(c.MemberID)}
		for _, d := range c.Decisions {
			d.By = name(d.By)
			bc.Decisions = append(bc.Decisions, d)
		}
		out.Cases = append(out.Cases, bc)
	}
	return out, nil
}

// memberNames names the people of a batch: members (and staff by their
// WeCom userid, which their decisions carry), else the name the hit
// carried, else the id.
func memberNames(b qunyun.ModerationBatch, members []qunyun.Member) func(id string) string {
	names := map[string]string{b.First.MemberID: b.First.MemberName, b.Latest.MemberID: b.Latest.MemberName}
	for _, m := range members {
		if m.Name == "" {
			continue
		}
		names[m.ID] = m.Name
		if m.WeComUserID != "" {
			names[m.WeComUserID] = m.Name
		}
	}
	return func(id string) string {
		if n := names[id]; n != "" {
			return n
		}
		return id
	}
}
