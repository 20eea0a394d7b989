package simulate

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/push"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/session"
)

// Summary is what a run did and what the stack made of it. Everything in it
// is determined by the seed: two runs with the same seed print the same.
type Summary struct {
	Seed    uint64 `json:"seed"`
	Days    int    `json:"days"`
	Groups  int    `json:"groups"`
	Members int    `json:"members"`
	// Sent and Accepted count callbacks and member actions by kind.
	Sent     Counts `json:"sent"`
	Accepted Counts `json:"accepted"`
	// Rejected counts callbacks never accepted, by kind and reason.
	Rejected      map[string]int `json:"rejected"`
	Questions     int            `json:"questions"`     // session questions the members asked
	Confirmations int            `json:"confirmations"` // customer-group tasks the owners confirmed
	LinkOpens     int            `json:"linkOpens"`
	Deliveries    map[string]int `json:"deliveries"` // by state
	// ByClass counts deliveries by class (docs/deliveries.md), then by
	// outcome: the state, with the reason when there is one
	// ("skipped:daily_cap"), and "deferred" for those quiet hours held back
	// at least once, whatever became of them.
	ByClass  map[qunyun.DeliveryClass]map[string]int `json:"byClass"`
	Sessions map[string]int                          `json:"sessions"` // by state, of sessions that started in the run
	// Reached says, per session that started in the run, what became of
	// its preview, opening, closing notice and recap in its group.
	Reached    []SessionReach `json:"reached"`
	Scores     []ScoreLine    `json:"scores"`               // each group's latest scored day
	ReportDate string         `json:"reportDate,omitempty"` // the latest daily report's date, "" if none
	ReportPath string         `json:"reportPath,omitempty"` // where the HTML report was written, if it was
}

// ScoreLine is one group's latest score.
type ScoreLine struct {
	GroupID string  `json:"group" dynamodbav:"group"`
	Purpose string  `json:"purpose" dynamodbav:"purpose"`
	Date    string  `json:"date,omitempty" dynamodbav:"date"` // "" when the group was never scored
	Value   float64 `json:"value" dynamodbav:"value"`
	Value7  float64 `json:"value7" dynamodbav:"value7"`
	Noisy   bool    `json:"noisy" dynamodbav:"noisy"`
	Dying   bool    `json:"dying" dynamodbav:"-"`
}

// SessionReach is one session's messages to its group, each "sent" when it
// reached the group, else the delivery's state and reason ("" when none
// was asked for, "" also for a session cancelled before it began).
type SessionReach struct {
	SessionID string              `json:"sessionId"`
	GroupID   string              `json:"groupId"`
	Start     time.Time           `json:"start"`
	State     qunyun.SessionState `json:"state"`
	Preview   string              `json:"preview"`
	Opening   string              `json:"opening"`
	Closing   string              `json:"closing"`
	Recap     string              `json:"recap"`
}

// Held reports whether the session ran (opened and ended).
func (r SessionReach) Held() bool {
	return r.State == qunyun.SessionClosed || r.State == qunyun.SessionRecapped
}

var deliveryStates = []qunyun.DeliveryState{qunyun.DeliveryClaimed, qunyun.DeliveryTaskCreated, qunyun.DeliverySent,
	qunyun.DeliveryNotSent, qunyun.DeliveryExpired, qunyun.DeliverySkipped, qunyun.DeliveryFailed, qunyun.DeliveryUnknown}

