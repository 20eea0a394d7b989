package scoring

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// RunAt is the scheduled run at t (hourly): it scores every group whose
// local day ended in the run's window (DueDate) for that day, and at the
// default zone's nightly run (ReportDue) stores that date's report even if
// no group is due. Groups in different zones may be due for different
// dates in one run (UTC+14 and UTC−10 share a clock, not a date). Then it
// runs again any earlier run that never finished (catchUp).
func (n *Night) RunAt(ctx context.Context, t time.Time) error {
	t = t.Truncate(RunEvery).UTC()
	groups, err := n.groups(ctx)
	if err != nil {
		return err
	}
	err = n.runOnce(ctx, t, groups)
	return errors.Join(err, n.catchUp(ctx, t, groups))
}

// dueAt groups the groups due at run h by the date they are due for; the
// default zone's nightly run always has its date, for the report.
func dueAt(groups []qunyun.Group, h time.Time) map[string][]qunyun.Group {
	byDate := map[string][]qunyun.Group{}
	for _, g := range groups {
		if date, ok := dueFor(g, h); ok {
			byDate[date] = append(byDate[date], g)
		}
	}
	if date, ok := ReportDue(h); ok && byDate[date] == nil {
		byDate[date] = []qunyun.Group{}
	}
	return byDate
}

// dueFor is DueDate for a group that existed at the run: a run caught up
// later does not score a day from before the group was created.
func dueFor(g qunyun.Group, h time.Time) (string, bool) {
	if !g.CreatedAt.IsZero() && g.CreatedAt.After(h) {
		return "", false
	}
	return DueDate(g.Location(), h)
}

func (n *Night) runOnce(ctx context.Context, h time.Time, groups []qunyun.Group) error {
	byDate := dueAt(groups, h)
	dates := make([]string, 0, len(byDate))
	for d := range byDate {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	run := h.Format(time.RFC3339)
	for _, date := range dates {
		slog.InfoContext(ctx, "scoring run", "run", run, "date", date, "groups", len(byDate[date]))
		if err := n.fanOut(ctx, qunyun.ScoringShard{Date: date, Run: run}, len(byDate[date])); err != nil {
			return err
		}
	}
	return nil
}

// Catch-up: a run that failed for good (its retries spent, its event in the
// dead-letter queue) would leave its groups' day unscored. Each run looks
// at the runs between CatchUpFrom and CatchUpAfter ago that had groups
// due and finished no marker, and runs them again. It starts only after
// the oldest run in that window that did finish, so a new table (or the
// first hourly run after the nightly-only schedule) replays nothing, and
// it leaves the last few hours to Lambda's own retries.
const (
	CatchUpFrom  = 24 * time.Hour
	CatchUpAfter = 3 * time.Hour
)

func (n *Night) catchUp(ctx context.Context, t time.Time, groups []qunyun.Group) error {
	oldest, latest := t.Add(-CatchUpFrom), t.Add(-CatchUpAfter)
	runs, err := n.Stores.Scores.ScoringRuns(ctx, oldest.AddDate(0, 0, -2).Format(time.DateOnly), t.AddDate(0, 0, 1).Format(time.DateOnly))
	if err != nil {
		return fmt.Errorf("scoring catch-up at %s: %w", t.Format(time.RFC3339), err)
	}
	var anchor time.Time
	for key, done := range runs {
		_, at, ok := strings.Cut(key, "@")
		h, err := time.Parse(time.RFC3339, at)
		if !ok || err != nil || !done || h.Before(oldest) || !h.Before(t) {
			continue
		}
		if anchor.IsZero() || h.Before(anchor) {
			anchor = h
		}
	}
	if anchor.IsZero() {
		return nil
	}
	var errs []error
	for h := anchor.Add(RunEvery); !h.After(latest); h = h.Add(RunEvery) {
		missed := false
		for date := range dueAt(groups, h) {
			missed = missed || !runs[date+"@"+h.Format(time.RFC3339)]
		}
		if !missed {
			continue
		}
		slog.WarnContext(ctx, "scoring: an earlier run never finished; running it again", "run", h.Format(time.RFC3339))
		errs = append(errs, n.runOnce(ctx, h, groups))
	}
	return errors.Join(errs...)
}

// Run scores date (YYYY-MM-DD, each group's local date) for every group
// whose day has ended (an operator's re-run). With few groups it scores them
// all and assembles the report; with many it asks the bus for one
// ScoringShardRequested per shard and returns.
func (n *Night) Run(ctx context.Context, date string) error {
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return qunyun.Errorf(qunyun.EINVALID, "score night: bad date %q", date)
	}
	groups, err := n.groups(ctx)
	if err != nil {
		return err
	}
	return n.fanOut(ctx, qunyun.ScoringShard{Date: date}, len(groups))
}

// fanOut scores the run's groups here, or asks the bus for shards of it.
func (n *Night) fanOut(ctx context.Context, run qunyun.ScoringShard, groups int) error {
	per := n.GroupsPerShard
	if per <= 0 {
		per = DefaultGroupsPerShard
	}
	if groups <= per {
		run.Shard, run.Shards = 0, 1
		return n.Shard(ctx, run)
	}
	shards := (groups + per - 1) / per
	events := make([]bus.Event, shards)
	for i := range events {
		s := run
		s.Shard, s.Shards = i, shards
		s.ID = runKey(s) + "#" + strconv.Itoa(i)
		events[i] = bus.Event{DetailType: qunyun.EventScoringShardRequested, Detail: s}
	}
	if err := n.Bus.Publish(ctx, events...); err != nil {
		return fmt.Errorf("fan out %d scoring shards for %s: %w", shards, runKey(run), err)
	}
	slog.InfoContext(ctx, "scoring fanned out", "date", run.Date, "run", run.Run, "groups", groups, "shards", shards)
	return nil
}

// runKey names one run of a date: the date for a re-run by date,
// date@<scheduled time> for a scheduled run.
func runKey(s qunyun.ScoringShard) string {
	if s.Run == "" {
		return s.Date
	}
	return s.Date + "@" + s.Run
}

// ShardOf assigns a group to one of shards by a hash of its id, so every
// shard agrees without coordination.
func ShardOf(groupID string, shards int) int {
	h := fnv.New32a()
	h.Write([]byte(groupID))
	return int(h.Sum32() % uint32(shards))
}
