// Package contest runs Official Account comment contests 留言活动 (seed 003):
// shares cannot be verified, so a contest runs on an article's comments.
//
// Each night it fetches the comments (paginated, fewer than 50 a call: the
// API's limit), applies the rules — a minimum length, staff excluded, one
// entry per member (their earliest qualifying comment) — and ranks the
// entries by likes the operator imported from a CSV export (the API returns
// no like counts) plus the votes members sent to the OA as "投票 <编号>"
// (one vote per member per contest). Members who followed the OA during the
// contest are flagged on their entries and votes. Once the contest has
// ended, the winners' comments are marked elected and replied to, and each
// winner is notified through push (a DeliveryRequested event).
//
// It must not send messages itself (push does) and must not decide who is
// staff beyond the roles the catalog records.
package contest

import (
	"context"
	_ "embed"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/qunyun"
)

//go:embed texts.yaml
var textsYAML []byte

// Comment is one article comment as the comment API returns it.
type Comment struct {
	ID         int64
	OpenID     string
	CreateTime int64 // Unix seconds
	Content    string
	Elected    bool
}

// Comments is the OA comment API a contest needs.
type Comments interface {
	// List returns comments [begin, begin+count) and the total; count < 50.
	List(ctx context.Context, c qunyun.Contest, begin, count int) (total int, page []Comment, err error)
	MarkElect(ctx context.Context, c qunyun.Contest, commentID int64) error
	Reply(ctx context.Context, c qunyun.Contest, commentID int64, text string) error
}

// Stores are the parts of the table a contest reads and writes; main
// gives it the dynamo stores.
type Stores struct {
	Catalog Catalog
	Log     Log
	Scores  Scores
}

// Catalog is what a contest reads of the community: the contests and a
// member's groups (dynamo.Catalog).
type Catalog interface {
	Contests(ctx context.Context) ([]qunyun.Contest, error)
	MemberGroups(ctx context.Context, memberID string) ([]qunyun.Member, error)
}

// Log is what a contest reads of an account's 1:1 log, for the votes
// (dynamo.Log).
type Log interface {
	AccountLog(ctx context.Context, accountID string, from, to time.Time) ([]qunyun.Message, []qunyun.AccountEvent, error)
}

// Scores is where a contest keeps its entries and votes (dynamo.Scores).
type Scores interface {
	ContestEntries(ctx context.Context, contestID string) ([]qunyun.ContestEntry, error)
	PutContestEntry(ctx context.Context, e qunyun.ContestEntry) error
	RecordContestVote(ctx context.Context, v qunyun.ContestVote) (bool, error)
	ContestVotes(ctx context.Context, contestID string) ([]qunyun.ContestVote, error)
}

// Publisher puts events on the bus.
type Publisher interface {
	Publish(ctx context.Context, events ...bus.Event) error
}

// PageSize is how many comments one List call asks for (the API wants < 50).
const PageSize = 49

// DefaultWinners is how many entries win when a contest does not say.
const DefaultWinners = 3

// Runner runs contests. Create it with New.
type Runner struct {
	Stores   Stores
	Comments func(accountID string) (Comments, error) // the comment API of an OA
	Bus      Publisher
	Now      func() time.Time
	// Staff lists community.yaml's staff (dynamo.People.Staff): their
	// Official Account openid is how a staff comment is known, an OA
	// having no groups whose member roles could say it. nil: roles only.
	Staff    func(ctx context.Context) ([]qunyun.Staff, error)
	reply    *template.Template
	notify   *template.Template
	voteWord string
}

