package dynamo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// The catalog is what operators describe (community.yaml) plus what WeChat
// tells us about groups and members: one item per entity, keyed as in
// docs/data-model.md, listed through GSI1 (never a Scan).

const meta = "#META"

// entity describes how one kind of catalog item is keyed.
type entity[T any] struct {
	typ  string
	keys func(v T) Keys
}

var (
	groupEntity = entity[qunyun.Group]{"Group", func(g qunyun.Group) Keys {
		return Keys{PK: "GROUP#" + g.ID, SK: meta, GSI1PK: "GROUPS", GSI1SK: g.ID}
	}}
	memberEntity = entity[qunyun.Member]{"Member", func(m qunyun.Member) Keys {
		return Keys{PK: "GROUP#" + m.GroupID, SK: "MEMBER#" + m.ID, GSI1PK: "MEMBER#" + m.ID, GSI1SK: "GROUP#" + m.GroupID}
	}}
	hostEntity = entity[qunyun.Host]{"Host", func(h qunyun.Host) Keys {
		return Keys{PK: "HOST#" + h.ID, SK: meta, GSI1PK: "HOSTS", GSI1SK: h.ID}
	}}
	contentEntity = entity[qunyun.Content]{"Content", func(c qunyun.Content) Keys {
		return Keys{PK: "CONTENT#" + c.ID, SK: meta, GSI1PK: "CONTENTS", GSI1SK: c.ID}
	}}
	planEntity = entity[qunyun.Plan]{"Plan", func(p qunyun.Plan) Keys {
		return Keys{PK: "PLAN#" + p.ID, SK: meta, GSI1PK: "PLANS", GSI1SK: p.ID}
	}}
	keywordRuleEntity = entity[qunyun.KeywordRule]{"KeywordRule", func(r qunyun.KeywordRule) Keys {
		return Keys{PK: "ACCOUNT#" + r.AccountID, SK: "RULE#keyword#" + r.ID, GSI1PK: "RULES#keyword", GSI1SK: r.AccountID + "#" + r.ID}
	}}
	checkinRuleEntity = entity[qunyun.CheckinRule]{"CheckinRule", func(r qunyun.CheckinRule) Keys {
		return Keys{PK: "ACCOUNT#" + r.AccountID, SK: "RULE#checkin#" + r.ID, GSI1PK: "RULES#checkin", GSI1SK: r.AccountID + "#" + r.ID}
	}}
	contestEntity = entity[qunyun.Contest]{"Contest", func(c qunyun.Contest) Keys {
		return Keys{PK: "CONTEST#" + c.ID, SK: meta, GSI1PK: "CONTESTS", GSI1SK: c.ID}
	}}
)

// item marshals v and adds its keys, type and version.
func (e entity[T]) item(v T, version int64) (Item, error) {
	it, err := Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.typ, err)
	}
	k := e.keys(v)
	k.Type = e.typ
	kit, err := Marshal(k)
	if err != nil {
		return nil, err
	}
	for name, av := range kit {
		it[name] = av
	}
	it["version"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}
	return it, nil
}

func (e entity[T]) put(ctx context.Context, t *Table, v T) error {
	it, err := e.item(v, 1)
	if err != nil {
		return err
	}
	if _, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.Name), Item: it}); err != nil {
		return Unavailable("put "+e.typ, err)
	}
	return nil
}

func (e entity[T]) get(ctx context.Context, t *Table, pk, sk string) (T, int64, bool, error) {
	var v T
	res, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Name), Key: Key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return v, 0, false, Unavailable("get "+e.typ, err)
	}
	if res.Item == nil || t.expired(res.Item) {
		return v, 0, false, nil
	}
	if err := Unmarshal(res.Item, &v); err != nil {
		return v, 0, false, err
	}
	var version int64
	if n, ok := res.Item["version"].(*types.AttributeValueMemberN); ok {
		version, _ = strconv.ParseInt(n.Value, 10, 64)
	}
	return v, version, true, nil
}

// update reads the item, applies fn and writes it back only if nobody wrote
// in between (optimistic concurrency on "version"); it retries on conflict.
// fn sees the zero value with found=false when the item does not exist yet.
func (e entity[T]) update(ctx context.Context, t *Table, pk, sk string, fn func(v *T, found bool) error) (T, error) {
	for attempt := 0; attempt < 8; attempt++ {
		v, version, found, err := e.get(ctx, t, pk, sk)
		if err != nil {
			return v, err
		}
		if err := fn(&v, found); err != nil {
			return v, err
		}
		if k := e.keys(v); k.PK != pk || k.SK != sk {
			return v, qunyun.Errorf(qunyun.EINVALID, "%s: update must not change the key", e.typ)
		}
		it, err := e.item(v, version+1)
		if err != nil {
			return v, err
		}
		in := &dynamodb.PutItemInput{TableName: aws.String(t.Name), Item: it}
		if found {
			in.ConditionExpression = aws.String("version = :v")
			in.ExpressionAttributeValues = Item{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}}
		} else {
			in.ConditionExpression = aws.String("attribute_not_exists(PK)")
		}
		_, err = t.DB.PutItem(ctx, in)
		if IsConditionFailed(err) {
			continue
		}
		if err != nil {
			return v, Unavailable("update "+e.typ, err)
		}
		return v, nil
	}
	return *new(T), qunyun.Errorf(qunyun.ECONFLICT, "%s %s/%s: too many concurrent updates", e.typ, pk, sk)
}

