package contest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/contest"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestRank(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	entry := func(id int64, openid, text string, likes, votes, minute int) qunyun.ContestEntry {
		return qunyun.ContestEntry{CommentID: id, OpenID: openid, Content: text, Likes: likes, Votes: votes,
			At: t0.Add(time.Duration(minute) * time.Minute)}
	}
	staff := func(id string) bool { return id == "staff" }
	c := qunyun.Contest{ID: "c1", MinLength: 5, Winners: 2}
	tests := []struct {
		name    string
		entries []qunyun.ContestEntry
		// want: comment id → "rank/winner/excluded"
		want map[int64]string
	}{
		{"likes plus votes rank", []qunyun.ContestEntry{
			entry(1, "a", "写得真好，学到了", 3, 1, 0),
			entry(2, "b", "非常实用的经验分享", 1, 5, 1),
			entry(3, "c", "感谢作者的分享", 2, 0, 2),
		}, map[int64]string{2: "1/true/", 1: "2/true/", 3: "3/false/"}},
		{"too short never ranks", []qunyun.ContestEntry{
			entry(1, "a", "好", 99, 0, 0),
			entry(2, "b", "非常实用的经验分享", 1, 0, 1),
		}, map[int64]string{1: "0/false/too_short", 2: "1/true/"}},
		{"length counts characters, not bytes, after trimming", []qunyun.ContestEntry{
			entry(1, "a", "  一二三四  ", 9, 0, 0),
			entry(2, "b", "一二三四五", 1, 0, 1),
		}, map[int64]string{1: "0/false/too_short", 2: "1/true/"}},
		{"staff excluded", []qunyun.ContestEntry{
			entry(1, "staff", "官方留言：欢迎参与", 50, 50, 0),
			entry(2, "b", "非常实用的经验分享", 1, 0, 1),
		}, map[int64]string{1: "0/false/staff", 2: "1/true/"}},
		{"one entry per member: the earliest qualifying one", []qunyun.ContestEntry{
			entry(1, "a", "短", 0, 0, 0),
			entry(2, "a", "第一条够长的留言", 1, 0, 1),
			entry(3, "a", "第二条够长的留言", 30, 0, 2),
		}, map[int64]string{1: "0/false/too_short", 2: "1/true/", 3: "0/false/duplicate"}},
		{"a tie goes to the earlier comment", []qunyun.ContestEntry{
			entry(7, "late", "晚到但同分的留言", 2, 2, 30),
			entry(9, "early", "早到而同分的留言", 4, 0, 5),
		}, map[int64]string{9: "1/true/", 7: "2/true/"}},
		{"nothing earned, nothing won", []qunyun.ContestEntry{
			entry(1, "a", "没有人点赞的留言", 0, 0, 0),
		}, map[int64]string{1: "1/false/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := contest.Rank(tt.entries, c, staff)
			for _, e := range got {
				s := fmt.Sprintf("%d/%v/%s", e.Rank, e.Winner, e.Excluded)
				if s != tt.want[e.CommentID] {
					t.Errorf("comment %d: %s, want %s", e.CommentID, s, tt.want[e.CommentID])
				}
			}
		})
	}
}

func TestParseVote(t *testing.T) {
	tests := []struct {
		text string
		id   int64
		ok   bool
	}{
		{"投票 12", 12, true},
		{"投票12", 12, true},
		{" 投票  #7 ", 7, true},
		{"投票：3", 3, true},
		{"投票", 0, false},
		{"投票 abc", 0, false},
		{"投票 0", 0, false},
		{"我想投票 5", 0, false},
		{"投票 -2", 0, false},
	}
	for _, tt := range tests {
		id, ok := contest.ParseVote(tt.text, "投票")
		if id != tt.id || ok != tt.ok {
			t.Errorf("ParseVote(%q) = %d, %v; want %d, %v", tt.text, id, ok, tt.id, tt.ok)
		}
	}
}