// summarise reads deliveries, sessions, scores and the report for the run.
func (s *Simulation) summarise(ctx context.Context, end time.Time) (*Summary, error) {
	s.stats.mu.Lock()
	sum := &Summary{
		Seed: s.Seed, Days: s.Days, Groups: len(s.World.Groups), Members: s.World.MemberCount(),
		Sent: s.stats.sent, Accepted: s.stats.accepted, Rejected: s.stats.rejected,
		Questions: s.stats.qa, Confirmations: s.stats.confirms, LinkOpens: s.stats.opens,
		Deliveries: map[string]int{}, Sessions: map[string]int{}, ByClass: map[qunyun.DeliveryClass]map[string]int{},
		Scores: []ScoreLine{}, Reached: []SessionReach{},
	}
	s.stats.mu.Unlock()
	byID, err := s.countDeliveries(ctx, sum, end)
	if err != nil {
		return nil, err
	}
	if err := s.countSessions(ctx, sum, end, byID); err != nil {
		return nil, err
	}
	if err := s.readScores(ctx, sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// countDeliveries counts the simulated groups' deliveries around the run
// by state and class, and returns them by id.
func (s *Simulation) countDeliveries(ctx context.Context, sum *Summary, end time.Time) (map[string]qunyun.Delivery, error) {
	t := s.Stack.Table
	byID := map[string]qunyun.Delivery{}
	// Deliveries are keyed by the UTC date of their slot.
	for d := s.Start.Add(-24 * time.Hour); d.Before(end.Add(24 * time.Hour)); d = d.Add(24 * time.Hour) {
		date := d.UTC().Format(time.DateOnly)
		for _, st := range deliveryStates {
			items, err := dynamo.Deliveries{Table: t}.DayDeliveries(ctx, date, st)
			if err != nil {
				return nil, fmt.Errorf("summary: deliveries of %s: %w", date, err)
			}
			for _, it := range items {
				if s.group(it.GroupID) != nil || it.GroupID == "" {
					sum.Deliveries[string(st)]++
					sum.countClass(it.Delivery)
					byID[it.ID] = it.Delivery
				}
			}
		}
	}
	return byID, nil
}

// countSessions counts the sessions of the run's groups by state and tells how far each
// one's opening, closing and recap got (byID: the deliveries).
func (s *Simulation) countSessions(ctx context.Context, sum *Summary, end time.Time, byID map[string]qunyun.Delivery) error {
	sessions, err := dynamo.Sessions{Table: s.Stack.Table}.SessionsStarting(ctx, s.Start, end)
	if err != nil {
		return fmt.Errorf("summary: sessions: %w", err)
	}
	for _, ss := range sessions {
		if s.group(ss.GroupID) == nil {
			continue // a group outside the run (--groups): its deliveries are not counted either
		}
		sum.Sessions[string(ss.State)]++
		reach := func(step string) string {
			d, ok := byID[session.DeliveryID(ss.ID, step, ss.GroupID)]
			switch {
			case !ok:
				return ""
			case d.Reason != "":
				return string(d.State) + ":" + d.Reason
			}
			return string(d.State)
		}
		sum.Reached = append(sum.Reached, SessionReach{SessionID: ss.ID, GroupID: ss.GroupID, Start: ss.Start, State: ss.State,
			Preview: reach("preview"), Opening: reach("opening"), Closing: reach("closing"), Recap: reach("recap")})
	}
	sort.Slice(sum.Reached, func(i, j int) bool {
		a, b := sum.Reached[i], sum.Reached[j]
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.SessionID < b.SessionID
	})
	return nil
}

// readScores reads each group's latest score and the latest report's date.
func (s *Simulation) readScores(ctx context.Context, sum *Summary) error {
	t := s.Stack.Table
	for _, g := range s.World.Groups {
		items, err := t.QueryItems(ctx, dynamo.Query{PK: "GROUP#" + g.ID, SKPrefix: "SCORE#", Desc: true, Limit: 1})
		if err != nil {
			return fmt.Errorf("summary: score of %s: %w", g.ID, err)
		}
		line := ScoreLine{GroupID: g.ID, Purpose: string(g.Purpose), Dying: g.Dying}
		if len(items) == 1 {
			if err := dynamo.Unmarshal(items[0], &line); err != nil {
				return fmt.Errorf("summary: score of %s: %w", g.ID, err)
			}
			line.GroupID, line.Dying = g.ID, g.Dying
		}
		sum.Scores = append(sum.Scores, line)
	}
	reports, err := t.QueryItems(ctx, dynamo.Query{PK: "REPORT", Desc: true, Limit: 1})
	if err != nil {
		return fmt.Errorf("summary: report: %w", err)
	}
	if len(reports) == 1 {
		var k dynamo.Keys
		if err := dynamo.Unmarshal(reports[0], &k); err == nil {
			sum.ReportDate = k.SK
		}
	}
	return nil
}

// countClass adds one delivery to ByClass.
func (sum *Summary) countClass(d qunyun.Delivery) {
	c := push.ClassOf(d)
	if sum.ByClass[c] == nil {
		sum.ByClass[c] = map[string]int{}
	}
	outcome := string(d.State)
	if d.Reason != "" && d.State != qunyun.DeliveryClaimed {
		outcome += ":" + d.Reason
	}
	sum.ByClass[c][outcome]++
	if !d.DeferredUntil.IsZero() {
		sum.ByClass[c]["deferred"]++
	}
}

// Print writes the summary as plain aligned text.
func (sum *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "simulated %d days, %d groups, %d members (seed %d)\n", sum.Days, sum.Groups, sum.Members, sum.Seed)
	fmt.Fprintf(w, "callbacks sent      %s\n", sum.Sent)
	fmt.Fprintf(w, "callbacks accepted  %s\n", sum.Accepted)
	fmt.Fprintf(w, "rejected            %d%s\n", total(sum.Rejected), states(sum.Rejected))
	fmt.Fprintf(w, "session questions   %d\n", sum.Questions)
	fmt.Fprintf(w, "tasks confirmed     %d\n", sum.Confirmations)
	fmt.Fprintf(w, "link opens          %d\n", sum.LinkOpens)
	fmt.Fprintf(w, "deliveries          %d%s\n", total(sum.Deliveries), states(sum.Deliveries))
	for _, c := range []qunyun.DeliveryClass{qunyun.ClassAlert, qunyun.ClassStaff, qunyun.ClassSession, qunyun.ClassWelcome, qunyun.ClassReply, qunyun.ClassContent} {
		if m := sum.ByClass[c]; len(m) > 0 {
			fmt.Fprintf(w, "  %-17s %s\n", c, strings.Trim(states(m), " ()"))
		}
	}
	fmt.Fprintf(w, "sessions            %d%s\n", total(sum.Sessions), states(sum.Sessions))
	held, recapped := 0, 0
	for _, r := range sum.Reached {
		if r.Held() {
			held++
			if r.Recap == string(qunyun.DeliverySent) {
				recapped++
			}
		}
	}
	fmt.Fprintf(w, "  recap reached the group in %d of %d held sessions; preview / opening / closing notice / recap:\n", recapped, held)
	for _, r := range sum.Reached {
		fmt.Fprintf(w, "  %-26s %-12s %s %-9s %s / %s / %s / %s\n", r.SessionID, r.GroupID, r.Start.UTC().Format("01-02 15:04Z"), r.State,
			orDash(r.Preview), orDash(r.Opening), orDash(r.Closing), orDash(r.Recap))
	}
	fmt.Fprintln(w, "scores (latest day)")
	fmt.Fprintf(w, "  %-14s %-15s %-10s %7s %7s  %s\n", "group", "purpose", "date", "value", "7-day", "")
	for _, l := range sum.Scores {
		var notes []string
		if l.Noisy {
			notes = append(notes, "noisy")
		}
		if l.Dying {
			notes = append(notes, "simulated as dying")
		}
		if l.Date == "" {
			fmt.Fprintf(w, "  %-14s %-15s %-10s %7s %7s  %s\n", l.GroupID, l.Purpose, "-", "-", "-", strings.Join(notes, ", "))
			continue
		}
		fmt.Fprintf(w, "  %-14s %-15s %-10s %7.1f %7.1f  %s\n", l.GroupID, l.Purpose, l.Date, l.Value, l.Value7, strings.Join(notes, ", "))
	}
	switch {
	case sum.ReportPath != "":
		fmt.Fprintf(w, "report              %s (%s)\n", sum.ReportPath, sum.ReportDate)
	case sum.ReportDate != "":
		fmt.Fprintf(w, "report              daily report of %s stored (qunyun report writes it as HTML)\n", sum.ReportDate)
	default:
		fmt.Fprintln(w, "report              none: the nightly scoring stored no report")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func states(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return " (" + strings.Join(parts, " ") + ")"
}
