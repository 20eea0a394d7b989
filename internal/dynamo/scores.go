package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Scoring store (docs/data-model.md, the rows written by "scoring"):
//
//	GROUP#<gid>   SCORE#<local date>   qunyun.GroupScore; GSI1 SCORES#<date> / <gid>
//	GROUP#<gid>   LEVEL#<mid>          qunyun.MemberLevel (its last 28 days inside);
//	                                   GSI1 LEVELS#<last date written> / <gid>#<mid>
//	REPORT        <date>               qunyun.Report
//	RUN#scoring#nightly  <date>[@<run>]  the shards of a run that finished (string set "shards")
//
// Scores, levels and reports are whole-item overwrites keyed by date, so
// re-running a night writes the same items. What scoring sets on items
// others own (a group's "noisy", a member's "tier" and "autoTags") is an
// UpdateItem of those attributes alone, conditional on the item existing,
// that bumps "version" so the catalog's read-modify-write notices it.
// It reads the group-day logs with Query only, one per UTC date.

type scoreItem struct {
	Keys
	qunyun.GroupScore
}

type levelItem struct {
	Keys
	qunyun.MemberLevel
}

type reportItem struct {
	Keys
	qunyun.Report
}

// GroupLog reads a group's log items whose time is in [from, to): one Query
// per UTC date the span touches (a local day touches one or two).
func (l Log) GroupLog(ctx context.Context, groupID string, from, to time.Time) (qunyun.GroupLog, error) {
	return l.Table.groupLog(ctx, groupID, from, to, "")
}

// GroupDeliveriesBetween reads only the deliveries of a group's log in [from, to).
func (d Deliveries) GroupDeliveriesBetween(ctx context.Context, groupID string, from, to time.Time) ([]qunyun.Delivery, error) {
	log, err := d.Table.groupLog(ctx, groupID, from, to, "DLV#")
	return log.Deliveries, err
}

func (t *Table) groupLog(ctx context.Context, groupID string, from, to time.Time, prefix string) (qunyun.GroupLog, error) {
	var log qunyun.GroupLog
	in := func(at time.Time) bool { return !at.Before(from) && at.Before(to) }
	for day := from.UTC().Truncate(24 * time.Hour); day.Before(to); day = day.Add(24 * time.Hour) {
		pk := GroupLogPK(groupID, day)
		items, err := t.QueryItems(ctx, Query{PK: pk, SKPrefix: prefix})
		if err != nil {
			return log, fmt.Errorf("read log %s: %w", pk, err)
		}
		for _, it := range items {
			sk, _ := it["SK"].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			var err error
			switch prefix, _, _ := strings.Cut(sk.Value, "#"); prefix {
			case "MSG":
				var m qunyun.Message
				if err = Unmarshal(it, &m); err == nil && in(m.At) {
					log.Messages = append(log.Messages, m)
				}
			case "EVT":
				var e qunyun.GroupEvent
				if err = Unmarshal(it, &e); err == nil && in(e.At) {
					if typ, ok := it["type"].(*types.AttributeValueMemberS); ok {
						e.Type = typ.Value
					}
					log.Events = append(log.Events, e)
				}
			case "DLV":
				var d qunyun.Delivery
				if err = Unmarshal(it, &d); err == nil && in(d.At) {
					log.Deliveries = append(log.Deliveries, d)
				}
			case "OPEN":
				var o qunyun.LinkOpen
				if err = Unmarshal(it, &o); err == nil && in(o.At) {
					log.Opens = append(log.Opens, o)
				}
			case "CHECKIN":
				var c qunyun.Checkin
				if err = Unmarshal(it, &c); err == nil && in(c.At) {
					log.Checkins = append(log.Checkins, c)
				}
			case "CONTRIB":
				var c qunyun.Contributed
				if err = Unmarshal(it, &c); err == nil && in(c.At) {
					log.Contributions = append(log.Contributions, c)
				}
			}
			if err != nil {
				return log, fmt.Errorf("read log item %s %s: %w", pk, sk.Value, err)
			}
		}
	}
	return log, nil
}

