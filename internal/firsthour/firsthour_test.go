package firsthour_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/firsthour"
)

// fake answers each command with canned JSON, as the CLI's --json would.
type fake map[string]string

func (f fake) run(_ context.Context, args ...string) ([]byte, error) {
	key := strings.Join(args, " ")
	out, ok := f[key]
	if !ok {
		return nil, errors.New("unexpected command: " + key)
	}
	if strings.HasPrefix(out, "error:") {
		return nil, errors.New(strings.TrimPrefix(out, "error: "))
	}
	return []byte(out), nil
}

func TestChecks(t *testing.T) {
	all := fake{
		"get groups --json":       `[{"id":"g-fan","memberCount":17},{"id":"g-learning"}]`,
		"get members --json":      `[{"id":"owner","role":"owner"},{"id":"m1","joinedAt":"2026-12-06T07:43:00Z"}]`,
		"local bridge --json":     `[{"groupId":"g-fan","text":"午饭时间快到啦"}]`,
		"get replies --json":      `[{"group":"g-learning","text":"@小满助手 菜单","reply":"菜单在这里","kind":"keyword"},{"group":"g-learning","text":"@小满助手 打卡","reply":"打卡成功","kind":"checkin"}]`,
		"get sessions --json":     `[{"id":"w1","group":"g-industry","state":"scheduled"},{"id":"s-demo-now","group":"g-vip-1","state":"open"}]`,
		"report --no-open --json": `{"date":"2026-12-06","path":"/tmp/r.html"}`,
	}
	results := firsthour.RunAll(context.Background(), all.run)
	if !firsthour.Passed(results) || len(results) != len(firsthour.Checks) {
		t.Fatalf("all there, but: %+v", results)
	}
	if d := results[0].Detail; !strings.Contains(d, "17 members in 1 of 2 groups") || !strings.Contains(d, "1 of 2 rows joined") {
		t.Errorf("members: %s", d)
	}

	// Nothing yet: each check fails and says what is missing.
	none := fake{
		"get groups --json":       `[{"id":"g-fan"}]`,
		"get members --json":      `[{"id":"imported"}]`,
		"local bridge --json":     `[]`,
		"get replies --json":      `[{"kind":"other","text":"投稿","reply":"已收到"}]`,
		"get sessions --json":     `[{"id":"w1","state":"reminded"}]`,
		"report --no-open --json": `error: no report for 2026-12-06: scoring has not run for that date`,
	}
	want := []string{"0 members in 0 of 1 groups", "no post yet", "no keyword reply", "no checkin reply", "none of 1 sessions", "scoring has not run"}
	for i, r := range firsthour.RunAll(context.Background(), none.run) {
		if r.OK || !strings.Contains(r.Detail, want[i]) {
			t.Errorf("%s: ok=%v %q, want a failure saying %q", r.Name, r.OK, r.Detail, want[i])
		}
	}
	if firsthour.Passed(nil) {
		t.Error("no results passed")
	}
}
