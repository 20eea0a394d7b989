package dynamo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Membership is the store of who is in a group: a member's joins and
// leaves (the member item, GROUP#<gid> / MEMBER#<mid>) and the group's count
// of members in it (memberCount of GROUP#<gid> / #META).
//
// The count is added to, never recounted, on a join or leave: one ADD
// when a member's own write moved them in or out, so its cost does not
// grow with the group or with concurrent joins (issue #17). A retry or a
// duplicate of a join moves nobody and adds nothing. What an ADD cannot
// see — a process that died between the member's write and the ADD, an
// ADD whose answer was lost and which the SDK sent again, members that
// config apply imported — RecountMembers corrects: scoring runs it for
// every group it scores, once a day.
type Membership struct{ Table *Table }

// MoveMember changes member memberID of group g.ID through fn (creating it
// when missing) and adds to the group's member count what the change did:
// +1 when it brought the member in (qunyun.Member.Active), -1 when it took
// them out, which it also returns. A change fn does not make writes
// nothing.
//
// The member is read and written back conditional on its version, so
// concurrent changes of one member each see the one before, and each move
// in or out is counted by exactly one of them. The group is created from g
// (its id, account, creation time, state) when missing, and its updatedAt
// set from g. When the count cannot be written, the member is put back as
// it was, so the retry of the event moves and counts it again.
func (ms Membership) MoveMember(ctx context.Context, g qunyun.Group, memberID string, fn func(m *qunyun.Member, found bool) error) (int, error) {
	pk, sk := "GROUP#"+g.ID, "MEMBER#"+memberID
	for attempt := 0; attempt < 8; attempt++ {
		before, version, found, err := memberEntity.get(ctx, ms.Table, pk, sk)
		if err != nil {
			return 0, err
		}
		next := before
		if !found {
			next = qunyun.Member{GroupID: g.ID, ID: memberID}
		}
		if err := fn(&next, found); err != nil {
			return 0, err
		}
		if found && reflect.DeepEqual(next, before) {
			return 0, nil
		}
		if k := memberEntity.keys(next); k.PK != pk || k.SK != sk {
			return 0, qunyun.Errorf(qunyun.EINVALID, "member %s of %s: a move must not change the key", memberID, g.ID)
		}
		written, err := ms.putMember(ctx, next, version, found)
		if err != nil {
			return 0, err
		}
		if !written {
			continue // changed since read: decide again
		}
		delta := in(next, true) - in(before, found)
		if delta == 0 {
			return 0, nil
		}
		if err := ms.addCount(ctx, g, delta); err != nil {
			if rerr := ms.restoreMember(ctx, next, before, found, version+1); rerr != nil {
				return 0, fmt.Errorf("count %s in %s: %w (the member stays moved; the count is off until recounted)",
					memberID, g.ID, errors.Join(err, rerr))
			}
			return 0, fmt.Errorf("count %s in %s: %w", memberID, g.ID, err)
		}
		return delta, nil
	}
	return 0, qunyun.Errorf(qunyun.ECONFLICT, "member %s of %s: too many concurrent changes", memberID, g.ID)
}

// in is 1 for a member who is in the group, else 0.
func in(m qunyun.Member, found bool) int {
	if found && m.Active() {
		return 1
	}
	return 0
}

// putMember writes m as version+1 if the stored item is still at version
// (absent when !found). A write whose answer was lost counts as written:
// the put id read back tells it from someone else's.
func (ms Membership) putMember(ctx context.Context, m qunyun.Member, version int64, found bool) (bool, error) {
	item, err := memberEntity.item(m, version+1)
	if err != nil {
		return false, err
	}
	putID := stampPutID(item)
	in := &dynamodb.PutItemInput{TableName: aws.String(ms.Table.Name), Item: item}
	if found {
		in.ConditionExpression = aws.String("version = :v")
		in.ExpressionAttributeValues = Item{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}}
	} else {
		in.ConditionExpression = aws.String("attribute_not_exists(PK)")
	}
	_, err = ms.Table.DB.PutItem(ctx, in)
	if err == nil {
		return true, nil
	}
	stored, rerr := ms.Table.readBack(ctx, item, false)
	if rerr != nil {
		return false, Unavailable("move member "+m.ID, errors.Join(err, rerr))
	}
	if ownPut(stored, putID) {
		return true, nil
	}
	if IsConditionFailed(err) {
		return false, nil
	}
	return false, Unavailable("move member "+m.ID, err)
}