// New returns a Runner with its texts loaded.
func New(stores Stores, comments func(accountID string) (Comments, error), pub Publisher, now func() time.Time) (*Runner, error) {
	var f struct {
		Reply    string `yaml:"reply"`
		Notify   string `yaml:"notify"`
		VoteWord string `yaml:"voteWord"`
	}
	if err := yaml.Unmarshal(textsYAML, &f); err != nil {
		return nil, fmt.Errorf("contest texts: %w", err)
	}
	r := &Runner{Stores: stores, Comments: comments, Bus: pub, Now: now, voteWord: f.VoteWord}
	var err error
	if r.reply, err = template.New("reply").Parse(f.Reply); err != nil {
		return nil, fmt.Errorf("contest texts: reply: %w", err)
	}
	if r.notify, err = template.New("notify").Parse(f.Notify); err != nil {
		return nil, fmt.Errorf("contest texts: notify: %w", err)
	}
	return r, nil
}

// window parses a contest's start and end.
func window(c qunyun.Contest) (time.Time, time.Time, error) {
	start, err1 := time.Parse(time.RFC3339, c.Start)
	end, err2 := time.Parse(time.RFC3339, c.End)
	if err1 != nil || err2 != nil || !end.After(start) {
		return time.Time{}, time.Time{}, qunyun.Errorf(qunyun.EINVALID, "contest %s: start and end must be RFC 3339 with end after start", c.ID)
	}
	return start, end, nil
}

