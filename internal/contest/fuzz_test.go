package contest_test

import (
	"cmp"
	"context"
	"encoding/csv"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/contest"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// FuzzParseVote checks the member's "投票 <编号>": what it accepts starts
// with the vote word and names a positive entry number, which written back
// as "<word> <n>" or "<word>#<n>" reads as the same number.
func FuzzParseVote(f *testing.F) {
	for _, text := range []string{"投票 10", "投票9", "投票 #12", "投票：7", "投票 0", "投票 -3", "投票 9223372036854775808", " 投票 ＃5 ", "我投票 5"} {
		f.Add(text, "投票") // internal/contest/texts.yaml's voteWord
	}
	f.Add("vote 3", "vote")
	f.Fuzz(func(t *testing.T, text, word string) {
		id, ok := contest.ParseVote(text, word)
		if !ok {
			return
		}
		if id <= 0 || !strings.HasPrefix(strings.TrimSpace(text), word) {
			t.Fatalf("ParseVote(%q, %q) = %d", text, word, id)
		}
		if strings.TrimSpace(word) != word {
			return
		}
		for _, again := range []string{word + " " + strconv.FormatInt(id, 10), word + "#" + strconv.FormatInt(id, 10)} {
			if back, ok := contest.ParseVote(again, word); !ok || back != id {
				t.Fatalf("%q read as %d; %q reads as %d, %v", text, id, again, back, ok)
			}
		}
	})
}

// likesStore holds a contest's entries in memory and counts the puts.
type likesStore struct {
	contest.Scores
	entries map[int64]qunyun.ContestEntry
	puts    []qunyun.ContestEntry
}

func (s *likesStore) ContestEntries(context.Context, string) ([]qunyun.ContestEntry, error) {
	return slices.Collect(maps.Values(s.entries)), nil
}

func (s *likesStore) PutContestEntry(_ context.Context, e qunyun.ContestEntry) error {
	s.puts = append(s.puts, e)
	return nil
}

// FuzzImportLikes feeds the operator's likes CSV to ImportLikes over three
// entries. A rejected file is EINVALID and stores nothing; an accepted one
// stores one entry per row it counted, each an existing entry changed in
// its likes only (never negative), and the likes written back as a CSV
// import to the same entries.
func FuzzImportLikes(f *testing.F) {
	f.Add("\ufeff编号,昵称,点赞\n5,甲,1\n21,乙,9\n10,丙,50\n")
	f.Add("编号,点赞\n5,10\n6,lots\n1000,3\n")
	f.Add("id,likes\n5,1\n5,2\n")
	f.Add("comment_id, like_num\n\"21\", 7\n")
	f.Add("编号\n5\n")
	f.Add("")
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	entries := map[int64]qunyun.ContestEntry{}
	for _, id := range []int64{5, 10, 21} {
		entries[id] = qunyun.ContestEntry{ContestID: "c1", CommentID: id, OpenID: "o" + strconv.FormatInt(id, 10), Content: "留言", At: at, Votes: 2}
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data string) {
		store := &likesStore{entries: entries}
		n, err := contest.ImportLikes(ctx, store, "c1", strings.NewReader(data))
		if err != nil {
			if qunyun.ErrorCode(err) != qunyun.EINVALID || len(store.puts) != 0 {
				t.Fatalf("rejected with %v after %d puts", err, len(store.puts))
			}
			return
		}
		if n != len(store.puts) {
			t.Fatalf("imported %d, stored %d", n, len(store.puts))
		}
		var b strings.Builder
		w := csv.NewWriter(&b)
		w.Write([]string{"编号", "点赞"})
		for _, e := range store.puts {
			before := entries[e.CommentID]
			before.Likes = e.Likes
			if e != before || e.Likes < 0 {
				t.Fatalf("stored %+v for %+v", e, entries[e.CommentID])
			}
			w.Write([]string{strconv.FormatInt(e.CommentID, 10), strconv.Itoa(e.Likes)})
		}
		w.Flush()
		again := &likesStore{entries: entries}
		if m, err := contest.ImportLikes(ctx, again, "c1", strings.NewReader(b.String())); err != nil || m != n || !slices.Equal(sorted(again.puts), sorted(store.puts)) {
			t.Fatalf("written back as %q: %d, %v", b.String(), m, err)
		}
	})
}

func sorted(es []qunyun.ContestEntry) []qunyun.ContestEntry {
	return slices.SortedFunc(slices.Values(es), func(a, b qunyun.ContestEntry) int { return cmp.Compare(a.CommentID, b.CommentID) })
}
