package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// TestContestImportLikes: the CLI imports a likes CSV into a contest's
// entries; a bad file, an unknown contest or a missing file says what is
// wrong and writes nothing.
func TestContestImportLikes(t *testing.T) {
	tb, targs := tableArgs(t)
	ctx := t.Context()
	if err := (dynamo.Catalog{Table: tb}).PutContest(ctx, qunyun.Contest{ID: "c1", AccountID: "oa1", Title: "好物留言", MsgDataID: "1",
		Start: "2026-11-20T00:00:00+08:00", End: "2026-11-27T20:00:00+08:00"}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{5, 6, 7} {
		if err := (dynamo.Scores{Table: tb}).PutContestEntry(ctx, qunyun.ContestEntry{ContestID: "c1", CommentID: id, OpenID: "u" + string(rune('0'+id)), Content: "好用"}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	csv := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	likes := func() map[int64]int {
		entries, err := dynamo.Scores{Table: tb}.ContestEntries(ctx, "c1")
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]int{}
		for _, e := range entries {
			out[e.CommentID] = e.Likes
		}
		return out
	}
	importLikes := func(args ...string) (string, error) {
		out, _, err := run(t, "", append(append([]string{"contest", "import-likes"}, args...), targs...)...)
		return out, err
	}

	bad := []struct {
		name string
		args []string
		want []string // in the error
	}{
		{"bad rows", []string{"--contest", "c1", "-f", csv("bad.csv", "编号,点赞\n5,10\n6,很多\n99,3\n5,1\n")},
			[]string{"bad.csv", "line 3", "很多", "line 4", "not an entry", "line 5", "twice", "nothing imported"}},
		{"no likes column", []string{"--contest", "c1", "-f", csv("cols.csv", "编号,昵称\n5,甲\n")}, []string{"likes column"}},
		{"empty file", []string{"--contest", "c1", "-f", csv("empty.csv", "")}, []string{"no header row"}},
		{"unknown contest", []string{"--contest", "nope", "-f", csv("ok1.csv", "编号,点赞\n5,10\n")}, []string{"nope", "no such contest"}},
		{"missing file", []string{"--contest", "c1", "-f", filepath.Join(dir, "missing.csv")}, []string{"missing.csv"}},
		{"no contest flag", []string{"-f", csv("ok2.csv", "编号,点赞\n5,10\n")}, []string{"contest"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importLikes(tc.args...)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			for id, n := range likes() {
				if n != 0 {
					t.Fatalf("a rejected import wrote likes %d on comment %d", n, id)
				}
			}
		})
	}

	out, err := importLikes("--contest", "c1", "-f", csv("likes.csv", "\ufeff留言编号,昵称,点赞数\n5,甲,10\n7,丙,3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "2 comments") {
		t.Errorf("output %q", out)
	}
	if got := likes(); got[5] != 10 || got[6] != 0 || got[7] != 3 {
		t.Fatalf("likes %v, want 5:10 6:0 7:3", got)
	}
}
