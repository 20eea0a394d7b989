package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Session store (docs/data-model.md, the session rows).
//
//   - Session: PK SESSION#<sid>, SK #META, GSI1 SESSIONS / <start RFC3339 UTC>#<sid>
//     (the tick queries a time range), GSI2 GROUP#<gid>#SESSIONS / <start>;
//     attributes of qunyun.Session plus "version". Every life-cycle step is a
//     conditional put on the state it leaves (TransitionSession), so a step
//     happens once however often or late the tick runs.
//   - Live sessions: PK LIVESESSIONS, SK #META, one attribute G#<gid> per
//     group with a live session (see PutLiveSession).
//   - Question: PK SESSION#<sid>, SK Q#<13-digit ms>#<message key>, written by
//     the callback; the session function sets answered, answer, answeredBy,
//     answeredAt, hidden and mergedInto with UpdateItem, never rewriting votes.
//   - Recap: PK SESSION#<sid>, SK RECAP, qunyun.Recap.

const (
	sessionsIndexPK = "SESSIONS"
	recapSK         = "RECAP"
	questionPrefix  = "Q#"
	// liveGrace keeps a live session readable a little after the window,
	// so the last questions of a slow close are still captured.
	liveGrace = 10 * time.Minute
)

// SessionPK is the partition of a session, its questions and its recap.
func SessionPK(id string) string { return "SESSION#" + id }

// sessionStartKey formats a start time the way the session indexes sort it.
func sessionStartKey(t time.Time) string { return t.UTC().Format(time.RFC3339) }

type sessionItem struct {
	Keys
	qunyun.Session
	Version int64 `dynamodbav:"version"`
}

func sessionItemOf(s qunyun.Session, version int64) sessionItem {
	start := sessionStartKey(s.Start)
	return sessionItem{
		Keys: Keys{
			PK: SessionPK(s.ID), SK: meta, Type: "Session",
			GSI1PK: sessionsIndexPK, GSI1SK: start + "#" + s.ID,
			GSI2PK: "GROUP#" + s.GroupID + "#SESSIONS", GSI2SK: start,
		},
		Session: s,
		Version: version,
	}
}

func validSession(s qunyun.Session) error {
	switch {
	case s.ID == "" || strings.Contains(s.ID, "#"):
		return qunyun.Errorf(qunyun.EINVALID, "session: id %q must be non-empty and without '#'", s.ID)
	case s.GroupID == "":
		return qunyun.Errorf(qunyun.EINVALID, "session %s: group is required", s.ID)
	case s.HostID == "":
		return qunyun.Errorf(qunyun.EINVALID, "session %s: host is required", s.ID)
	case s.Start.IsZero() || !s.End.After(s.Start):
		return qunyun.Errorf(qunyun.EINVALID, "session %s: end must be after start", s.ID)
	}
	return nil
}

// CreateSession writes a new session in state scheduled (when State is
// empty). It returns created=false, and changes nothing, when a session
// with that id exists: planning and apply are idempotent.
func (ss Sessions) CreateSession(ctx context.Context, s qunyun.Session) (created bool, err error) {
	if err := validSession(s); err != nil {
		return false, err
	}
	if s.State == "" {
		s.State = qunyun.SessionScheduled
	}
	created, err = ss.Table.PutNew(ctx, sessionItemOf(s, 1))
	if err != nil {
		return false, fmt.Errorf("create session %s: %w", s.ID, err)
	}
	return created, nil
}

// Session reads one session.
func (ss Sessions) Session(ctx context.Context, id string) (qunyun.Session, bool, error) {
	s, _, found, err := ss.Table.sessionVersion(ctx, id)
	return s, found, err
}

func (t *Table) sessionVersion(ctx context.Context, id string) (qunyun.Session, int64, bool, error) {
	var it sessionItem
	found, err := t.Get(ctx, SessionPK(id), meta, &it)
	if err != nil {
		return qunyun.Session{}, 0, false, fmt.Errorf("get session %s: %w", id, err)
	}
	return it.Session, it.Version, found, nil
}

