package scoring

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Stores are the parts of the table a night reads and writes, each an
// interface of its own; main gives it the dynamo stores.
type Stores struct {
	Catalog    Catalog
	Log        Log
	Deliveries Deliveries
	Links      Links
	Sessions   Sessions
	Scores     Scores
}

// Catalog is what a night reads of the community: groups, members, contents,
// rules and contests (dynamo.Catalog).
type Catalog interface {
	Groups(ctx context.Context) ([]qunyun.Group, error)
	Members(ctx context.Context, groupID string) ([]qunyun.Member, error)
	Contents(ctx context.Context) ([]qunyun.Content, error)
	AllRules(ctx context.Context) ([]qunyun.KeywordRule, []qunyun.CheckinRule, error)
	Contests(ctx context.Context) ([]qunyun.Contest, error)
}

// Log is what a night reads of what happened in a group (dynamo.Log).
type Log interface {
	GroupLog(ctx context.Context, groupID string, from, to time.Time) (qunyun.GroupLog, error)
}

// Deliveries is what a night reads of the deliveries (dynamo.Deliveries).
type Deliveries interface {
	GroupDeliveriesBetween(ctx context.Context, groupID string, from, to time.Time) ([]qunyun.Delivery, error)
	DeliveriesBetween(ctx context.Context, from, to time.Time) ([]qunyun.Delivery, error)
}

// Links is what a night reads of tracked links: reading heat (dynamo.Links).
type Links interface {
	ReadingHeat(ctx context.Context, from, to time.Time) ([]qunyun.ContentHeat, error)
}

// Sessions is what a night reads of host sessions (dynamo.Sessions).
type Sessions interface {
	GroupSessions(ctx context.Context, groupID string, from, to time.Time) ([]qunyun.Session, error)
	SessionsStarting(ctx context.Context, from, to time.Time) ([]qunyun.Session, error)
	Questions(ctx context.Context, sessionID string) ([]qunyun.Question, error)
	Recap(ctx context.Context, sessionID string) (qunyun.Recap, bool, error)
}

// Scores is where a night keeps its results: scores, levels, tiers, the
// noisy flag, reports, runs and contest entries (dynamo.Scores).
type Scores interface {
	GroupScores(ctx context.Context, groupID, from, to string) ([]qunyun.GroupScore, error)
	ScoresOn(ctx context.Context, date string) ([]qunyun.GroupScore, error)
	MemberLevels(ctx context.Context, groupID string) ([]qunyun.MemberLevel, error)
	ContestEntries(ctx context.Context, contestID string) ([]qunyun.ContestEntry, error)
	PutGroupScore(ctx context.Context, s qunyun.GroupScore) error
	PutMemberLevel(ctx context.Context, l qunyun.MemberLevel) error
	SetGroupNoisy(ctx context.Context, groupID string, noisy bool) (bool, error)
	SetMemberTier(ctx context.Context, groupID, memberID, tier string, tags []string) error
	PutReport(ctx context.Context, r qunyun.Report) error
	FinishScoringShard(ctx context.Context, run string, shard, shards int) (bool, error)
	ScoringRuns(ctx context.Context, fromDate, toDate string) (map[string]bool, error)
}

// Publisher puts events on the bus (bus.Publisher implements it).
type Publisher interface {
	Publish(ctx context.Context, events ...bus.Event) error
}

// DefaultGroupsPerShard is how many groups one invocation scores before the
// night fans out: a group-day is a few Queries and writes, so 200 fit well
// inside the 15-minute Lambda limit (see the benchmarks).
const DefaultGroupsPerShard = 200

// sessionLookBehind is how long before a day a session may have started and
// still run into it (windows are 30–60 minutes).
const sessionLookBehind = 6 * time.Hour

// Night scores every group for one local date, fanning out by shard when
// there are more groups than one invocation should take.
type Night struct {
	Stores         Stores
	Bus            Publisher
	Scorer         *Scorer
	Now            func() time.Time
	GroupsPerShard int
	// Groups filters which groups are scored (nil: every group not dismissed).
	Groups func(qunyun.Group) bool
	// Concurrency is how many groups, and how many writes within a group,
	// run at once (default 4): the work waits on the table, not the CPU.
	Concurrency int
}

func (n *Night) concurrency() int {
	if n.Concurrency > 0 {
		return n.Concurrency
	}
	return 4
}

