package scoring

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
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
	Moderation Moderation
	// Membership recounts the members of each group scored (nil: none).
	Membership Membership
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

// Moderation is what the report reads of moderation: a group's alert
// windows and their cases (dynamo.Moderation).
type Moderation interface {
	Batches(ctx context.Context, groupID string, from, to time.Time) ([]qunyun.ModerationBatch, error)
	Case(ctx context.Context, code string) (qunyun.ModerationCase, bool, error)
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

// Shard scores the groups of one shard of a run; the shard that finds every
// shard done assembles the report and publishes ScoresComputed. Re-running
// a shard writes the same items again. A scheduled run's shard scores the
// groups due for its date at its time; a re-run by date, every group whose
// day is over.
func (n *Night) Shard(ctx context.Context, run qunyun.ScoringShard) error {
	date, shard, shards := run.Date, run.Shard, run.Shards
	at, err := checkShard(run)
	if err != nil {
		return err
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
	mine := n.shardGroups(ctx, groups, run, at)
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
	n.recount(ctx, mine)
	done, err := n.Stores.Scores.FinishScoringShard(ctx, runKey(run), shard, shards)
	if err != nil {
		return fmt.Errorf("score night %s: %w", date, err)
	}
	if !done {
		return nil
	}
	return n.Report(ctx, date, runKey(run))
}

// checkShard checks a shard request and returns the time of its scheduled
// run (zero for a re-run by date).
func checkShard(run qunyun.ScoringShard) (at time.Time, err error) {
	date, shard, shards := run.Date, run.Shard, run.Shards
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return at, qunyun.Errorf(qunyun.EINVALID, "score night: bad date %q", date)
	}
	if shards <= 0 || shard < 0 || shard >= shards {
		return at, qunyun.Errorf(qunyun.EINVALID, "score night %s: bad shard %d of %d", date, shard, shards)
	}
	if run.Run != "" {
		if at, err = time.Parse(time.RFC3339, run.Run); err != nil {
			return at, qunyun.Errorf(qunyun.EINVALID, "score night %s: bad run time %q", date, run.Run)
		}
	}
	return at, nil
}

// shardGroups picks the groups of run's shard that it scores: those due
// for its date at its scheduled time at, or for a re-run by date, those
// whose day is over.
func (n *Night) shardGroups(ctx context.Context, groups []qunyun.Group, run qunyun.ScoringShard, at time.Time) []qunyun.Group {
	date, now := run.Date, n.now()
	var mine []qunyun.Group
	for _, g := range groups {
		if ShardOf(g.ID, run.Shards) != run.Shard {
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
	return mine
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
