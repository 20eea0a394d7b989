package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// appliedDemo returns a table holding the demo community plus a member and
// two deliveries, and the flags that point at it.
func appliedDemo(t *testing.T) (*dynamo.Table, []string) {
	t.Helper()
	tb, targs := tableArgs(t)
	if _, _, err := run(t, "", append([]string{"apply", "-f", demoFile}, targs...)...); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := (dynamo.Catalog{Table: tb}).PutMember(ctx, qunyun.Member{GroupID: "g-vip-1", ID: "wm-alice", Name: "王小美", Role: qunyun.RoleMember, Tier: "vip",
		JoinedAt: time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC), Tags: []string{"会员"}}); err != nil {
		t.Fatal(err)
	}
	// Scoring writes tier and auto tags onto the member, as a night does.
	if err := (dynamo.Scores{Table: tb}).SetMemberTier(ctx, "g-vip-1", "wm-alice", qunyun.TierCore, []string{"跨境", "选品"}); err != nil {
		t.Fatal(err)
	}
	// 2026-11-22 03:00 UTC is 11:00 in Shanghai; 17:00 UTC is already the 23rd there.
	for _, d := range []qunyun.Delivery{
		{ID: "p-lunch|slot1|g-general-1", Source: "p-lunch", TargetKind: qunyun.TargetGroup, TargetID: "g-general-1", GroupID: "g-general-1",
			ContentID: "c-lunch-menu", At: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)},
		{ID: "p-punch|slot2|g-punch", Source: "p-punch", TargetKind: qunyun.TargetGroup, TargetID: "g-punch", GroupID: "g-punch",
			ContentID: "c-punch-reminder", At: time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC)},
	} {
		if _, _, err := (dynamo.Deliveries{Table: tb}).ClaimDelivery(ctx, qunyun.DeliveryRecord{Delivery: d}); err != nil {
			t.Fatal(err)
		}
	}
	for _, sc := range []qunyun.GroupScore{
		{GroupID: "g-shelf", Name: "小满好物架", Purpose: qunyun.PurposeShelf, Date: "2026-11-21", Value: 71.5, Value7: 65, Why: "好物被打开"},
		{GroupID: "g-general-1", Name: "小满吃货一群", Purpose: qunyun.PurposeGeneral, Date: "2026-11-21", Value: 22, Noisy: true,
			Flags: []qunyun.Flag{{Kind: qunyun.FlagVolume, Why: "x"}}},
		{GroupID: "g-shelf", Purpose: qunyun.PurposeShelf, Date: "2026-11-20", Value: 10},
	} {
		if err := (dynamo.Scores{Table: tb}).PutGroupScore(ctx, sc); err != nil {
			t.Fatal(err)
		}
	}
	return tb, targs
}

func TestGet(t *testing.T) {
	_, targs := appliedDemo(t)
	cases := []struct {
		args []string
		want []string // substrings of the table
		not  []string
	}{
		{[]string{"get", "groups"}, []string{"ID", "PURPOSE", "g-vip-1", "小满会员核心群 1", "resource-popup", "0/50", "ON NOISY", "halve", "advise", "session 8/day"}, nil},
		{[]string{"get", "members", "--group", "g-vip-1"}, []string{"AUTO TAGS", "wm-alice", "王小美", "会员", "跨境,选品", "2026-11-20 10:00"}, nil},
		{[]string{"get", "plans"}, []string{"p-lunch", "cron(0 11 ? * MON-FRI *)", "journey day 0:c-welcome", "purposes=general,fan,vip"}, nil},
		{[]string{"get", "contents"}, []string{"c-coupon", "会员专享"}, nil},
		{[]string{"get", "hosts"}, []string{"h-nutritionist", "MON 19:30-21:30"}, nil},
		{[]string{"get", "deliveries", "--date", "2026-11-22"}, []string{"2026-11-22 11:00", "g-general-1", "claimed"}, []string{"g-punch"}},
		{[]string{"get", "deliveries", "--date", "2026-11-23", "--plan", "p-punch"}, []string{"2026-11-23 07:00", "g-punch"}, []string{"g-general-1"}},
		{[]string{"get", "deliveries", "--date", "2026-11-22", "--group", "g-punch"}, nil, []string{"g-punch"}},
		{[]string{"get", "scores", "--date", "2026-11-21"}, []string{"g-shelf", "71.5", "65.0", "volume", "yes"}, []string{"10.0"}},
		{[]string{"get", "scores", "--date", "2026-11-20", "--group", "g-shelf"}, []string{"10.0"}, []string{"71.5", "g-general-1"}},
		{[]string{"get", "sessions", "--date", "2026-12-02"}, []string{"s-founder-vip1-1202", "2026-12-02 20:00", "60", "manual"}, nil},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, _, err := run(t, "", append(tc.args, targs...)...)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("missing %q in\n%s", w, out)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(out, n) {
					t.Errorf("unexpected %q in\n%s", n, out)
				}
			}
		})
	}
}

func TestGetJSON(t *testing.T) {
	_, targs := appliedDemo(t)
	out, _, err := run(t, "", append([]string{"get", "groups", "--json"}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	var groups []qunyun.Group
	if err := json.Unmarshal([]byte(out), &groups); err != nil || len(groups) != 10 {
		t.Fatalf("%d groups, %v\n%s", len(groups), err, out)
	}
}

func TestGetErrors(t *testing.T) {
	_, targs := tableArgs(t)
	for _, args := range [][]string{
		{"get", "chats"},
		{"get", "deliveries", "--date", "22/11/2026"},
		{"get", "groups", "--tz", "Mars/Olympus"},
		{"get"},
	} {
		if _, _, err := run(t, "", append(args, targs...)...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	// An unreachable table is an error, not an empty list.
	if _, _, err := run(t, "", "get", "groups", "--endpoint", "http://127.0.0.1:1", "--table", "x"); err == nil || !strings.Contains(err.Error(), "qunyun local up") {
		t.Errorf("unreachable endpoint: %v", err)
	}
}

func TestGetFindsRunningLocalStack(t *testing.T) {
	tb, targs := appliedDemo(t)
	// Without flags or environment, the table is the running stack's, as
	// .local/stack.json in the working directory names it.
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	os.Unsetenv("AWS_ENDPOINT_URL_DYNAMODB")
	t.Setenv("TABLE_NAME", "")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, ".local"), 0o755)
	state := fmt.Sprintf(`{"dynamodb": %q, "tableName": %q}`, targs[1], tb.Name)
	if err := os.WriteFile(filepath.Join(dir, ".local", "stack.json"), []byte(state), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	out, _, err := run(t, "", "get", "groups")
	if err != nil || !strings.Contains(out, "g-vip-1") {
		t.Fatalf("%v\n%s", err, out)
	}
}