// forEach runs fn for 0..count-1, at most limit at a time, and returns the
// first error (the others still finish: every write is idempotent).
func forEach(count, limit int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, limit)
	for i := range count {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

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

// Shard scores the groups of one shard of a run; the shard that finds every
// shard done assembles the report and publishes ScoresComputed. Re-running
// a shard writes the same items again. A scheduled run's shard scores the
// groups due for its date at its time; a re-run by date, every group whose
// day is over.
func (n *Night) Shard(ctx context.Context, run qunyun.ScoringShard) error {
	date, shard, shards := run.Date, run.Shard, run.Shards
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return qunyun.Errorf(qunyun.EINVALID, "score night: bad date %q", date)
	}
	if shards <= 0 || shard < 0 || shard >= shards {
		return qunyun.Errorf(qunyun.EINVALID, "score night %s: bad shard %d of %d", date, shard, shards)
	}
	var at time.Time
	if run.Run != "" {
		var err error
		if at, err = time.Parse(time.RFC3339, run.Run); err != nil {
			return qunyun.Errorf(qunyun.EINVALID, "score night %s: bad run time %q", date, run.Run)
		}
	}
	groups, err := n.groups(ctx)
	if err != nil {
		return err
	}
	contents, err := n.Stores.Catalog.Contents(ctx)
	if err != nil {
		return fmt.Errorf("score night %s: %w", date, err)
	}
	byID := make(map[string]qunyun.Content, len(contents))
	for _, c := range contents {
		byID[c.ID] = c
	}
	keywords, checkins, err := n.Stores.Catalog.AllRules(ctx)
	if err != nil {
		return fmt.Errorf("score night %s: %w", date, err)
	}
	winners, err := n.winners(ctx, date)
	if err != nil {
		return fmt.Errorf("score night %s: %w", date, err)
	}
	now := n.now()
	var mine []qunyun.Group
	for _, g := range groups {
		if ShardOf(g.ID, shards) != shard {
			continue
		}
		if run.Run != "" {
			if due, ok := dueFor(g, at); !ok || due != date {
				continue
			}
		} else if !dayOver(g.Location(), date, now) {
			slog.WarnContext(ctx, "scoring: day not over in the group's zone; not scored", "group", g.ID, "date", date, "zone", g.Location().String())
			continue
		}
		mine = append(mine, g)
	}
	// Every day is read before any is scored: tags weigh a word by how
	// many of the groups scored together used it (Corpus).
	days := make([]GroupDay, len(mine))
	err = forEach(len(mine), n.concurrency(), func(i int) error {
		d, err := n.Day(ctx, mine[i], date, byID, keywords, checkins)
		d.Prizes = winners
		days[i] = d
		return err
	})
	if err != nil {
		return err
	}
	corpus := n.Scorer.Corpus(days)
	err = forEach(len(days), n.concurrency(), func(i int) error {
		days[i].Corpus = corpus
		_, err := n.score(ctx, days[i])
		return err
	})
	if err != nil {
		return err
	}
	done, err := n.Stores.Scores.FinishScoringShard(ctx, runKey(run), shard, shards)
	if err != nil {
		return fmt.Errorf("score night %s: %w", date, err)
	}
	if !done {
		return nil
	}
	return n.Report(ctx, date, runKey(run))
}

func (n *Night) groups(ctx context.Context) ([]qunyun.Group, error) {
	all, err := n.Stores.Catalog.Groups(ctx)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	var out []qunyun.Group
	for _, g := range all {
		if n.Groups != nil && !n.Groups(g) {
			continue
		}
		if n.Groups == nil && g.State == qunyun.GroupDismissed {
			continue
		}
		out = append(out, g)
	}
	return out, nil
}

