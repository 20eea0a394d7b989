package dynamo

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Moderation is the store of what moderators are told and what they decide:
// the batch of hits per group and alert window, the case behind each alert's
// short code, and the allow-list their "fine" decisions grow.
//
// Keys (docs/data-model.md):
//
//	GROUP#<gid>     MODBATCH#<window RFC3339 UTC>   a group's hits in one window (TTL 14 days)
//	MODCASE#<code>  #META                           an alerted hit and its decisions (TTL 90 days)
//	ACCOUNT#<acct>  ALLOW#<scope>#<kind>#<value>    an allowed domain or phrase; scope "*" or a group
//	ACCOUNT#<acct>  MODERATION                      the account's lists (community.yaml); GSI1 MODERATION / <acct>
//
// Push writes batches and cases (not the callback: its budget is one write
// per message); the callback and the CLI write decisions and allow entries.
type Moderation struct{ Table *Table }

// Lifetimes: a batch matters while its window may still get hits and
// redeliveries; a case while a moderator may still answer its alert.
const (
	batchTTL = 14 * 24 * time.Hour
	caseTTL  = 90 * 24 * time.Hour
	// maxBatchHitIDs bounds the ids a batch keeps to tell redeliveries
	// from new hits (the item must stay under DynamoDB's 400 KB); beyond
	// it a redelivered hit may count twice, which only makes a runaway
	// flood's count a little larger.
	maxBatchHitIDs = 2000
)

var caseEntity = entity[qunyun.ModerationCase]{"ModerationCase", func(c qunyun.ModerationCase) Keys {
	return Keys{PK: "MODCASE#" + c.Code, SK: meta, ExpiresAt: c.At.Add(caseTTL).Unix()}
}}

// batchItem is a batch as stored: counters and sets that concurrent hits
// add to in one UpdateItem each. A burst is many hits at once, so an
// optimistic read-and-put would mostly conflict; ADD does not.
type batchItem struct {
	Keys
	qunyun.ModerationBatch
	HitIDs []string `dynamodbav:"hitIds,stringset,omitempty"`
	// ModerationBatch.AlertHit and FollowUpHit (alert1, alert2) are kept
	// so that a redelivery of the hit that raised an alert raises it again.
}

func batchKeys(groupID string, window time.Time) Keys {
	return Keys{PK: "GROUP#" + groupID, SK: "MODBATCH#" + window.UTC().Format(time.RFC3339), Type: "ModerationBatch"}
}

// signalAttr is the counter attribute of one signal (sig_<signal>).
const signalAttr = "sig_"

// AddHit counts s in its group's batch of window and returns the batch with
// the alert levels this hit raises: level 1 for the window's first hit,
// level 2 for the first hit escalateAfter hits later (0: never). A hit
// counted before (a redelivery) changes nothing and raises again the levels
// it raised the first time, so an alert lost to a crash is still sent; the
// delivery's claim keeps it to one.
func (m Moderation) AddHit(ctx context.Context, groupID string, window time.Time, s qunyun.ModerationSample, escalateAfter int) (qunyun.ModerationBatch, []int, error) {
	k := batchKeys(groupID, window)
	sample, err := attributevalue.Marshal(s)
	if err != nil {
		return qunyun.ModerationBatch{}, nil, fmt.Errorf("marshal moderation sample: %w", err)
	}
	names := map[string]string{"#type": "type", "#group": "group", "#window": "window", "#first": "first"}
	vals := Item{
		":type": &types.AttributeValueMemberS{Value: k.Type}, ":group": &types.AttributeValueMemberS{Value: groupID},
		":window": &types.AttributeValueMemberS{Value: window.UTC().Format(time.RFC3339Nano)},
		":exp":    &types.AttributeValueMemberN{Value: strconv.FormatInt(window.Add(batchTTL).Unix(), 10)},
		":id":     &types.AttributeValueMemberS{Value: s.HitID}, ":ids": &types.AttributeValueMemberSS{Value: []string{s.HitID}},
		":member": &types.AttributeValueMemberSS{Value: []string{orDash(s.MemberID)}},
		":sample": sample, ":one": &types.AttributeValueMemberN{Value: "1"},
		":max": &types.AttributeValueMemberN{Value: strconv.Itoa(maxBatchHitIDs)},
	}
	add := "hits :one, members :member"
	for i, sig := range s.Signals {
		n := fmt.Sprintf("#s%d", i)
		names[n] = signalAttr + sig
		add += ", " + n + " :one"
	}
	update := func(withID bool) (Item, error) {
		in := &dynamodb.UpdateItemInput{
			TableName: aws.String(m.Table.Name), Key: Key(k.PK, k.SK),
			UpdateExpression: aws.String("SET #type = :type, #group = :group, #window = :window, expiresAt = :exp, " +
				"alert1 = if_not_exists(alert1, :id), #first = if_not_exists(#first, :sample), latest = :sample ADD " + add),
			ExpressionAttributeNames: names, ExpressionAttributeValues: vals, ReturnValues: types.ReturnValueAllNew,
		}
		if withID {
			*in.UpdateExpression += ", hitIds :ids"
			in.ConditionExpression = aws.String("attribute_not_exists(hitIds) OR (NOT contains(hitIds, :id) AND size(hitIds) < :max)")
		} else {
			delete(vals, ":ids")
			delete(vals, ":max")
		}
		out, err := m.Table.DB.UpdateItem(ctx, in)
		if err != nil {
			return nil, err
		}
		return out.Attributes, nil
	}
	attrs, err := update(true)
	if IsConditionFailed(err) {
		// A redelivery, or a batch that keeps no more ids.
		it, found, gerr := m.batch(ctx, k)
		if gerr != nil {
			return qunyun.ModerationBatch{}, nil, gerr
		}
		if found && slices.Contains(it.HitIDs, s.HitID) {
			return m.raised(ctx, k, it, s.HitID, escalateAfter)
		}
		attrs, err = update(false)
	}
	if err != nil {
		return qunyun.ModerationBatch{}, nil, Unavailable("count moderation hit "+s.HitID, err)
	}
	var it batchItem
	if err := Unmarshal(attrs, &it); err != nil {
		return qunyun.ModerationBatch{}, nil, err
	}
	it.Signals = signalCounts(attrs)
	return m.raised(ctx, k, it, s.HitID, escalateAfter)
}

