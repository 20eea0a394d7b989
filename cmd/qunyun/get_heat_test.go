package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// TestGetHeat: `get heat` shows, per content, the sent deliveries and the
// opens the callback recorded, in all and per group; a shared 1:1 link
// names its recipient as the sharer. --json has camelCase keys and lists
// that are never null.
func TestGetHeat(t *testing.T) {
	tb, targs := appliedDemo(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC) // 11:00 in Shanghai
	for _, d := range []qunyun.Delivery{
		{ID: "p-lunch|h1|g-general-1", TargetKind: qunyun.TargetGroup, TargetID: "g-general-1", GroupID: "g-general-1"},
		{ID: "p-lunch|h1|g-vip-1", TargetKind: qunyun.TargetGroup, TargetID: "g-vip-1", GroupID: "g-vip-1"},
		{ID: "p-lunch|h1|o-fan", TargetKind: qunyun.TargetMember, TargetID: "o-fan"},
	} {
		d.Source, d.ContentID, d.AccountID, d.At = "p-lunch", "c-coupon", "oa-demo", at
		_, it, err := dynamo.Deliveries{Table: tb}.ClaimDelivery(ctx, qunyun.DeliveryRecord{Delivery: d})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (dynamo.Deliveries{Table: tb}).UpdateDelivery(ctx, &it, func(d *qunyun.Delivery) { d.State = qunyun.DeliverySent }); err != nil {
			t.Fatal(err)
		}
	}
	// Opens as the callback's /r/{code} records them.
	open := func(l qunyun.Link, from, req string) {
		o := qunyun.LinkOpen{GroupID: l.GroupID, ContentID: l.ContentID, DeliveryID: l.DeliveryID, MemberID: l.MemberID, From: from, At: at.Add(time.Hour)}
		if err := (dynamo.Links{Table: tb}).RecordLinkOpen(ctx, l, o, req, "MicroMessenger"); err != nil {
			t.Fatal(err)
		}
	}
	group := qunyun.Link{Code: "g1", URL: "https://example.com/c", GroupID: "g-general-1", ContentID: "c-coupon", DeliveryID: "p-lunch|h1|g-general-1"}
	own := qunyun.Link{Code: "o1", URL: "https://example.com/c", ContentID: "c-coupon", DeliveryID: "p-lunch|h1|o-fan", MemberID: "o-fan"}
	open(group, "", "r1")
	open(group, "", "r2")
	open(own, "", "r3")
	open(own, "singlemessage", "r4")

	out, _, err := run(t, "", append([]string{"get", "heat", "--date", "2026-11-22"}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	// CONTENT TITLE GROUP SENT OPENS READERS SHARED-OPENS SHARED-BY
	for _, row := range [][]string{
		{"c-coupon", "all", "3", "4", "4", "1", "o-fan×1"},
		{"c-coupon", "g-general-1", "小满吃货一群", "1", "2", "2", "0"},
		{"c-coupon", "1:1", "1", "2", "2", "1"},
		{"c-coupon", "g-vip-1", "小满会员核心群", "1", "0", "0", "0"},
	} {
		if !hasRow(out, row) {
			t.Errorf("no row %v in\n%s", row, out)
		}
	}
	out, _, err = run(t, "", append([]string{"get", "heat", "--date", "2026-11-22", "--group", "g-vip-1"}, targs...)...)
	if err != nil || strings.Contains(out, "g-general-1") || !strings.Contains(out, "g-vip-1") {
		t.Errorf("--group g-vip-1: %v\n%s", err, out)
	}

	out, _, err = run(t, "", append([]string{"get", "heat", "--date", "2026-11-22", "--json"}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	var heat []map[string]any
	if err := json.Unmarshal([]byte(out), &heat); err != nil || len(heat) != 1 {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, key := range []string{"content", "title", "deliveries", "heat", "groups", "sharedBy"} {
		if _, ok := heat[0][key]; !ok {
			t.Errorf("--json lacks %q: %v", key, heat[0])
		}
	}
	if !strings.Contains(out, `"readers": 4`) || !strings.Contains(out, `"member": "o-fan"`) {
		t.Errorf("--json:\n%s", out)
	}
	for _, args := range [][]string{{"--date", "2026-10-01"}, {"--date", "2026-11-22", "--group", "g-nobody"}} {
		out, _, err = run(t, "", append(append([]string{"get", "heat", "--json"}, args...), targs...)...)
		if err != nil || strings.TrimSpace(out) != "[]" {
			t.Errorf("nothing read %v: %v %q, want []", args, err, out)
		}
	}
}

// TestGetRoles: promote and demote leave audit records that `get roles`
// lists oldest first, with the member's name, who and why.
func TestGetRoles(t *testing.T) {
	_, targs := appliedDemo(t)
	t.Setenv("QUNYUN_CLOCK_START", "2026-11-23T09:00:00+08:00")
	if _, _, err := run(t, "", append([]string{"promote", "wm-alice", "--group", "g-vip-1", "--to", "moderator", "--by", "ops-lin", "--reason", "答疑多"}, targs...)...); err != nil {
		t.Fatal(err)
	}
	t.Setenv("QUNYUN_CLOCK_START", "2026-11-25T09:00:00+08:00")
	if _, _, err := run(t, "", append([]string{"demote", "wm-alice", "--group", "g-vip-1", "--by", "ops-wang", "--reason", "换届"}, targs...)...); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "", append([]string{"get", "roles"}, targs...)...)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 ||
		!hasRow(lines[1], []string{"2026-11-23", "09:00", "g-vip-1", "wm-alice", "王小美", "member", "moderator", "ops-lin", "答疑多"}) ||
		!hasRow(lines[2], []string{"2026-11-25", "09:00", "wm-alice", "moderator", "member", "ops-wang", "换届"}) {
		t.Fatalf("get roles:\n%s", out)
	}
	out, _, err = run(t, "", append([]string{"get", "roles", "--group", "g-shelf", "--json"}, targs...)...)
	if err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("no changes: %v %q, want []", err, out)
	}
}

// hasRow reports whether one line of out holds cells in order, each a
// whole column.
func hasRow(out string, cells []string) bool {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		i := 0
		for _, w := range f {
			if i < len(cells) && w == cells[i] {
				i++
			}
		}
		if i == len(cells) {
			return true
		}
	}
	return false
}