// PutGroupScore stores a group's score for its date (an idempotent overwrite).
func (sc Scores) PutGroupScore(ctx context.Context, s qunyun.GroupScore) error {
	k := Keys{PK: "GROUP#" + s.GroupID, SK: "SCORE#" + s.Date, GSI1PK: "SCORES#" + s.Date, GSI1SK: s.GroupID, Type: "GroupScore"}
	if err := sc.Table.Put(ctx, scoreItem{k, s}); err != nil {
		return fmt.Errorf("put score of %s on %s: %w", s.GroupID, s.Date, err)
	}
	return nil
}

// GroupScores reads a group's scores with dates in [from, to], oldest first.
func (sc Scores) GroupScores(ctx context.Context, groupID, from, to string) ([]qunyun.GroupScore, error) {
	out, err := QueryInto[qunyun.GroupScore](ctx, sc.Table, Query{PK: "GROUP#" + groupID, SKFrom: "SCORE#" + from, SKTo: "SCORE#" + to})
	if err != nil {
		return nil, fmt.Errorf("read scores of %s: %w", groupID, err)
	}
	return out, nil
}

// ScoresOn reads every group's score for a date, by group id.
func (sc Scores) ScoresOn(ctx context.Context, date string) ([]qunyun.GroupScore, error) {
	out, err := QueryInto[qunyun.GroupScore](ctx, sc.Table, Query{Index: GSI1, PK: "SCORES#" + date})
	if err != nil {
		return nil, fmt.Errorf("read scores on %s: %w", date, err)
	}
	return out, nil
}

// PutMemberLevel stores a member's level (an idempotent overwrite).
func (sc Scores) PutMemberLevel(ctx context.Context, l qunyun.MemberLevel) error {
	k := Keys{PK: "GROUP#" + l.GroupID, SK: "LEVEL#" + l.MemberID,
		GSI1PK: "LEVELS#" + l.Date, GSI1SK: l.GroupID + "#" + l.MemberID, Type: "MemberLevel"}
	if err := sc.Table.Put(ctx, levelItem{k, l}); err != nil {
		return fmt.Errorf("put level of %s in %s: %w", l.MemberID, l.GroupID, err)
	}
	return nil
}

// MemberLevels reads the stored levels of a group's members.
func (sc Scores) MemberLevels(ctx context.Context, groupID string) ([]qunyun.MemberLevel, error) {
	out, err := QueryInto[qunyun.MemberLevel](ctx, sc.Table, Query{PK: "GROUP#" + groupID, SKPrefix: "LEVEL#"})
	if err != nil {
		return nil, fmt.Errorf("read levels of %s: %w", groupID, err)
	}
	return out, nil
}

// SetGroupNoisy sets a group's Noisy flag, touching nothing else; it reports
// whether the flag changed. A group that does not exist is left alone.
func (sc Scores) SetGroupNoisy(ctx context.Context, groupID string, noisy bool) (bool, error) {
	cond := "attribute_exists(PK) AND (attribute_not_exists(noisy) OR noisy <> :n)"
	if !noisy {
		cond = "attribute_exists(PK) AND noisy = :y"
	}
	vals := Item{":n": &types.AttributeValueMemberBOOL{Value: noisy}, ":one": &types.AttributeValueMemberN{Value: "1"}}
	if !noisy {
		vals[":y"] = &types.AttributeValueMemberBOOL{Value: true}
	}
	_, err := sc.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(sc.Table.Name),
		Key:                       Key("GROUP#"+groupID, meta),
		UpdateExpression:          aws.String("SET noisy = :n ADD version :one"),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeValues: vals,
	})
	if IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, Unavailable("set noisy on "+groupID, err)
	}
	return true, nil
}