// raised returns the levels hit raises in a batch just updated (or read
// back). The follow-up goes to the first hit that finds the window past
// escalateAfter with no follow-up yet, claimed by a conditional write:
// normally the hit that crossed it, or its redelivery if that one crashed.
func (m Moderation) raised(ctx context.Context, k Keys, it batchItem, hit string, escalateAfter int) (qunyun.ModerationBatch, []int, error) {
	var levels []int
	if it.AlertHit == hit {
		levels = append(levels, 1)
	}
	if escalateAfter > 0 && it.Hits > escalateAfter {
		if it.FollowUpHit == "" {
			_, err := m.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(m.Table.Name), Key: Key(k.PK, k.SK),
				UpdateExpression:          aws.String("SET alert2 = :id"),
				ConditionExpression:       aws.String("attribute_not_exists(alert2)"),
				ExpressionAttributeValues: Item{":id": &types.AttributeValueMemberS{Value: hit}},
			})
			if err == nil {
				it.FollowUpHit = hit
			} else if !IsConditionFailed(err) {
				return it.ModerationBatch, nil, Unavailable("claim moderation follow-up", err)
			}
		}
		if it.FollowUpHit == hit {
			levels = append(levels, 2)
		}
	}
	return it.ModerationBatch, levels, nil
}