// SessionsStarting lists sessions whose start is in [from, to), by start.
func (s Sessions) SessionsStarting(ctx context.Context, from, to time.Time) ([]qunyun.Session, error) {
	items, err := QueryInto[sessionItem](ctx, s.Table, Query{
		Index: GSI1, PK: sessionsIndexPK,
		// "#" sorts before any id character, "$" after "#": [from#, to#) exactly.
		SKFrom: sessionStartKey(from) + "#", SKTo: sessionStartKey(to.Add(-time.Second)) + "$",
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions %s..%s: %w", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), err)
	}
	return sessionsOf(items), nil
}

// GroupSessions lists one group's sessions whose start is in [from, to).
func (s Sessions) GroupSessions(ctx context.Context, groupID string, from, to time.Time) ([]qunyun.Session, error) {
	items, err := QueryInto[sessionItem](ctx, s.Table, Query{
		Index: GSI2, PK: "GROUP#" + groupID + "#SESSIONS",
		SKFrom: sessionStartKey(from), SKTo: sessionStartKey(to.Add(-time.Second)),
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions of group %s: %w", groupID, err)
	}
	return sessionsOf(items), nil
}

func sessionsOf(items []sessionItem) []qunyun.Session {
	out := make([]qunyun.Session, len(items))
	for i, it := range items {
		out[i] = it.Session
	}
	return out
}

// UpdateSession changes a session through fn and writes it back only if
// nobody wrote in between; fn's error aborts and changes nothing. It
// returns changed=false (no error) when fn returns ErrNoChange.
func (ss Sessions) UpdateSession(ctx context.Context, id string, fn func(s *qunyun.Session) error) (qunyun.Session, bool, error) {
	for attempt := 0; attempt < 8; attempt++ {
		s, version, found, err := ss.Table.sessionVersion(ctx, id)
		if err != nil {
			return s, false, err
		}
		if !found {
			return s, false, qunyun.Errorf(qunyun.ENOTFOUND, "session %s not found", id)
		}
		before := s
		if err := fn(&s); errors.Is(err, ErrNoChange) {
			return before, false, nil
		} else if err != nil {
			return before, false, err
		}
		if s.ID != id || s.Start.IsZero() {
			return before, false, qunyun.Errorf(qunyun.EINVALID, "session %s: update must keep the id and a start", id)
		}
		if err := validSession(s); err != nil {
			return before, false, err
		}
		item, err := Marshal(sessionItemOf(s, version+1))
		if err != nil {
			return before, false, err
		}
		_, err = ss.Table.DB.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 aws.String(ss.Table.Name),
			Item:                      item,
			ConditionExpression:       aws.String("version = :v"),
			ExpressionAttributeValues: Item{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}},
		})
		if IsConditionFailed(err) {
			continue
		}
		if err != nil {
			return before, false, Unavailable("update session "+id, err)
		}
		return s, true, nil
	}
	return qunyun.Session{}, false, qunyun.Errorf(qunyun.ECONFLICT, "session %s: too many concurrent updates", id)
}

// ErrNoChange tells UpdateSession that fn decided to write nothing.
var ErrNoChange = qunyun.ErrNoChange

// TransitionSession moves a session from one state to the next once: it
// applies fn and writes only if the stored state is still from. It returns
// moved=false when another run already moved it (or it is elsewhere).
func (ss Sessions) TransitionSession(ctx context.Context, id string, from, to qunyun.SessionState, fn func(s *qunyun.Session)) (qunyun.Session, bool, error) {
	return ss.UpdateSession(ctx, id, func(s *qunyun.Session) error {
		if s.State != from {
			return ErrNoChange
		}
		s.State = to
		if fn != nil {
			fn(s)
		}
		return nil
	})
}

// CancelSession marks a session cancelled unless it has already opened.
// It returns cancelled=false (no error) when it was already cancelled.
func (ss Sessions) CancelSession(ctx context.Context, id string) (qunyun.Session, bool, error) {
	return ss.UpdateSession(ctx, id, func(s *qunyun.Session) error {
		switch s.State {
		case qunyun.SessionCancelled:
			return ErrNoChange
		case qunyun.SessionScheduled, qunyun.SessionReminded:
			s.State = qunyun.SessionCancelled
			return nil
		}
		return qunyun.Errorf(qunyun.ECONFLICT, "session %s is %s: too late to cancel", id, s.State)
	})
}

// Live sessions