// SetMemberTier writes the tier and tags scoring found onto a member, so
// push can target by them; a member who is not in the catalog is left alone.
func (sc Scores) SetMemberTier(ctx context.Context, groupID, memberID, tier string, tags []string) error {
	expr := "SET tier = :t REMOVE autoTags ADD version :one"
	vals := Item{":t": &types.AttributeValueMemberS{Value: tier}, ":one": &types.AttributeValueMemberN{Value: "1"}}
	if len(tags) > 0 {
		expr = "SET tier = :t, autoTags = :tags ADD version :one"
		l := make([]types.AttributeValue, len(tags))
		for i, s := range tags {
			l[i] = &types.AttributeValueMemberS{Value: s}
		}
		vals[":tags"] = &types.AttributeValueMemberL{Value: l}
	}
	_, err := sc.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(sc.Table.Name),
		Key:                       Key("GROUP#"+groupID, "MEMBER#"+memberID),
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: vals,
	})
	if IsConditionFailed(err) || err == nil {
		return nil
	}
	return Unavailable("set tier of "+memberID, err)
}

// PutReport stores the daily report (an idempotent overwrite).
func (sc Scores) PutReport(ctx context.Context, r qunyun.Report) error {
	if err := sc.Table.Put(ctx, reportItem{Keys{PK: "REPORT", SK: r.Date, Type: "Report"}, r}); err != nil {
		return fmt.Errorf("put report %s: %w", r.Date, err)
	}
	return nil
}

// Report reads the daily report of a date.
func (sc Scores) Report(ctx context.Context, date string) (qunyun.Report, bool, error) {
	var it reportItem
	found, err := sc.Table.Get(ctx, "REPORT", date, &it)
	if err != nil {
		return qunyun.Report{}, false, fmt.Errorf("get report %s: %w", date, err)
	}
	return it.Report, found, nil
}

// FinishScoringShard records that one shard of a run is done and reports
// whether every shard of it is now done. Recording twice is harmless. run
// is the date of a re-run by date, or date@<scheduled time> (scoring.Night).
func (sc Scores) FinishScoringShard(ctx context.Context, run string, shard, shards int) (bool, error) {
	out, err := sc.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(sc.Table.Name),
		Key:                      Key("RUN#scoring#nightly", run),
		UpdateExpression:         aws.String("SET #type = :type, #total = :total ADD #shards :s"),
		ExpressionAttributeNames: map[string]string{"#type": "type", "#total": "total", "#shards": "shards"},
		ExpressionAttributeValues: Item{
			":type":  &types.AttributeValueMemberS{Value: "ScoringRun"},
			":total": &types.AttributeValueMemberN{Value: strconv.Itoa(shards)},
			":s":     &types.AttributeValueMemberSS{Value: []string{strconv.Itoa(shard)}},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return false, Unavailable("finish scoring shard", err)
	}
	done, _ := out.Attributes["shards"].(*types.AttributeValueMemberSS)
	if done == nil {
		return false, nil
	}
	count := 0
	for _, s := range done.Value {
		if n, err := strconv.Atoi(s); err == nil && n < shards {
			count++
		}
	}
	return count >= shards, nil
}

// ScoringRuns reads the run markers whose key (a date, or date@<scheduled
// time>) starts with a date in [fromDate, toDate], and tells which runs
// finished every shard.
func (sc Scores) ScoringRuns(ctx context.Context, fromDate, toDate string) (map[string]bool, error) {
	items, err := sc.Table.QueryItems(ctx, Query{PK: "RUN#scoring#nightly", SKFrom: fromDate, SKTo: toDate + "~"}) // '~' sorts after '@'
	if err != nil {
		return nil, fmt.Errorf("read scoring runs %s..%s: %w", fromDate, toDate, err)
	}
	out := make(map[string]bool, len(items))
	for _, it := range items {
		sk, _ := it["SK"].(*types.AttributeValueMemberS)
		if sk == nil {
			continue
		}
		total := 0
		if n, ok := it["total"].(*types.AttributeValueMemberN); ok {
			total, _ = strconv.Atoi(n.Value)
		}
		done := map[string]bool{}
		if ss, ok := it["shards"].(*types.AttributeValueMemberSS); ok {
			for _, s := range ss.Value {
				if n, err := strconv.Atoi(s); err == nil && n < total {
					done[s] = true
				}
			}
		}
		out[sk.Value] = total > 0 && len(done) >= total
	}
	return out, nil
}