func (e entity[T]) list(ctx context.Context, t *Table, q Query) ([]T, error) {
	return QueryInto[T](ctx, t, q)
}

// Groups

// PutGroup writes a whole group record. Prefer UpdateGroup when the record
// may hold fields others maintain (Noisy from scoring, State from WeChat).
func (c Catalog) PutGroup(ctx context.Context, g qunyun.Group) error {
	return groupEntity.put(ctx, c.Table, g)
}

// UpdateGroup changes a group through fn, creating it when missing.
func (c Catalog) UpdateGroup(ctx context.Context, id string, fn func(g *qunyun.Group, found bool) error) (qunyun.Group, error) {
	return groupEntity.update(ctx, c.Table, "GROUP#"+id, meta, func(g *qunyun.Group, found bool) error {
		if !found {
			g.ID = id
		}
		return fn(g, found)
	})
}

// Group reads one group.
func (c Catalog) Group(ctx context.Context, id string) (qunyun.Group, bool, error) {
	g, _, found, err := groupEntity.get(ctx, c.Table, "GROUP#"+id, meta)
	return g, found, err
}

// Groups lists every group, by id.
func (c Catalog) Groups(ctx context.Context) ([]qunyun.Group, error) {
	return groupEntity.list(ctx, c.Table, Query{Index: GSI1, PK: "GROUPS"})
}

// DeleteGroup removes a group record (not its log or members).
func (c Catalog) DeleteGroup(ctx context.Context, id string) error {
	return c.Table.Delete(ctx, "GROUP#"+id, meta)
}

// Members

// PutMember writes a whole member record.
func (c Catalog) PutMember(ctx context.Context, m qunyun.Member) error {
	return memberEntity.put(ctx, c.Table, m)
}

// UpdateMember changes a member through fn, creating it when missing.
func (c Catalog) UpdateMember(ctx context.Context, groupID, memberID string, fn func(m *qunyun.Member, found bool) error) (qunyun.Member, error) {
	return memberEntity.update(ctx, c.Table, "GROUP#"+groupID, "MEMBER#"+memberID, func(m *qunyun.Member, found bool) error {
		if !found {
			m.GroupID, m.ID = groupID, memberID
		}
		return fn(m, found)
	})
}

// Member reads one member of a group.
func (c Catalog) Member(ctx context.Context, groupID, memberID string) (qunyun.Member, bool, error) {
	m, _, found, err := memberEntity.get(ctx, c.Table, "GROUP#"+groupID, "MEMBER#"+memberID)
	return m, found, err
}

// Members lists a group's members (including those who left; see Member.Active).
func (c Catalog) Members(ctx context.Context, groupID string) ([]qunyun.Member, error) {
	return memberEntity.list(ctx, c.Table, Query{PK: "GROUP#" + groupID, SKPrefix: "MEMBER#"})
}

// MemberGroups lists one person's memberships across groups.
func (c Catalog) MemberGroups(ctx context.Context, memberID string) ([]qunyun.Member, error) {
	return memberEntity.list(ctx, c.Table, Query{Index: GSI1, PK: "MEMBER#" + memberID})
}

// DeleteMember removes a member record.
func (c Catalog) DeleteMember(ctx context.Context, groupID, memberID string) error {
	return c.Table.Delete(ctx, "GROUP#"+groupID, "MEMBER#"+memberID)
}

// Hosts

// PutHost writes a host.
func (c Catalog) PutHost(ctx context.Context, h qunyun.Host) error {
	return hostEntity.put(ctx, c.Table, h)
}

// Host reads one host.
func (c Catalog) Host(ctx context.Context, id string) (qunyun.Host, bool, error) {
	h, _, found, err := hostEntity.get(ctx, c.Table, "HOST#"+id, meta)
	return h, found, err
}

// Hosts lists every host.
func (c Catalog) Hosts(ctx context.Context) ([]qunyun.Host, error) {
	return hostEntity.list(ctx, c.Table, Query{Index: GSI1, PK: "HOSTS"})
}

// DeleteHost removes a host.
func (c Catalog) DeleteHost(ctx context.Context, id string) error {
	return c.Table.Delete(ctx, "HOST#"+id, meta)
}

// Contents

// PutContent writes a content item.
func (cs Catalog) PutContent(ctx context.Context, c qunyun.Content) error {
	return contentEntity.put(ctx, cs.Table, c)
}