// The live sessions are one item, one attribute per group with a session
// live in it, so the callback learns them all in one read every half
// minute (a read per group cost nearly 1 RRU per group message at 1,000
// groups, issue #17):
//
//	LIVESESSIONS  #META  G#<gid> = qunyun.LiveSession + endAt (End in Unix seconds)
//
// An entry is live until End, and read as live until liveGrace after it
// (a slow close); entries are removed by the session's close, never by
// TTL, so readers skip those past their grace.
const (
	liveDirPK   = "LIVESESSIONS"
	liveAttrPre = "G#"
)

type liveEntry struct {
	qunyun.LiveSession
	// EndAt is End in Unix seconds, for PutLiveSession's condition.
	EndAt int64 `dynamodbav:"endAt"`
}

// PutLiveSession makes l the group's live session, which the callback reads
// to capture Q&A, unless another session's is still live: a group holds one
// live session at a time, so two overlapping sessions never steal each
// other's questions. It reports whether l is the group's live session now.
func (s Sessions) PutLiveSession(ctx context.Context, l qunyun.LiveSession) (bool, error) {
	entry, err := attributevalue.Marshal(liveEntry{LiveSession: l, EndAt: l.End.Unix()})
	if err != nil {
		return false, fmt.Errorf("marshal live session: %w", err)
	}
	_, err = s.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.Table.Name),
		Key:                      Key(liveDirPK, meta),
		UpdateExpression:         aws.String("SET #g = :l, #type = :type"),
		ConditionExpression:      aws.String("attribute_not_exists(#g) OR #g.#s = :s OR #g.#e <= :now"),
		ExpressionAttributeNames: map[string]string{"#g": liveAttrPre + l.GroupID, "#s": "session", "#e": "endAt", "#type": "type"},
		ExpressionAttributeValues: Item{
			":l":    entry,
			":s":    &types.AttributeValueMemberS{Value: l.SessionID},
			":now":  &types.AttributeValueMemberN{Value: strconv.FormatInt(s.Table.now().Unix(), 10)},
			":type": &types.AttributeValueMemberS{Value: "LiveSessions"},
		},
	})
	if IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, Unavailable(fmt.Sprintf("put live session %s in %s", l.SessionID, l.GroupID), err)
	}
	return true, nil
}

// LiveSession reads a group's live session (strongly consistent).
func (s Sessions) LiveSession(ctx context.Context, groupID string) (qunyun.LiveSession, bool, error) {
	res, err := s.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.Table.Name), Key: Key(liveDirPK, meta), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#g"), ExpressionAttributeNames: map[string]string{"#g": liveAttrPre + groupID},
	})
	if err != nil {
		return qunyun.LiveSession{}, false, Unavailable("get live session of "+groupID, err)
	}
	live, err := s.liveEntries(res.Item)
	if err != nil {
		return qunyun.LiveSession{}, false, err
	}
	l, found := live[groupID]
	return l, found, nil
}

// LiveSessions reads every group's live session, by group id, in one
// eventually consistent read: a session opened a second ago may be
// missing, as one opened since the reader's last read is anyway.
func (s Sessions) LiveSessions(ctx context.Context) (map[string]qunyun.LiveSession, error) {
	res, err := s.Table.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table.Name), Key: Key(liveDirPK, meta)})
	if err != nil {
		return nil, Unavailable("get live sessions", err)
	}
	return s.liveEntries(res.Item)
}

// liveEntries decodes the live sessions of item, without those past
// their grace.
func (s Sessions) liveEntries(item Item) (map[string]qunyun.LiveSession, error) {
	out := map[string]qunyun.LiveSession{}
	now := s.Table.now()
	for name, av := range item {
		gid, ok := strings.CutPrefix(name, liveAttrPre)
		if !ok {
			continue
		}
		var e liveEntry
		if err := attributevalue.Unmarshal(av, &e); err != nil {
			return nil, fmt.Errorf("live session of %s: %w", gid, err)
		}
		if e.SessionID == "" || !e.End.Add(liveGrace).After(now) {
			continue
		}
		out[gid] = e.LiveSession
	}
	return out, nil
}

// DeleteLiveSession removes the group's live session if it is still
// sessionID, so closing one session never ends the next one's capture.
func (s Sessions) DeleteLiveSession(ctx context.Context, groupID, sessionID string) error {
	_, err := s.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table.Name),
		Key:                       Key(liveDirPK, meta),
		UpdateExpression:          aws.String("REMOVE #g"),
		ConditionExpression:       aws.String("#g.#s = :s"),
		ExpressionAttributeNames:  map[string]string{"#g": liveAttrPre + groupID, "#s": "session"},
		ExpressionAttributeValues: Item{":s": &types.AttributeValueMemberS{Value: sessionID}},
	})
	if err != nil && !IsConditionFailed(err) {
		return Unavailable("delete live session "+sessionID, err)
	}
	return nil
}

