package scoring_test

import (
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// TestGroupSize: a group seen only through a bot has no member records;
// its size is the members seen in it (a floor, said so), not 1. A group
// with records counts those in it at the day's end. A group with neither
// is of unknown size, said so, with no rate made up.
func TestGroupSize(t *testing.T) {
	at := func(h, m int) time.Time {
		return localDay(0).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	by, _ := oneNight(t, nil, func(w *world) {
		w.must(dynamo.Catalog{Table: w.table}.PutContent(w.ctx, qunyun.Content{ID: "news", Kind: qunyun.ContentLink, Title: "今日好物"}))
		// Bot: 12 members speak, 3 others open a link; nobody is recorded.
		w.must(dynamo.Catalog{Table: w.table}.PutGroup(w.ctx, qunyun.Group{ID: "bot", Name: "机器人群", AccountID: "bot1", Purpose: qunyun.PurposeGeneral, CreatedAt: localDay(-30).UTC()}))
		for i := range 24 {
			w.message("bot", member("bot", i%12), "今天的课程几点开始？", at(10, i), "", "")
		}
		for i := range 3 {
			w.open("bot", "news", member("bot", 20+i), "", at(11, i))
		}
		// Recorded: an owner and 20 members, 2 of whom left during the day.
		w.group("rec", qunyun.PurposeGeneral, 20)
		w.leave("rec", member("rec", 0), at(9, 0))
		w.leave("rec", member("rec", 1), at(9, 5))
		w.message("rec", member("rec", 2), "大家好", at(10, 0), "", "")
		// Unknown: nothing recorded, nobody seen.
		w.must(dynamo.Catalog{Table: w.table}.PutGroup(w.ctx, qunyun.Group{ID: "empty", Name: "空群", AccountID: "bot1", CreatedAt: localDay(-30).UTC()}))
		w.deliver("empty", "news", at(9, 0))
	})
	bot, rec, empty := by["bot"], by["rec"], by["empty"]
	for _, s := range []qunyun.GroupScore{bot, rec, empty} {
		t.Logf("%-5s members %d (seen %d) msg/member %v | %s", s.GroupID, s.Activity.Members, s.Activity.MembersSeen, s.Activity.MessagesPerMember, s.Why)
	}
	if bot.Activity.Members != 15 || bot.Activity.MembersSeen != 15 || bot.Activity.MessagesPerMember != 1.6 {
		t.Errorf("bot group: %+v, want 15 members, all seen, 24/15 = 1.6 messages each", bot.Activity)
	}
	if !strings.Contains(bot.Why, "至少 15 人") {
		t.Errorf("bot group's size is not said to be a floor: %q", bot.Why)
	}
	if d := dimension(bot, qunyun.DimensionInformation); d.Numbers["members"] != 15 || d.Numbers["readRate"] != 0.2 {
		t.Errorf("bot read rate %v of %v members, want 3/15", d.Numbers["readRate"], d.Numbers["members"])
	}
	if rec.Activity.Members != 19 || rec.Activity.MembersSeen != 0 || !strings.Contains(rec.Why, "群成员 19 人") {
		t.Errorf("recorded group: %+v %q, want the owner and 18 members still in", rec.Activity, rec.Why)
	}
	if empty.Activity.Members != 0 || !strings.Contains(empty.Why, "群人数未知") {
		t.Errorf("empty group: %+v %q, want size unknown and said so", empty.Activity, empty.Why)
	}
	if d := dimension(empty, qunyun.DimensionInformation); d.Numbers["readRate"] != 0 || empty.Value != 0 {
		t.Errorf("empty group: read rate %v, value %v; want 0 and 0", d.Numbers["readRate"], empty.Value)
	}
}
