package dynamo

import (
	"cmp"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// The session store's part the callback writes: the questions members ask
// during a session (the live sessions it reads are in sessions.go).

type capturedQuestion struct {
	Keys
	qunyun.Question
}

// QuestionSK is the sort key of a captured question.
func QuestionSK(q qunyun.Question) string { return qunyun.QuestionKey(q) }

// CaptureQuestion writes a session question once.
func (s Sessions) CaptureQuestion(ctx context.Context, q qunyun.Question) (created bool, err error) {
	q.Votes, q.Voters = 0, nil
	created, err = s.Table.PutNew(ctx, capturedQuestion{Keys{PK: "SESSION#" + q.SessionID, SK: QuestionSK(q), Type: "Question"}, q})
	if err != nil {
		return false, fmt.Errorf("capture question %s: %w", q.MessageID, err)
	}
	return created, nil
}

// VoteQuestion adds memberID's vote to a question; a member votes once, so
// a second vote (or a retry) adds nothing and returns false.
func (s Sessions) VoteQuestion(ctx context.Context, sessionID, questionSK, memberID string) (bool, error) {
	_, err := s.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.Table.Name),
		Key:                      Key("SESSION#"+sessionID, questionSK),
		UpdateExpression:         aws.String("ADD #votes :one, #voters :m"),
		ConditionExpression:      aws.String("attribute_exists(PK) AND NOT contains(#voters, :mid)"),
		ExpressionAttributeNames: map[string]string{"#votes": "votes", "#voters": "voters"},
		ExpressionAttributeValues: Item{
			":one": &types.AttributeValueMemberN{Value: "1"},
			":m":   &types.AttributeValueMemberSS{Value: []string{memberID}},
			":mid": &types.AttributeValueMemberS{Value: memberID},
		},
	})
	if IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, Unavailable("vote question "+questionSK, err)
	}
	return true, nil
}

// OpenQuestion finds the question a "+1" votes for: the one asked in the
// quoted message when replyTo is set (or the one it was merged into), else
// the most recent one neither answered, hidden nor merged. It looks at the latest 50 questions.
func (s Sessions) OpenQuestion(ctx context.Context, sessionID, replyTo string) (sk string, found bool, err error) {
	items, err := s.Table.QueryItems(ctx, Query{PK: "SESSION#" + sessionID, SKPrefix: "Q#", Desc: true, Limit: 50})
	if err != nil {
		return "", false, fmt.Errorf("open question of %s: %w", sessionID, err)
	}
	for _, it := range items {
		var q capturedQuestion
		if err := Unmarshal(it, &q); err != nil {
			return "", false, err
		}
		if replyTo != "" {
			if q.MessageID == replyTo {
				return cmp.Or(q.MergedInto, q.SK), true, nil
			}
			continue
		}
		if !q.Answered && q.Shown() {
			return q.SK, true, nil
		}
	}
	return "", false, nil
}