// Questions

// QuestionKey is the sort key of a question: Q#<13-digit ms>#<message key>.
func QuestionKey(at time.Time, messageKey string) string {
	return fmt.Sprintf("%s%013d#%s", questionPrefix, at.UnixMilli(), messageKey)
}

// Questions lists a session's questions in the order they were asked.
func (s Sessions) Questions(ctx context.Context, sessionID string) ([]qunyun.Question, error) {
	items, err := s.Table.QueryItems(ctx, Query{PK: SessionPK(sessionID), SKPrefix: questionPrefix})
	if err != nil {
		return nil, fmt.Errorf("list questions of %s: %w", sessionID, err)
	}
	out := make([]qunyun.Question, 0, len(items))
	for _, it := range items {
		var q qunyun.Question
		if err := Unmarshal(it, &q); err != nil {
			return nil, fmt.Errorf("question of %s: %w", sessionID, err)
		}
		if sk, ok := it["SK"].(*types.AttributeValueMemberS); ok {
			q.Key = sk.Value
		}
		out = append(out, q)
	}
	return out, nil
}

// MarkAnswered records a question's answer. It never overwrites an answer
// already recorded (the first answer wins) and never touches votes.
func (s Sessions) MarkAnswered(ctx context.Context, sessionID, key, answer, by string, at time.Time) (bool, error) {
	_, err := s.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.Table.Name),
		Key:                 Key(SessionPK(sessionID), key),
		UpdateExpression:    aws.String("SET answered = :t, answer = :a, answeredBy = :b, answeredAt = :at"),
		ConditionExpression: aws.String("attribute_exists(PK) AND (attribute_not_exists(answered) OR answered = :f)"),
		ExpressionAttributeValues: Item{
			":t": &types.AttributeValueMemberBOOL{Value: true}, ":f": &types.AttributeValueMemberBOOL{Value: false},
			":a": &types.AttributeValueMemberS{Value: answer}, ":b": &types.AttributeValueMemberS{Value: by},
			":at": &types.AttributeValueMemberS{Value: at.UTC().Format(time.RFC3339Nano)},
		},
	})
	if IsConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, Unavailable("mark question answered "+key, err)
	}
	return true, nil
}

// HideQuestion hides a question from the host's queue and the recap.
func (s Sessions) HideQuestion(ctx context.Context, sessionID, key string) error {
	_, err := s.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table.Name),
		Key:                       Key(SessionPK(sessionID), key),
		UpdateExpression:          aws.String("SET #h = :t"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeNames:  map[string]string{"#h": "hidden"}, // a reserved word
		ExpressionAttributeValues: Item{":t": &types.AttributeValueMemberBOOL{Value: true}},
	})
	if IsConditionFailed(err) {
		return qunyun.Errorf(qunyun.ENOTFOUND, "question %s of session %s not found", key, sessionID)
	}
	if err != nil {
		return Unavailable("hide question "+key, err)
	}
	return nil
}

// MergeQuestion marks question key as a repeat of question into. The
// caller first adds its asker and voters to into (VoteQuestion, once per
// member), so a run cut short between the two is finished by the next one.
func (s Sessions) MergeQuestion(ctx context.Context, sessionID, key, into string) error {
	_, err := s.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table.Name),
		Key:                       Key(SessionPK(sessionID), key),
		UpdateExpression:          aws.String("SET mergedInto = :i"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: Item{":i": &types.AttributeValueMemberS{Value: into}},
	})
	if IsConditionFailed(err) {
		return qunyun.Errorf(qunyun.ENOTFOUND, "question %s of session %s not found", key, sessionID)
	}
	if err != nil {
		return Unavailable("merge question "+key, err)
	}
	return nil
}

// Recap

type recapItem struct {
	Keys
	qunyun.Recap
}