// RunAll updates every contest that has started and not been settled for
// more than a week: standings while it runs, winners once it ended.
func (r *Runner) RunAll(ctx context.Context) error {
	contests, err := r.Stores.Catalog.Contests(ctx)
	if err != nil {
		return fmt.Errorf("contests: %w", err)
	}
	now := r.Now()
	for _, c := range contests {
		start, end, err := window(c)
		if err != nil {
			slog.WarnContext(ctx, "contest skipped", "contest", c.ID, "err", err)
			continue
		}
		if now.Before(start) || now.Sub(end) > 7*24*time.Hour {
			continue
		}
		if _, err := r.Run(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// Run fetches, filters and ranks one contest's entries and, once it has
// ended, settles its winners. Re-running it changes nothing that is settled.
func (r *Runner) Run(ctx context.Context, c qunyun.Contest) ([]qunyun.ContestEntry, error) {
	start, end, err := window(c)
	if err != nil {
		return nil, err
	}
	api, err := r.Comments(c.AccountID)
	if err != nil {
		return nil, fmt.Errorf("contest %s: %w", c.ID, err)
	}
	comments, err := fetchAll(ctx, api, c)
	if err != nil {
		return nil, fmt.Errorf("contest %s: %w", c.ID, err)
	}
	stored, err := r.Stores.Scores.ContestEntries(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	byID := map[int64]qunyun.ContestEntry{}
	for _, e := range stored {
		byID[e.CommentID] = e
	}
	for _, cm := range comments {
		e := byID[cm.ID]
		e.ContestID, e.CommentID, e.OpenID, e.Content = c.ID, cm.ID, cm.OpenID, cm.Content
		e.At = time.Unix(cm.CreateTime, 0).UTC()
		e.Elected = e.Elected || cm.Elected
		byID[cm.ID] = e
	}
	followers, err := r.votes(ctx, c, start, end, byID)
	if err != nil {
		return nil, err
	}
	staff, err := r.staffOf(ctx, c, byID)
	if err != nil {
		return nil, err
	}
	entries := make([]qunyun.ContestEntry, 0, len(byID))
	for _, e := range byID {
		e.FollowedDuring = followers[e.OpenID]
		entries = append(entries, e)
	}
	entries = Rank(entries, c, func(openID string) bool { return staff[openID] })
	ended := !r.Now().Before(end)
	for i := range entries {
		if ended && entries[i].Winner {
			if err := r.settle(ctx, api, c, &entries[i]); err != nil {
				// Keep what was done, so the retry does not do it again.
				if perr := r.Stores.Scores.PutContestEntry(ctx, entries[i]); perr != nil {
					slog.ErrorContext(ctx, "contest entry not saved", "contest", c.ID, "comment", entries[i].CommentID, "err", perr)
				}
				return entries, err
			}
		}
		if err := r.Stores.Scores.PutContestEntry(ctx, entries[i]); err != nil {
			return entries, err
		}
	}
	return entries, nil
}

// staffOf tells, for every author of entries, whether they are staff: on
// the operator's staff list for the contest's account, or staff in one of
// their groups. Rank excludes staff's entries.
func (r *Runner) staffOf(ctx context.Context, c qunyun.Contest, entries map[int64]qunyun.ContestEntry) (map[string]bool, error) {
	staff := map[string]bool{}
	if r.Staff != nil {
		list, err := r.Staff(ctx)
		if err != nil {
			return nil, fmt.Errorf("contest %s: %w", c.ID, err)
		}
		for _, s := range list {
			if id := s.IDs[c.AccountID]; id != "" {
				staff[id] = true
			}
		}
	}
	for _, e := range entries {
		if _, seen := staff[e.OpenID]; seen {
			continue
		}
		groups, err := r.Stores.Catalog.MemberGroups(ctx, e.OpenID)
		if err != nil {
			return nil, fmt.Errorf("contest %s: %w", c.ID, err)
		}
		staff[e.OpenID] = false
		for _, m := range groups {
			if m.Role.Staff() {
				staff[e.OpenID] = true
			}
		}
	}
	return staff, nil
}

// fetchAll pages through every comment of the article.
func fetchAll(ctx context.Context, api Comments, c qunyun.Contest) ([]Comment, error) {
	var all []Comment
	seen := map[int64]bool{}
	for begin := 0; ; begin += PageSize {
		total, page, err := api.List(ctx, c, begin, PageSize)
		if err != nil {
			return nil, fmt.Errorf("list comments from %d: %w", begin, err)
		}
		all = append(all, page...)
		if len(page) == 0 || begin+len(page) >= total {
			return all, nil
		}
		// A page of comments seen before would page for ever.
		fresh := false
		for _, cm := range page {
			fresh = fresh || !seen[cm.ID]
			seen[cm.ID] = true
		}
		if !fresh {
			return nil, qunyun.Errorf(qunyun.EUNAVAILABLE, "list comments from %d: the page repeats earlier ones (total %d)", begin, total)
		}
	}
}

// Rank applies the rules and orders the entries: eligible ones by score
// (likes + votes), earlier comments first on a tie, then the excluded ones.
// The best Winners eligible entries win.
func Rank(entries []qunyun.ContestEntry, c qunyun.Contest, staff func(openID string) bool) []qunyun.ContestEntry {
	sort.Slice(entries, func(i, j int) bool {
		if !entries[i].At.Equal(entries[j].At) {
			return entries[i].At.Before(entries[j].At)
		}
		return entries[i].CommentID < entries[j].CommentID
	})
	entered := map[string]bool{}
	for i := range entries {
		e := &entries[i]
		e.Excluded, e.Rank, e.Winner = "", 0, false
		switch {
		case staff(e.OpenID):
			e.Excluded = qunyun.ExcludedStaff
		case utf8.RuneCountInString(strings.TrimSpace(e.Content)) < c.MinLength:
			e.Excluded = qunyun.ExcludedTooShort
		case entered[e.OpenID]:
			e.Excluded = qunyun.ExcludedDuplicate
		default:
			entered[e.OpenID] = true
		}
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i], entries[j]
		if (a.Excluded == "") != (b.Excluded == "") {
			return a.Excluded == ""
		}
		return a.Excluded == "" && a.Score() > b.Score()
	})
	winners := c.Winners
	if winners <= 0 {
		winners = DefaultWinners
	}
	rank := 0
	for i := range entries {
		if entries[i].Excluded != "" {
			continue
		}
		rank++
		entries[i].Rank = rank
		entries[i].Winner = rank <= winners && entries[i].Score() > 0
	}
	return entries
}

// ParseVote reads "投票 <编号>" (also "投票<编号>", "投票 #12"); ok is false
// for any other text.
func ParseVote(text, word string) (int64, bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(text), word)
	if !found {
		return 0, false
	}
	rest = strings.TrimLeft(strings.TrimSpace(rest), "#＃:：")
	id, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// votes records the members' "投票 <编号>" messages sent during the contest
// (one per member: the first counts) and counts them onto the entries. It
// returns the members who subscribed during the contest.
func (r *Runner) votes(ctx context.Context, c qunyun.Contest, start, end time.Time, entries map[int64]qunyun.ContestEntry) (map[string]bool, error) {
	msgs, evts, err := r.Stores.Log.AccountLog(ctx, c.AccountID, start, end)
	if err != nil {
		return nil, fmt.Errorf("contest %s: %w", c.ID, err)
	}
	followers := map[string]bool{}
	for _, e := range evts {
		if e.Type == qunyun.EventSubscribed {
			followers[e.MemberID] = true
		}
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].At.Before(msgs[j].At) })
	for _, m := range msgs {
		id, ok := ParseVote(m.Text, r.voteWord)
		if !ok {
			continue
		}
		if _, exists := entries[id]; !exists {
			continue // a vote for no entry counts for nothing (and uses no vote)
		}
		if _, err := r.Stores.Scores.RecordContestVote(ctx, qunyun.ContestVote{ContestID: c.ID, MemberID: m.MemberID,
			CommentID: id, MessageID: m.ID, At: m.At}); err != nil {
			return nil, err
		}
	}
	votes, err := r.Stores.Scores.ContestVotes(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	counts := map[int64]int{}
	fresh := map[int64]int{}
	for _, v := range votes {
		counts[v.CommentID]++
		if followers[v.MemberID] {
			fresh[v.CommentID]++
		}
	}
	for id, e := range entries {
		e.Votes, e.NewFollowerVotes = counts[id], fresh[id]
		entries[id] = e
	}
	return followers, nil
}

// settle marks a winner elected, replies to the comment and asks push to
// notify the winner, each once.
func (r *Runner) settle(ctx context.Context, api Comments, c qunyun.Contest, e *qunyun.ContestEntry) error {
	data := map[string]any{"Title": c.Title, "Rank": e.Rank, "Number": e.CommentID, "Score": e.Score()}
	if !e.Elected {
		if err := api.MarkElect(ctx, c, e.CommentID); err != nil {
			return fmt.Errorf("contest %s: mark %d elected: %w", c.ID, e.CommentID, err)
		}
		e.Elected = true
	}
	if !e.Replied {
		text, err := execute(r.reply, data)
		if err != nil {
			return fmt.Errorf("contest %s: reply text: %w", c.ID, err)
		}
		if err := api.Reply(ctx, c, e.CommentID, text); err != nil {
			return fmt.Errorf("contest %s: reply to %d: %w", c.ID, e.CommentID, err)
		}
		e.Replied = true
	}
	if !e.Notified && r.Bus != nil {
		text, err := execute(r.notify, data)
		if err != nil {
			return fmt.Errorf("contest %s: notice text: %w", c.ID, err)
		}
		// The id makes push deliver it once, however often this runs.
		req := qunyun.DeliveryRequest{ID: "contest#" + c.ID + "#" + strconv.FormatInt(e.CommentID, 10), Source: qunyun.SourceContest,
			TargetKind: qunyun.TargetMember, TargetID: e.OpenID, AccountID: c.AccountID,
			Content: &qunyun.Content{ID: "contest-" + c.ID, Kind: qunyun.ContentText, Text: text}}
		if err := r.Bus.Publish(ctx, bus.Event{DetailType: qunyun.EventDeliveryRequested, Detail: req}); err != nil {
			return fmt.Errorf("contest %s: notify winner: %w", c.ID, err)
		}
		e.Notified = true
	}
	return nil
}

func execute(t *template.Template, data any) (string, error) {
	var b strings.Builder
	err := t.Execute(&b, data)
	return b.String(), err
}
