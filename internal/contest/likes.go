package contest

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Column names the likes CSV may use for the entry number and the likes
// (the operator's export, in Chinese or English).
var (
	idColumns    = []string{"编号", "留言编号", "user_comment_id", "comment_id", "id"}
	likesColumns = []string{"点赞", "点赞数", "赞", "likes", "like_num", "like"}
)

// ImportLikes reads the operator's CSV of likes per comment (a header row
// naming the columns, then one row per comment) and stores them on the
// contest's entries. It checks every row first: any bad row, or a comment
// that is not an entry, fails the whole import and changes nothing.
func ImportLikes(ctx context.Context, store Scores, contestID string, in io.Reader) (int, error) {
	rd := csv.NewReader(in)
	rd.TrimLeadingSpace = true
	rd.FieldsPerRecord = -1
	header, err := rd.Read()
	if err != nil {
		return 0, qunyun.Errorf(qunyun.EINVALID, "likes CSV: no header row")
	}
	idCol, likesCol := column(header, idColumns), column(header, likesColumns)
	if idCol < 0 || likesCol < 0 {
		return 0, qunyun.Errorf(qunyun.EINVALID, "likes CSV: the header must name an id column (%s) and a likes column (%s)",
			strings.Join(idColumns, "/"), strings.Join(likesColumns, "/"))
	}
	entries, err := store.ContestEntries(ctx, contestID)
	if err != nil {
		return 0, err
	}
	byID := map[int64]qunyun.ContestEntry{}
	for _, e := range entries {
		byID[e.CommentID] = e
	}
	likes := map[int64]int{}
	var problems []string
	for line := 2; ; line++ {
		row, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, qunyun.Errorf(qunyun.EINVALID, "likes CSV line %d: %v", line, err)
		}
		if len(row) <= max(idCol, likesCol) {
			problems = append(problems, fmt.Sprintf("line %d: too few columns", line))
			continue
		}
		id, err1 := strconv.ParseInt(strings.TrimSpace(row[idCol]), 10, 64)
		n, err2 := strconv.Atoi(strings.TrimSpace(row[likesCol]))
		switch {
		case err1 != nil:
			problems = append(problems, fmt.Sprintf("line %d: id %q is not a number", line, row[idCol]))
		case err2 != nil || n < 0:
			problems = append(problems, fmt.Sprintf("line %d: likes %q is not a count", line, row[likesCol]))
		case byID[id].CommentID == 0:
			problems = append(problems, fmt.Sprintf("line %d: comment %d is not an entry of %s", line, id, contestID))
		default:
			if _, dup := likes[id]; dup {
				problems = append(problems, fmt.Sprintf("line %d: comment %d appears twice", line, id))
			}
			likes[id] = n
		}
	}
	if len(problems) > 0 {
		return 0, qunyun.Errorf(qunyun.EINVALID, "likes CSV rejected, nothing imported: %s", strings.Join(problems, "; "))
	}
	for id, n := range likes {
		e := byID[id]
		e.Likes = n
		if err := store.PutContestEntry(ctx, e); err != nil {
			return 0, err
		}
	}
	return len(likes), nil
}

func column(header, names []string) int {
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		for _, n := range names {
			if h == strings.ToLower(n) {
				return i
			}
		}
	}
	return -1
}