// PutRecapOnce stores a session's recap unless one is stored already; it
// returns the stored recap either way, so a retried close sends the same one.
func (s Sessions) PutRecapOnce(ctx context.Context, r qunyun.Recap) (qunyun.Recap, error) {
	created, err := s.Table.PutNew(ctx, recapItem{Keys: Keys{PK: SessionPK(r.SessionID), SK: recapSK, Type: "Recap"}, Recap: r})
	if err != nil {
		return r, fmt.Errorf("put recap of %s: %w", r.SessionID, err)
	}
	if created {
		return r, nil
	}
	stored, _, err := s.Recap(ctx, r.SessionID)
	return stored, err
}

// Recap reads a session's recap.
func (s Sessions) Recap(ctx context.Context, sessionID string) (qunyun.Recap, bool, error) {
	var it recapItem
	found, err := s.Table.Get(ctx, SessionPK(sessionID), recapSK, &it)
	if err != nil {
		return qunyun.Recap{}, false, fmt.Errorf("get recap of %s: %w", sessionID, err)
	}
	return it.Recap, found, nil
}

// AddRecapDigestMember records an absent member whom no 1:1 channel
// reached, so the group's next announcement carries the recap for them.
func (s Sessions) AddRecapDigestMember(ctx context.Context, sessionID, memberID string) error {
	_, err := s.Table.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.Table.Name),
		Key:                       Key(SessionPK(sessionID), recapSK),
		UpdateExpression:          aws.String("ADD digestMembers :m"),
		ConditionExpression:       aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: Item{":m": &types.AttributeValueMemberSS{Value: []string{memberID}}},
	})
	if IsConditionFailed(err) {
		return qunyun.Errorf(qunyun.ENOTFOUND, "recap of session %s not found", sessionID)
	}
	if err != nil {
		return Unavailable("add digest member to recap "+sessionID, err)
	}
	return nil
}

// Group-day log (read only here: the callback writes it)

// SessionMessages reads a group's messages with at in [from, to), oldest
// first, from the one or more UTC group-day partitions the window covers.
func (s Sessions) SessionMessages(ctx context.Context, groupID string, from, to time.Time) ([]qunyun.Message, error) {
	var out []qunyun.Message
	for day := from.UTC().Truncate(24 * time.Hour); day.Before(to); day = day.Add(24 * time.Hour) {
		items, err := s.Table.QueryItems(ctx, Query{
			PK:     "GROUP#" + groupID + "#D#" + day.Format(time.DateOnly),
			SKFrom: fmt.Sprintf("MSG#%013d#", from.UnixMilli()),
			SKTo:   fmt.Sprintf("MSG#%013d#", to.UnixMilli()),
		})
		if err != nil {
			return nil, fmt.Errorf("read messages of %s: %w", groupID, err)
		}
		for _, it := range items {
			var m qunyun.Message
			if err := Unmarshal(it, &m); err != nil {
				return nil, fmt.Errorf("message of %s: %w", groupID, err)
			}
			if sk, ok := it["SK"].(*types.AttributeValueMemberS); ok && m.ID == "" {
				// MSG#<ms>#<key>: the key is the message's idempotency key.
				if parts := strings.SplitN(sk.Value, "#", 3); len(parts) == 3 {
					m.ID = parts[2]
				}
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// Planning marker: RUN#session#plan / <week start RFC3339 UTC>, written
// after a week's sessions are created, so the Sunday ticks plan it once.

const planRunPK = "RUN#session#plan"

type planRunItem struct {
	Keys
	At       time.Time `dynamodbav:"at"`
	Sessions int       `dynamodbav:"sessions"`
	Unmet    []string  `dynamodbav:"unmet,omitempty"` // one line per group the plan fell short for
}

// MarkWeekPlanned records that the week starting at weekStart is planned,
// with how many sessions the plan created and every unmet demand.
func (s Sessions) MarkWeekPlanned(ctx context.Context, weekStart time.Time, sessions int, unmet []string) (bool, error) {
	return s.Table.PutNew(ctx, planRunItem{Keys: Keys{PK: planRunPK, SK: sessionStartKey(weekStart), Type: "Run"},
		At: s.Table.now(), Sessions: sessions, Unmet: unmet})
}

// WeekPlanned reports whether the week starting at weekStart is planned.
func (s Sessions) WeekPlanned(ctx context.Context, weekStart time.Time) (bool, error) {
	var it planRunItem
	return s.Table.Get(ctx, planRunPK, sessionStartKey(weekStart), &it)
}