// signalCounts reads the sig_* counters of a batch item.
func signalCounts(attrs Item) map[string]int {
	out := map[string]int{}
	for name, av := range attrs {
		sig, ok := strings.CutPrefix(name, signalAttr)
		if n, isN := av.(*types.AttributeValueMemberN); ok && isN {
			out[sig], _ = strconv.Atoi(n.Value)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Batch reads a group's batch of window.
func (m Moderation) Batch(ctx context.Context, groupID string, window time.Time) (qunyun.ModerationBatch, bool, error) {
	it, found, err := m.batch(ctx, batchKeys(groupID, window))
	return it.ModerationBatch, found, err
}

// Batches lists a group's batches whose windows start in [from, to),
// oldest first (one Query): the report's moderation section.
func (m Moderation) Batches(ctx context.Context, groupID string, from, to time.Time) ([]qunyun.ModerationBatch, error) {
	items, err := m.Table.QueryItems(ctx, Query{PK: "GROUP#" + groupID,
		SKFrom: batchKeys(groupID, from).SK, SKTo: batchKeys(groupID, to.Add(-time.Second)).SK})
	if err != nil {
		return nil, fmt.Errorf("moderation batches of %s: %w", groupID, err)
	}
	out := make([]qunyun.ModerationBatch, 0, len(items))
	for _, item := range items {
		var it batchItem
		if err := Unmarshal(item, &it); err != nil {
			return nil, err
		}
		it.Signals = signalCounts(item)
		out = append(out, it.ModerationBatch)
	}
	return out, nil
}

func (m Moderation) batch(ctx context.Context, k Keys) (batchItem, bool, error) {
	var it batchItem
	res, err := m.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(m.Table.Name), Key: Key(k.PK, k.SK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return it, false, Unavailable("get moderation batch", err)
	}
	if res.Item == nil || m.Table.expired(res.Item) {
		return it, false, nil
	}
	if err := Unmarshal(res.Item, &it); err != nil {
		return it, false, err
	}
	it.Signals = signalCounts(res.Item)
	return it, true, nil
}

// OpenCase records an alerted hit under its code; the first record of a
// code stands (a redelivery does not wipe the decisions made since).
func (m Moderation) OpenCase(ctx context.Context, c qunyun.ModerationCase) error {
	k := caseEntity.keys(c)
	k.Type = caseEntity.typ
	it := struct {
		Keys
		qunyun.ModerationCase
		Version int64 `dynamodbav:"version"`
	}{k, c, 1}
	if _, err := m.Table.PutNew(ctx, it); err != nil {
		return fmt.Errorf("open moderation case %s: %w", c.Code, err)
	}
	return nil
}

// Case reads the case of a code.
func (m Moderation) Case(ctx context.Context, code string) (qunyun.ModerationCase, bool, error) {
	c, _, found, err := caseEntity.get(ctx, m.Table, "MODCASE#"+code, meta)
	return c, found, err
}

// Decide records a moderator's decision on the case of code and returns
// the case. A "fine" decision first allows, in the case's group, what the
// case flagged (its link domains and sensitive words), and names them in
// d.Allowed: the rule is tuned, not just the alert dismissed. The same
// moderator's same decision again (a retry of their reply) adds nothing.
// An unknown code is ENOTFOUND.
func (m Moderation) Decide(ctx context.Context, code string, d qunyun.ModerationDecision) (qunyun.ModerationCase, error) {
	c, found, err := m.Case(ctx, code)
	if err != nil {
		return c, err
	}
	if !found {
		return c, qunyun.Errorf(qunyun.ENOTFOUND, "no moderation case %s", code)
	}
	if d.Action == qunyun.ActionFine {
		allow := func(kind, value string) error {
			d.Allowed = append(d.Allowed, kind+":"+value)
			return m.PutAllow(ctx, qunyun.Allow{AccountID: c.AccountID, Scope: c.GroupID, Kind: kind, Value: value, By: d.By, At: d.At, Case: code})
		}
		for _, dom := range c.Domains {
			if err := allow("domain", dom); err != nil {
				return c, err
			}
		}
		for _, w := range c.Words {
			if err := allow("phrase", w); err != nil {
				return c, err
			}
		}
	}
	return caseEntity.update(ctx, m.Table, "MODCASE#"+code, meta, func(c *qunyun.ModerationCase, found bool) error {
		if !found {
			return qunyun.Errorf(qunyun.ENOTFOUND, "no moderation case %s", code)
		}
		for _, old := range c.Decisions {
			if old.Action == d.Action && old.By == d.By {
				return nil
			}
		}
		c.Decisions = append(c.Decisions, d)
		return nil
	})
}

type allowItem struct {
	Keys
	qunyun.Allow
}

// PutAllow adds an allow-list entry (again: the first stands, with its who
// and when).
func (m Moderation) PutAllow(ctx context.Context, a qunyun.Allow) error {
	it := allowItem{Keys: Keys{PK: "ACCOUNT#" + a.AccountID, SK: "ALLOW#" + a.Scope + "#" + a.Kind + "#" + a.Value, Type: "ModerationAllow"}, Allow: a}
	if _, err := m.Table.PutNew(ctx, it); err != nil {
		return fmt.Errorf("allow %s %s in %s: %w", a.Kind, a.Value, a.Scope, err)
	}
	return nil
}

// Allowed lists an account's allow-list (one Query).
func (m Moderation) Allowed(ctx context.Context, accountID string) ([]qunyun.Allow, error) {
	items, err := QueryInto[allowItem](ctx, m.Table, Query{PK: "ACCOUNT#" + accountID, SKPrefix: "ALLOW#"})
	if err != nil {
		return nil, err
	}
	out := make([]qunyun.Allow, len(items))
	for i, it := range items {
		out[i] = it.Allow
	}
	return out, nil
}

var rulesEntity = entity[qunyun.ModerationRules]{"ModerationRules", func(r qunyun.ModerationRules) Keys {
	return Keys{PK: "ACCOUNT#" + r.AccountID, SK: "MODERATION", GSI1PK: "MODERATION", GSI1SK: r.AccountID}
}}

// PutRules writes an account's moderation lists (config apply).
func (m Moderation) PutRules(ctx context.Context, r qunyun.ModerationRules) error {
	return rulesEntity.put(ctx, m.Table, r)
}

// Rules reads an account's moderation lists; found=false means the
// account gave none (the caller uses the defaults).
func (m Moderation) Rules(ctx context.Context, accountID string) (qunyun.ModerationRules, bool, error) {
	r, _, found, err := rulesEntity.get(ctx, m.Table, "ACCOUNT#"+accountID, "MODERATION")
	return r, found, err
}

// AllRules lists every account's moderation lists.
func (m Moderation) AllRules(ctx context.Context) ([]qunyun.ModerationRules, error) {
	return rulesEntity.list(ctx, m.Table, Query{Index: GSI1, PK: "MODERATION"})
}

// DeleteRules removes an account's lists: it falls back to the defaults.
func (m Moderation) DeleteRules(ctx context.Context, accountID string) error {
	return m.Table.Delete(ctx, "ACCOUNT#"+accountID, "MODERATION")
}