// Content reads one content item.
func (cs Catalog) Content(ctx context.Context, id string) (qunyun.Content, bool, error) {
	c, _, found, err := contentEntity.get(ctx, cs.Table, "CONTENT#"+id, meta)
	return c, found, err
}

// Contents lists every content item.
func (c Catalog) Contents(ctx context.Context) ([]qunyun.Content, error) {
	return contentEntity.list(ctx, c.Table, Query{Index: GSI1, PK: "CONTENTS"})
}

// DeleteContent removes a content item.
func (c Catalog) DeleteContent(ctx context.Context, id string) error {
	return c.Table.Delete(ctx, "CONTENT#"+id, meta)
}

// Plans

// PutPlan writes a plan.
func (c Catalog) PutPlan(ctx context.Context, p qunyun.Plan) error {
	return planEntity.put(ctx, c.Table, p)
}

// UpdatePlan changes a plan through fn (pause and resume), creating it when missing.
func (c Catalog) UpdatePlan(ctx context.Context, id string, fn func(p *qunyun.Plan, found bool) error) (qunyun.Plan, error) {
	return planEntity.update(ctx, c.Table, "PLAN#"+id, meta, func(p *qunyun.Plan, found bool) error {
		if !found {
			p.ID = id
		}
		return fn(p, found)
	})
}

// Plan reads one plan.
func (c Catalog) Plan(ctx context.Context, id string) (qunyun.Plan, bool, error) {
	p, _, found, err := planEntity.get(ctx, c.Table, "PLAN#"+id, meta)
	return p, found, err
}

// Plans lists every plan.
func (c Catalog) Plans(ctx context.Context) ([]qunyun.Plan, error) {
	return planEntity.list(ctx, c.Table, Query{Index: GSI1, PK: "PLANS"})
}

// DeletePlan removes a plan.
func (c Catalog) DeletePlan(ctx context.Context, id string) error {
	return c.Table.Delete(ctx, "PLAN#"+id, meta)
}

// Rules

// PutKeywordRule writes a keyword rule.
func (c Catalog) PutKeywordRule(ctx context.Context, r qunyun.KeywordRule) error {
	return keywordRuleEntity.put(ctx, c.Table, r)
}

// PutCheckinRule writes a check-in rule.
func (c Catalog) PutCheckinRule(ctx context.Context, r qunyun.CheckinRule) error {
	return checkinRuleEntity.put(ctx, c.Table, r)
}

// Rules returns an account's keyword and check-in rules.
func (c Catalog) Rules(ctx context.Context, accountID string) ([]qunyun.KeywordRule, []qunyun.CheckinRule, error) {
	kw, err := keywordRuleEntity.list(ctx, c.Table, Query{PK: "ACCOUNT#" + accountID, SKPrefix: "RULE#keyword#"})
	if err != nil {
		return nil, nil, err
	}
	ci, err := checkinRuleEntity.list(ctx, c.Table, Query{PK: "ACCOUNT#" + accountID, SKPrefix: "RULE#checkin#"})
	if err != nil {
		return nil, nil, err
	}
	return kw, ci, nil
}

// AllRules returns every account's rules.
func (c Catalog) AllRules(ctx context.Context) ([]qunyun.KeywordRule, []qunyun.CheckinRule, error) {
	kw, err := keywordRuleEntity.list(ctx, c.Table, Query{Index: GSI1, PK: "RULES#keyword"})
	if err != nil {
		return nil, nil, err
	}
	ci, err := checkinRuleEntity.list(ctx, c.Table, Query{Index: GSI1, PK: "RULES#checkin"})
	if err != nil {
		return nil, nil, err
	}
	return kw, ci, nil
}

// DeleteKeywordRule removes a keyword rule.
func (c Catalog) DeleteKeywordRule(ctx context.Context, accountID, id string) error {
	return c.Table.Delete(ctx, "ACCOUNT#"+accountID, "RULE#keyword#"+id)
}

// DeleteCheckinRule removes a check-in rule.
func (c Catalog) DeleteCheckinRule(ctx context.Context, accountID, id string) error {
	return c.Table.Delete(ctx, "ACCOUNT#"+accountID, "RULE#checkin#"+id)
}

// Contests

// PutContest writes a contest.
func (cs Catalog) PutContest(ctx context.Context, c qunyun.Contest) error {
	return contestEntity.put(ctx, cs.Table, c)
}

// Contest reads one contest.
func (cs Catalog) Contest(ctx context.Context, id string) (qunyun.Contest, bool, error) {
	c, _, found, err := contestEntity.get(ctx, cs.Table, "CONTEST#"+id, meta)
	return c, found, err
}

// Contests lists every contest.
func (c Catalog) Contests(ctx context.Context) ([]qunyun.Contest, error) {
	return contestEntity.list(ctx, c.Table, Query{Index: GSI1, PK: "CONTESTS"})
}

// DeleteContest removes a contest record.
func (c Catalog) DeleteContest(ctx context.Context, id string) error {
	return c.Table.Delete(ctx, "CONTEST#"+id, meta)
}
