package main

import (
	"context"
	"sort"
	"time"

	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// reply is a row of `get replies --json`.
type reply struct {
	At         time.Time      `json:"at"`
	GroupID    string         `json:"group"`
	AccountID  string         `json:"account"`
	Channel    qunyun.Channel `json:"channel"`
	MemberID   string         `json:"member"`
	MemberName string         `json:"memberName,omitempty"`
	Text       string         `json:"text"`
	Reply      string         `json:"reply"`
	// Kind is the rule that answers the text by today's rules: keyword,
	// checkin, or other (a contribution's receipt, a rule since changed).
	Kind string `json:"kind"`
}

// getReplies lists what the callback answered at once in the groups on
// --date (the smart bot's keyword and check-in replies), oldest first.
func getReplies(ctx context.Context, t *dynamo.Table, f getFilters, now time.Time) ([]string, [][]string, any, error) {
	ids, err := groupIDs(ctx, t, f.group)
	if err != nil {
		return nil, nil, nil, err
	}
	keywords, checkins, err := dynamo.Catalog{Table: t}.AllRules(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	from, to, _ := localDay(f.date, f.tz, now)
	var out []reply
	for _, id := range ids {
		answered, err := dynamo.Replies{Table: t}.InGroup(ctx, id, from, to)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, a := range answered {
			m := a.Message
			kind := callback.AnswerKind(keywords, checkins, m)
			if kind == "" {
				kind = "other"
			}
			out = append(out, reply{At: m.At, GroupID: m.GroupID, AccountID: m.AccountID, Channel: m.Channel,
				MemberID: m.MemberID, MemberName: m.MemberName, Text: m.Text, Reply: a.Reply, Kind: kind})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	loc := qunyun.LoadLocation(f.tz)
	var rows [][]string
	for _, r := range out {
		rows = append(rows, []string{localTime(r.At, loc), r.GroupID, r.MemberID, r.Kind, excerpt(r.Text, 30), excerpt(r.Reply, 50)})
	}
	return []string{"AT", "GROUP", "MEMBER", "KIND", "TEXT", "REPLY"}, rows, out, nil
}