// restoreMember puts member moved back as it was before the move, which
// wrote it as version ours (deletes it if it did not exist), unless it
// changed since.
func (ms Membership) restoreMember(ctx context.Context, moved, before qunyun.Member, found bool, ours int64) error {
	cond := Item{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(ours, 10)}}
	if !found {
		k := memberEntity.keys(moved)
		_, err := ms.Table.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(ms.Table.Name), Key: Key(k.PK, k.SK),
			ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: cond,
		})
		if err != nil {
			return Unavailable("take back member "+moved.ID, err)
		}
		return nil
	}
	item, err := memberEntity.item(before, ours+1)
	if err != nil {
		return err
	}
	_, err = ms.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(ms.Table.Name), Item: item,
		ConditionExpression: aws.String("version = :v"), ExpressionAttributeValues: cond,
	})
	if err != nil {
		return Unavailable("take back member "+before.ID, err)
	}
	return nil
}

// addCount adds delta to g's member count in one UpdateItem, creating the
// group from g when missing. It moves the group's version too, so an
// UpdateGroup that read the group before (config apply, a rename) writes
// again rather than put back the count it read.
func (ms Membership) addCount(ctx context.Context, g qunyun.Group, delta int) error {
	g.MemberCount = 0
	stub, err := groupEntity.item(g, 1)
	if err != nil {
		return err
	}
	names := map[string]string{"#n": "memberCount", "#v": "version"}
	values := Item{":d": &types.AttributeValueMemberN{Value: strconv.Itoa(delta)}, ":one": &types.AttributeValueMemberN{Value: "1"}}
	set := ""
	i := 0
	for _, name := range slices.Sorted(maps.Keys(stub)) {
		switch name {
		case "PK", "SK", "version", "memberCount":
			continue
		}
		n, v := "#a"+strconv.Itoa(i), ":a"+strconv.Itoa(i)
		i++
		names[n], values[v] = name, stub[name]
		if set != "" {
			set += ", "
		}
		if name == "updatedAt" {
			set += n + " = " + v
		} else {
			set += n + " = if_not_exists(" + n + ", " + v + ")"
		}
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                 aws.String(ms.Table.Name),
		Key:                       Key("GROUP#"+g.ID, meta),
		UpdateExpression:          aws.String("SET " + set + " ADD #n :d, #v :one"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
	if delta < 0 {
		// A member counted in makes the count at least 1; a count that
		// missed them (imported by config apply, not yet recounted) stays
		// at 0 rather than going below.
		in.ConditionExpression = aws.String("#n >= :least")
		values[":least"] = &types.AttributeValueMemberN{Value: strconv.Itoa(-delta)}
	}
	_, err = ms.Table.DB.UpdateItem(ctx, in)
	if IsConditionFailed(err) {
		return nil
	}
	if err != nil {
		return Unavailable("count members of "+g.ID, err)
	}
	return nil
}

// RecountMembers sets the group's member count to the members in it now,
// counted by a strongly consistent query of its member items; it returns
// that number and whether the stored count was different. The count is
// written only if the group's version did not move while counting (a join
// or leave added to it meanwhile): then it is left for the next recount.
// A missing group is not created.
func (ms Membership) RecountMembers(ctx context.Context, groupID string) (n int, changed bool, err error) {
	if n, err = ms.ActiveMembers(ctx, groupID); err != nil {
		return 0, false, err
	}
	g, version, found, err := groupEntity.get(ctx, ms.Table, "GROUP#"+groupID, meta)
	if err != nil || !found || g.MemberCount == n {
		return n, false, err
	}
	_, err = ms.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(ms.Table.Name),
		Key:                      Key("GROUP#"+groupID, meta),
		UpdateExpression:         aws.String("SET #n = :n ADD #v :one"),
		ConditionExpression:      aws.String("#v = :v"),
		ExpressionAttributeNames: map[string]string{"#n": "memberCount", "#v": "version"},
		ExpressionAttributeValues: Item{
			":n":   &types.AttributeValueMemberN{Value: strconv.Itoa(n)},
			":v":   &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)},
			":one": &types.AttributeValueMemberN{Value: "1"},
		},
	})
	if IsConditionFailed(err) {
		return n, false, nil
	}
	if err != nil {
		return n, false, Unavailable("recount members of "+groupID, err)
	}
	return n, true, nil
}

// ActiveMembers counts the group's members who are in it now
// (qunyun.Member.Active), reading every member item of the group with a
// strongly consistent query, so a member update made just before is seen.
func (ms Membership) ActiveMembers(ctx context.Context, groupID string) (int, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(ms.Table.Name),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: Item{":pk": &types.AttributeValueMemberS{Value: "GROUP#" + groupID}, ":sk": &types.AttributeValueMemberS{Value: "MEMBER#"}},
		ProjectionExpression:      aws.String("joinedAt, leftAt"),
		ConsistentRead:            aws.Bool(true),
	}
	n := 0
	for {
		res, err := ms.Table.DB.Query(ctx, in)
		if err != nil {
			return 0, Unavailable("count members of "+groupID, err)
		}
		for _, it := range res.Items {
			var m qunyun.Member
			if err := Unmarshal(it, &m); err != nil {
				return 0, err
			}
			if m.Active() {
				n++
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
