package qunyun

import "time"

// ContestEntry is one OA article comment in a Contest 留言活动, with what
// ranks it. Its number (编号) is the comment's user_comment_id: members vote
// for it by sending "投票 <编号>" to the OA.
type ContestEntry struct {
	ContestID string    `json:"contest" dynamodbav:"contest"`
	CommentID int64     `json:"commentId" dynamodbav:"commentId"`
	OpenID    string    `json:"openid" dynamodbav:"openid"`
	Content   string    `json:"content" dynamodbav:"content"`
	At        time.Time `json:"at" dynamodbav:"at"`
	// Likes come from the operator's CSV import (the API returns none).
	Likes int `json:"likes" dynamodbav:"likes"`
	Votes int `json:"votes" dynamodbav:"votes"`
	// Excluded says why the entry cannot win ("" when it can): too_short,
	// staff, duplicate (the member's earlier comment is their entry).
	Excluded string `json:"excluded,omitempty" dynamodbav:"excluded,omitempty"`
	// FollowedDuring flags a commenter who subscribed during the contest.
	FollowedDuring bool `json:"followedDuring,omitempty" dynamodbav:"followedDuring,omitempty"`
	// NewFollowerVotes are the votes from members who subscribed during it.
	NewFollowerVotes int  `json:"newFollowerVotes,omitempty" dynamodbav:"newFollowerVotes,omitempty"`
	Rank             int  `json:"rank,omitempty" dynamodbav:"rank,omitempty"`
	Winner           bool `json:"winner,omitempty" dynamodbav:"winner,omitempty"`
	// What was done for a winner, so a re-run does nothing twice.
	Elected  bool `json:"elected,omitempty" dynamodbav:"elected,omitempty"`
	Replied  bool `json:"replied,omitempty" dynamodbav:"replied,omitempty"`
	Notified bool `json:"notified,omitempty" dynamodbav:"notified,omitempty"`
}

// Score is what ranks an entry: imported likes plus members' votes.
func (e ContestEntry) Score() int { return e.Likes + e.Votes }

// ContestVote is one member's vote in a contest (one per member).
type ContestVote struct {
	ContestID string    `json:"contest" dynamodbav:"contest"`
	MemberID  string    `json:"member" dynamodbav:"member"` // the voter's openid
	CommentID int64     `json:"commentId" dynamodbav:"commentId"`
	MessageID string    `json:"messageId" dynamodbav:"messageId"`
	At        time.Time `json:"at" dynamodbav:"at"`
}

// Contest exclusion reasons.
const (
	ExcludedTooShort  = "too_short"
	ExcludedStaff     = "staff"
	ExcludedDuplicate = "duplicate"
)