// Day reads one group's local day from the store.
func (n *Night) Day(ctx context.Context, g qunyun.Group, date string, contents map[string]qunyun.Content,
	keywords []qunyun.KeywordRule, checkins []qunyun.CheckinRule) (GroupDay, error) {
	loc := g.Location()
	start, err := time.ParseInLocation(time.DateOnly, date, loc)
	if err != nil {
		return GroupDay{}, qunyun.Errorf(qunyun.EINVALID, "bad date %q", date)
	}
	end := start.AddDate(0, 0, 1)
	d := GroupDay{Group: g, Date: date, Start: start, End: end, Contents: contents,
		KeywordRules: keywords, CheckinRules: checkins, Levels: map[string]qunyun.MemberLevel{}}
	wrap := func(what string, err error) error { return fmt.Errorf("score %s on %s: %s: %w", g.ID, date, what, err) }
	if d.Members, err = n.Stores.Catalog.Members(ctx, g.ID); err != nil {
		return d, wrap("members", err)
	}
	if d.Log, err = n.Stores.Log.GroupLog(ctx, g.ID, start, end); err != nil {
		return d, wrap("log", err)
	}
	// Pushes of the evening before count for leaves after a push.
	earlier, err := n.Stores.Deliveries.GroupDeliveriesBetween(ctx, g.ID, start.Add(-24*time.Hour), start)
	if err != nil {
		return d, wrap("deliveries", err)
	}
	d.Log.Deliveries = append(earlier, d.Log.Deliveries...)
	// Sessions that began a little before the day too: a question asked
	// after midnight counts on the day it was asked (facts filter by time).
	sessions, err := n.Stores.Sessions.GroupSessions(ctx, g.ID, start.Add(-sessionLookBehind), end)
	if err != nil {
		return d, wrap("sessions", err)
	}
	for _, s := range sessions {
		qs, err := n.Stores.Sessions.Questions(ctx, s.ID)
		if err != nil {
			return d, wrap("questions", err)
		}
		d.Sessions = append(d.Sessions, SessionDay{Session: s, Questions: qs})
	}
	from := start.AddDate(0, 0, -(windowDays - 1)).Format(time.DateOnly)
	before := start.AddDate(0, 0, -1).Format(time.DateOnly)
	if d.History, err = n.Stores.Scores.GroupScores(ctx, g.ID, from, before); err != nil {
		return d, wrap("history", err)
	}
	levels, err := n.Stores.Scores.MemberLevels(ctx, g.ID)
	if err != nil {
		return d, wrap("levels", err)
	}
	for _, l := range levels {
		d.Levels[l.MemberID] = l
	}
	return d, nil
}

// winners counts, per winner's id, the prizes of the contests that ended on
// date (in the default time zone).
func (n *Night) winners(ctx context.Context, date string) (map[string]int, error) {
	contests, err := n.Stores.Catalog.Contests(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, c := range contests {
		end, err := time.Parse(time.RFC3339, c.End)
		if err != nil || end.In(qunyun.LoadLocation("")).Format(time.DateOnly) != date {
			continue
		}
		entries, err := n.Stores.Scores.ContestEntries(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Winner {
				out[e.OpenID]++
			}
		}
	}
	return out, nil
}

// Group scores one group for date and stores the results.
func (n *Night) Group(ctx context.Context, g qunyun.Group, date string, contents map[string]qunyun.Content,
	keywords []qunyun.KeywordRule, checkins []qunyun.CheckinRule) (Result, error) {
	return n.group(ctx, g, date, contents, keywords, checkins, nil)
}

func (n *Night) group(ctx context.Context, g qunyun.Group, date string, contents map[string]qunyun.Content,
	keywords []qunyun.KeywordRule, checkins []qunyun.CheckinRule, prizes map[string]int) (Result, error) {
	d, err := n.Day(ctx, g, date, contents, keywords, checkins)
	if err != nil {
		return Result{}, err
	}
	d.Prizes = prizes
	return n.score(ctx, d)
}

// score scores one read group-day and stores the results.
func (n *Night) score(ctx context.Context, d GroupDay) (Result, error) {
	g, date := d.Group, d.Date
	if err := n.Scorer.Ready(); err != nil {
		return Result{}, fmt.Errorf("score %s on %s: %w", g.ID, date, err)
	}
	res := n.Scorer.Score(d)
	if err := n.Stores.Scores.PutGroupScore(ctx, res.Score); err != nil {
		return res, err
	}
	current := map[string]qunyun.Member{}
	for _, m := range d.Members {
		current[m.ID] = m
	}
	err := forEach(len(res.Levels), 2*n.concurrency(), func(i int) error {
		l := res.Levels[i]
		if err := n.Stores.Scores.PutMemberLevel(ctx, l); err != nil {
			return err
		}
		if m, ok := current[l.MemberID]; ok && (m.Tier != l.Tier || !sameTags(m.AutoTags, l.Tags)) {
			if err := n.Stores.Scores.SetMemberTier(ctx, g.ID, l.MemberID, l.Tier, l.Tags); err != nil {
				return fmt.Errorf("score %s on %s: %w", g.ID, date, err)
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	// Only the newest night decides the flag push acts on.
	if latest := n.today(g); date >= latest.AddDate(0, 0, -1).Format(time.DateOnly) {
		if _, err := n.Stores.Scores.SetGroupNoisy(ctx, g.ID, res.Score.Noisy); err != nil {
			return res, fmt.Errorf("score %s on %s: %w", g.ID, date, err)
		}
	}
	return res, nil
}

// now is the night's clock; Now is required (no wall-clock default, so a
// test on a fixed date never depends on today's).
func (n *Night) now() time.Time {
	if n.Now == nil {
		panic("scoring: Night.Now is required")
	}
	return n.Now()
}

func (n *Night) today(g qunyun.Group) time.Time {
	t := n.now().In(g.Location())
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, g.Location())
}

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
	day, _ := time.Parse(time.DateOnly, date)
	from := day.AddDate(0, 0, -27).Format(time.DateOnly)
	tags := map[string]float64{}
	noisy := 0
	loc := qunyun.LoadLocation("") // recaps: the report's day in the default zone
	for _, s := range scores {
		if s.Noisy {
			noisy++
		}
		for st, c := range s.Deliveries {
			r.Deliveries[st] += c
		}
		for i, t := range s.Tags {
			tags[t] += float64(len(s.Tags) - i)
		}
		history, err := n.Stores.Scores.GroupScores(ctx, s.GroupID, from, date)
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
	// Recaps of the week ending with the date, every group's: sessions run
	// a few times a week, so the date alone mostly had none ("今天没有
	// 嘉宾场" in a week of sessions), and a group not scored yet still had
	// its session.
	end, _ := time.ParseInLocation(time.DateOnly, date, loc)
	end = end.AddDate(0, 0, 1)
	sessions, err := n.Stores.Sessions.SessionsStarting(ctx, end.AddDate(0, 0, -RecapDays), end)
	if err != nil {
		return err
	}
	for _, ss := range sessions {
		if rc, ok, err := n.Stores.Sessions.Recap(ctx, ss.ID); err != nil {
			return err
		} else if ok {
			rc.DigestMembers = nil // personal: not for the dashboard
			r.Recaps = append(r.Recaps, rc)
		}
	}
	// Skips are counted over every delivery of the day, not only the
	// groups' (GroupScore.Deliveries): a 1:1 message skipped for fatigue or
	// the customer-service window is a skip the operator should see too.
	deliveries, err := n.Stores.Deliveries.DeliveriesBetween(ctx, end.AddDate(0, 0, -1), end)
	if err != nil {
		return err
	}
	for _, d := range deliveries {
		if d.State == qunyun.DeliverySkipped {
			if r.Skips == nil {
				r.Skips = map[string]int{}
			}
			r.Skips[d.Reason]++
		}
	}
	if r.Contests, err = n.contestStandings(ctx, end.AddDate(0, 0, -ContestDays), end); err != nil {
		return err
	}
	if r.Heat, err = n.Stores.Links.ReadingHeat(ctx, end.AddDate(0, 0, -1), end); err != nil {
		return err
	}
	r.Heat = r.Heat[:min(len(r.Heat), HeatTop)] // the report is one item, at most 400 KB
	for t, sc := range tags {
		r.Tags = append(r.Tags, qunyun.TagCount{Tag: t, Score: sc})
	}
	sort.Slice(r.Tags, func(i, j int) bool {
		if r.Tags[i].Score != r.Tags[j].Score {
			return r.Tags[i].Score > r.Tags[j].Score
		}
		return r.Tags[i].Tag < r.Tags[j].Tag
	})
	if len(r.Tags) > 20 {
		r.Tags = r.Tags[:20]
	}
	if err := n.Stores.Scores.PutReport(ctx, r); err != nil {
		return err
	}
	if n.Bus != nil {
		err := n.Bus.Publish(ctx, bus.Event{DetailType: qunyun.EventScoresComputed,
			Detail: qunyun.ScoresComputed{ID: cmp.Or(run, date), Date: date, Groups: len(scores), Noisy: noisy}})
		if err != nil {
			return fmt.Errorf("publish scores of %s: %w", date, err)
		}
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

// sameTags compares tags as sets: their order shifts daily (today's first)
// and is not worth a write.
func sameTags(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, t := range a {
		if !slices.Contains(b, t) {
			return false
		}
	}
	return true
}
