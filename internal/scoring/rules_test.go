package scoring_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/scoring"
)

func TestHysteresis(t *testing.T) {
	const (
		E = qunyun.LevelExploring
		P = qunyun.LevelParticipating
		C = qunyun.LevelContributing
		L = qunyun.LevelLeading
	)
	tests := []struct {
		name       string
		held       qunyun.Level
		belowSince string
		raw        qunyun.Level
		date       string
		want       qunyun.Level
		wantBelow  string
	}{
		{"promote at once", E, "", L, "2026-11-10", L, ""},
		{"promote one step", P, "", C, "2026-11-10", C, ""},
		{"equal keeps and clears", C, "2026-11-01", C, "2026-11-10", C, ""},
		{"first bad day starts grace", C, "", P, "2026-11-10", C, "2026-11-10"},
		{"13 days below: still held", C, "2026-11-01", P, "2026-11-14", C, "2026-11-01"},
		{"14 days below: demoted", C, "2026-11-01", P, "2026-11-15", P, ""},
		{"demoted to the raw level, not one step", L, "2026-11-01", E, "2026-11-20", E, ""},
		{"one good day resets grace", C, "2026-11-01", C, "2026-11-14", C, ""},
		{"promotion during grace", P, "2026-11-01", L, "2026-11-05", L, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, below := scoring.Hysteresis(tt.held, tt.belowSince, tt.raw, tt.date)
			if got != tt.want || below != tt.wantBelow {
				t.Fatalf("Hysteresis(%v, %q, %v, %s) = %v, %q; want %v, %q", tt.held, tt.belowSince, tt.raw, tt.date, got, below, tt.want, tt.wantBelow)
			}
		})
	}
}

func TestMessageLimitNormalisation(t *testing.T) {
	tests := []struct {
		purpose qunyun.Purpose
		members int
		want    float64
	}{
		{qunyun.PurposeGeneral, 50, 80}, // the top of the healthy 30–80
		{qunyun.PurposeGeneral, 500, 253},
		{qunyun.PurposeGeneral, 2000, 506},
		{qunyun.PurposeGeneral, 3, 36}, // tiny groups count as 10
		{qunyun.PurposeShelf, 50, 40},
		{qunyun.PurposeFan, 50, 120},
		{qunyun.PurposeResourcePopup, 200, 320},
		{"unknown", 50, 80},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.purpose, tt.members), func(t *testing.T) {
			if got := scoring.MessageLimit(tt.purpose, tt.members); got != tt.want {
				t.Fatalf("MessageLimit = %v, want %v", got, tt.want)
			}
		})
	}
}

// day builds a group-day with n members and the given messages/deliveries.
func day(purpose qunyun.Purpose, members int) scoring.GroupDay {
	loc := qunyun.LoadLocation("")
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, loc)
	d := scoring.GroupDay{
		Group: qunyun.Group{ID: "g1", Name: "测试群", Purpose: purpose},
		Date:  "2026-11-20", Start: start, End: start.AddDate(0, 0, 1),
		Contents: map[string]qunyun.Content{"c1": {ID: "c1", Benefit: true, Tags: []string{"优惠"}}, "c2": {ID: "c2"}},
	}
	for i := range members {
		d.Members = append(d.Members, qunyun.Member{GroupID: "g1", ID: fmt.Sprintf("m%03d", i), Role: qunyun.RoleMember})
	}
	return d
}

func msg(d *scoring.GroupDay, id, member string, minute int, text string, replyTo string) {
	d.Log.Messages = append(d.Log.Messages, qunyun.Message{ID: id, GroupID: d.Group.ID, MemberID: member,
		Kind: qunyun.KindText, Text: text, ReplyTo: replyTo, At: d.Start.Add(time.Duration(minute) * time.Minute)})
}

func TestNoiseFlags(t *testing.T) {
	s, err := scoring.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		purpose   qunyun.Purpose
		members   int
		messages  int
		speakers  int
		wantFlags []string
	}{
		{"50 members, 30 messages: fine", qunyun.PurposeGeneral, 50, 30, 10, nil},
		{"50 members, 80 messages: still healthy", qunyun.PurposeGeneral, 50, 80, 20, nil},
		{"50 members, 100 messages: over its normalised limit", qunyun.PurposeGeneral, 50, 100, 25, []string{qunyun.FlagVolume}},
		{"500 members, 200 messages: fine", qunyun.PurposeGeneral, 500, 200, 60, nil},
		{"fan group 50 members, 100 messages: fine", qunyun.PurposeFan, 50, 100, 25, nil},
		{"shelf 50 members, 50 messages: noise", qunyun.PurposeShelf, 50, 50, 20, []string{qunyun.FlagVolume}},
		{"one speaker writes half", qunyun.PurposeGeneral, 50, 20, 2, []string{qunyun.FlagConcentration}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := day(tt.purpose, tt.members)
			for i := range tt.messages {
				msg(&d, fmt.Sprintf("x%d", i), fmt.Sprintf("m%03d", i%tt.speakers), i, "聊天", "")
			}
			res := s.Score(d)
			var kinds []string
			for _, f := range res.Score.Flags {
				kinds = append(kinds, f.Kind)
				if f.Why == "" || len(f.Numbers) == 0 {
					t.Errorf("flag %s does not explain itself: %+v", f.Kind, f)
				}
			}
			if fmt.Sprint(kinds) != fmt.Sprint(tt.wantFlags) && !(len(kinds) == 0 && len(tt.wantFlags) == 0) {
				t.Fatalf("flags = %v, want %v (%+v)", kinds, tt.wantFlags, res.Score.Flags)
			}
			wantNoisy := len(tt.wantFlags) > 0 && tt.wantFlags[0] == qunyun.FlagVolume
			if res.Score.Noisy != wantNoisy {
				t.Fatalf("Noisy = %v, want %v", res.Score.Noisy, wantNoisy)
			}
		})
	}
}

func TestAdsAndLinkFlood(t *testing.T) {
	s, _ := scoring.New(nil)
	d := day(qunyun.PurposeGeneral, 50)
	for i := range 20 {
		msg(&d, fmt.Sprintf("x%d", i), fmt.Sprintf("m%03d", i%10), i, "大家好", "")
	}
	for i := range 5 { // five QR codes from one member
		d.Log.Messages = append(d.Log.Messages, qunyun.Message{ID: fmt.Sprintf("ad%d", i), MemberID: "m040", Kind: qunyun.KindImage,
			Signals: []string{qunyun.SignalQRCode}, At: d.Start.Add(time.Hour)})
	}
	res := s.Score(d)
	var ads *qunyun.Flag
	for i := range res.Score.Flags {
		if res.Score.Flags[i].Kind == qunyun.FlagAds {
			ads = &res.Score.Flags[i]
		}
	}
	if ads == nil || ads.Numbers["ads"] != 5 || ads.Numbers["messages"] != 25 {
		t.Fatalf("ads flag = %+v", ads)
	}
	if !strings.Contains(ads.Why, "5/25") {
		t.Fatalf("ads flag does not show its numbers: %q", ads.Why)
	}
}

func TestPurposeWeighting(t *testing.T) {
	s, _ := scoring.New(nil)
	// The same quiet day: one content delivered and opened by 15 of 50
	// members, one benefit opened, nobody chatting.
	quiet := func(p qunyun.Purpose) scoring.GroupDay {
		d := day(p, 50)
		d.Log.Deliveries = []qunyun.Delivery{{ID: "d1", TargetKind: qunyun.TargetGroup, GroupID: "g1", ContentID: "c1",
			State: qunyun.DeliverySent, At: d.Start.Add(9 * time.Hour)}}
		for i := range 15 {
			d.Log.Opens = append(d.Log.Opens, qunyun.LinkOpen{GroupID: "g1", ContentID: "c1",
				MemberID: fmt.Sprintf("m%03d", i), At: d.Start.Add(10 * time.Hour)})
		}
		return d
	}
	// A shelf group owes no conversation (connections weigh 0): the day is
	// nearly full marks. A general group owes answers and connections too:
	// without evidence of them they add 0, so the same day is worth less.
	shelf, general := s.Score(quiet(qunyun.PurposeShelf)).Score, s.Score(quiet(qunyun.PurposeGeneral)).Score
	if shelf.Value < 90 || !(general.Value < shelf.Value) {
		t.Fatalf("quiet day: shelf %v (want ≥ 90), general %v (want below): %+v", shelf.Value, general.Value, general.Dimensions)
	}
	for _, dim := range general.Dimensions {
		if (dim.Name == qunyun.DimensionAnswers || dim.Name == qunyun.DimensionConnections) && (dim.Evidence || dim.Score != 0) {
			t.Fatalf("%s has evidence on a silent day: %+v", dim.Name, dim)
		}
	}
	// A day of unanswered questions and nothing delivered: a learning group
	// (answers weigh 0.40) suffers more than a shelf group (0.10).
	unanswered := func(p qunyun.Purpose) float64 {
		d := quiet(p)
		for i := range 6 {
			msg(&d, fmt.Sprintf("q%d", i), fmt.Sprintf("m%03d", i), 60+i, "这个怎么用？", "")
		}
		return s.Score(d).Score.Value
	}
	shelfAsked, learning := unanswered(qunyun.PurposeShelf), unanswered(qunyun.PurposeLearning)
	if !(learning < shelfAsked) {
		t.Fatalf("unanswered questions: learning %v should score below shelf %v", learning, shelfAsked)
	}
	// Weights of every purpose sum to 1.
	for p, w := range scoring.PurposeWeights {
		if sum := w.Information + w.Answers + w.Connections + w.Benefits; sum < 0.999 || sum > 1.001 {
			t.Errorf("%s weights sum to %v", p, sum)
		}
	}
}

func TestAnswersAndConnections(t *testing.T) {
	s, _ := scoring.New(nil)
	d := day(qunyun.PurposeLearning, 20)
	msg(&d, "q1", "m001", 0, "这个报销流程怎么走？", "")
	msg(&d, "a1", "m002", 10, "先在系统里提交", "q1")
	msg(&d, "a2", "m003", 30, "还要领导审批", "q1")
	msg(&d, "q2", "m004", 40, "有没有模板", "")
	res := s.Score(d)
	var ans qunyun.DimensionScore
	for _, dim := range res.Score.Dimensions {
		if dim.Name == qunyun.DimensionAnswers {
			ans = dim
		}
	}
	if ans.Numbers["questions"] != 2 || ans.Numbers["answered"] != 1 || ans.Numbers["medianMinutes"] != 10 {
		t.Fatalf("answers numbers = %v", ans.Numbers)
	}
	if !strings.Contains(ans.Why, "10.0 分钟") {
		t.Fatalf("answers why = %q", ans.Why)
	}
	for _, dim := range res.Score.Dimensions {
		if dim.Name == qunyun.DimensionConnections && (dim.Numbers["pairs"] != 2 || dim.Numbers["reach"] != 3) {
			t.Fatalf("connections = %v", dim.Numbers)
		}
	}
}

func TestHealthFlags(t *testing.T) {
	s, _ := scoring.New(nil)
	flagsOf := func(d scoring.GroupDay) map[string]qunyun.Flag {
		out := map[string]qunyun.Flag{}
		for _, f := range s.Score(d).Score.Flags {
			out[f.Kind] = f
		}
		return out
	}
	t.Run("renewal due within 30 days", func(t *testing.T) {
		d := day(qunyun.PurposeVIP, 50)
		d.Group.Lifecycle = qunyun.Lifecycle{Kind: "yearly", RenewOn: "12-15"}
		if f, ok := flagsOf(d)[qunyun.FlagRenewal]; !ok || f.Numbers["days"] != 25 {
			t.Fatalf("renewal flag = %+v", f)
		}
		d.Group.Lifecycle.RenewOn = "06-01"
		if _, ok := flagsOf(d)[qunyun.FlagRenewal]; ok {
			t.Fatal("renewal flagged half a year early")
		}
	})
	t.Run("pop-up group past its window", func(t *testing.T) {
		d := day(qunyun.PurposeResourcePopup, 50)
		d.Group.Lifecycle = qunyun.Lifecycle{Kind: "popup", PopupMinutes: 10}
		d.Group.CreatedAt = d.Start.Add(23 * time.Hour)
		f, ok := flagsOf(d)[qunyun.FlagPopupExpired]
		if !ok || f.Numbers["overMinutes"] != 50 {
			t.Fatalf("popup flag = %+v", f)
		}
		d.Group.State = qunyun.GroupDismissed
		if _, ok := flagsOf(d)[qunyun.FlagPopupExpired]; ok {
			t.Fatal("a dismissed pop-up group is still flagged")
		}
	})
	t.Run("leaves within 24 h after a push", func(t *testing.T) {
		d := day(qunyun.PurposeGeneral, 50)
		push := d.Start.Add(-2 * time.Hour) // the evening before: still counts
		d.Log.Deliveries = []qunyun.Delivery{{ID: "p", TargetKind: qunyun.TargetGroup, State: qunyun.DeliverySent, At: push}}
		for i, h := range []int{3, 5, 30} { // the third is more than 24 h after
			d.Log.Events = append(d.Log.Events, qunyun.GroupEvent{ID: fmt.Sprint(i), Type: qunyun.EventMemberLeft,
				MemberID: fmt.Sprintf("m%03d", i), At: push.Add(time.Duration(h) * time.Hour)})
		}
		f, ok := flagsOf(d)[qunyun.FlagPushLeaves]
		if !ok || f.Numbers["leaves"] != 2 {
			t.Fatalf("push-leaves flag = %+v", f)
		}
	})
	t.Run("dormant needs 14 days with no value", func(t *testing.T) {
		d := day(qunyun.PurposeGeneral, 50)
		for k := 1; k <= 13; k++ {
			d.History = append(d.History, qunyun.GroupScore{Date: d.Start.AddDate(0, 0, -k).Format(time.DateOnly), Value: 2})
		}
		if _, ok := flagsOf(d)[qunyun.FlagDormant]; !ok {
			t.Fatal("14 empty days not flagged dormant")
		}
		d.History[5].Value = 40
		if _, ok := flagsOf(d)[qunyun.FlagDormant]; ok {
			t.Fatal("flagged dormant with a good day in the fortnight")
		}
		d.History = d.History[:10]
		d.History[5].Value = 0
		if _, ok := flagsOf(d)[qunyun.FlagDormant]; ok {
			t.Fatal("a group with 11 scored days flagged dormant")
		}
	})
}

func TestBenefits(t *testing.T) {
	s, _ := scoring.New(nil)
	d := day(qunyun.PurposePunchCard, 20)
	d.CheckinRules = []qunyun.CheckinRule{{ID: "r", RewardEvery: 7, Reward: "小礼物"}}
	for i, streak := range []int{7, 3, 14, 1} {
		d.Log.Checkins = append(d.Log.Checkins, qunyun.Checkin{MemberID: fmt.Sprintf("m%03d", i), Streak: streak, At: d.Start.Add(8 * time.Hour)})
	}
	d.Log.Opens = append(d.Log.Opens, qunyun.LinkOpen{ContentID: "c1", MemberID: "m010", At: d.Start.Add(9 * time.Hour)})
	res := s.Score(d)
	var ben qunyun.DimensionScore
	for _, dim := range res.Score.Dimensions {
		if dim.Name == qunyun.DimensionBenefits {
			ben = dim
		}
	}
	if !ben.Evidence || ben.Numbers["rewards"] != 2 || ben.Numbers["checkers"] != 4 || ben.Numbers["benefitReaders"] != 1 {
		t.Fatalf("benefits = %+v", ben)
	}
	// (1 reader + 2 rewards + 0.5 × 4 check-ins) against 2 (a tenth of 20): full.
	if ben.Score != 100 {
		t.Fatalf("benefits score %v", ben.Score)
	}
	// Without offers, prizes or check-ins the dimension does not count.
	quiet := day(qunyun.PurposePunchCard, 20)
	for _, dim := range s.Score(quiet).Score.Dimensions {
		if dim.Name == qunyun.DimensionBenefits && dim.Evidence {
			t.Fatal("benefits apply on a day without any")
		}
	}
}

// TestLevelsOverTime runs a member through 50 days of the real level
// pipeline (Score, with the stored levels fed back the way the store does):
// promoted at once, held through a bad day, demoted only after 14 days in a
// row below.
func TestLevelsOverTime(t *testing.T) {
	s, _ := scoring.New(nil)
	stored := map[string]qunyun.MemberLevel{}
	levelOn := map[int]qunyun.Level{}
	rawOn := map[int]qunyun.Level{}
	for i := range 70 {
		d := day(qunyun.PurposeLearning, 10)
		d.Start = d.Start.AddDate(0, 0, i)
		d.End = d.Start.AddDate(0, 0, 1)
		d.Date = d.Start.Format(time.DateOnly)
		d.Levels = stored
		active := i < 20 || i == 26 // busy for 20 days, one good day on day 26, then silence
		if active && i != 12 {      // day 12 is one bad day
			for k := range 2 {
				q := fmt.Sprintf("q%d-%d", i, k)
				msg(&d, q, "m005", 10*k, "这个怎么做？", "")
				msg(&d, fmt.Sprintf("a%d-%d", i, k), "m001", 10*k+2, "这样做就行", q)
			}
		}
		res := s.Score(d)
		next := map[string]qunyun.MemberLevel{}
		for k, v := range stored {
			next[k] = v
		}
		for _, l := range res.Levels {
			next[l.MemberID] = l
		}
		stored = next
		levelOn[i] = stored["m001"].Level
		if days := stored["m001"].Days; len(days) > 0 && days[len(days)-1].Date == d.Date {
			rawOn[i] = days[len(days)-1].Raw
		} else {
			rawOn[i] = rawOn[i-1] // nothing changed, nothing written
		}
	}
	L, E := qunyun.LevelLeading, qunyun.LevelExploring
	// Promoted the day the window earns it: participating on the second
	// active day, leading once 10 days of answers are in.
	if levelOn[0] != E || levelOn[1] != qunyun.LevelParticipating || levelOn[9] != L {
		t.Fatalf("promotion: day 0 %v, day 1 %v, day 9 %v", levelOn[0], levelOn[1], levelOn[9])
	}
	if levelOn[12] != L || levelOn[13] != L {
		t.Fatalf("one bad day demoted: %v", levelOn[12])
	}
	// The 28-day window earns "leading" until enough busy days fall out of
	// it; from then on the level holds for 14 days, then drops.
	firstBelow, firstDrop := 0, 0
	for i := 20; i < 70; i++ {
		if firstBelow == 0 && rawOn[i] < L {
			firstBelow = i
		}
		if firstDrop == 0 && levelOn[i] < L {
			firstDrop = i
		}
	}
	if firstBelow == 0 || firstDrop != firstBelow+scoring.GraceDays {
		t.Fatalf("raw fell below on day %d, demoted on day %d (want 14 days later)\nraw %v\nlevel %v", firstBelow, firstDrop, rawOn, levelOn)
	}
	if levelOn[firstDrop] != rawOn[firstDrop] {
		t.Fatalf("demoted to %v, the window earns %v", levelOn[firstDrop], rawOn[firstDrop])
	}
	if held := stored["m001"]; held.Level == L {
		t.Fatalf("still leading after 43 silent days: %+v", held)
	}
	t.Logf("raw below leading from day %d, demoted on day %d to %v", firstBelow, firstDrop, levelOn[firstDrop])
}

func TestBigrams(t *testing.T) {
	tests := []struct {
		text string
		want string
	}{
		{"融资方案", "[融资 资方 方案]"},
		{"用Go写Lambda函数", "[用 go 写 lambda 函数]"},
		{"你好，world 2026!", "[你好 world 2026]"},
		{"", "[]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(scoring.Bigrams{}.Cut(tt.text)); got != tt.want {
			t.Errorf("Cut(%q) = %s, want %s", tt.text, got, tt.want)
		}
	}
}

// TestSessionQuestionCountedOnce: a question asked in a session is a group
// message too (the callback logs it, then captures it); the host's quote of
// it is a group message as well. Each counts once, whichever way it is seen.
func TestSessionQuestionCountedOnce(t *testing.T) {
	s, _ := scoring.New(nil)
	d := day(qunyun.PurposeVIP, 20)
	d.Members = append(d.Members, qunyun.Member{GroupID: "g1", ID: "host", Role: qunyun.RoleHost})
	msg(&d, "q1", "m001", 5, "提问：复购率一般多少算健康？", "")
	msg(&d, "a1", "host", 15, "健康的复购率在百分之三十以上。", "q1")
	sess := qunyun.Session{ID: "s1", GroupID: "g1", HostID: "h1", Start: d.Start, End: d.Start.Add(45 * time.Minute),
		State: qunyun.SessionRecapped, Run: qunyun.SessionRun{HostSeen: true}}
	d.Sessions = []scoring.SessionDay{{Session: sess, Questions: []qunyun.Question{{
		SessionID: "s1", GroupID: "g1", MemberID: "m001", Text: "提问：复购率一般多少算健康？", At: d.Start.Add(5 * time.Minute), MessageID: "q1",
		Answered: true, Answer: "健康的复购率在百分之三十以上。", AnsweredBy: "host", AnsweredAt: d.Start.Add(15 * time.Minute)}}}}
	res := s.Score(d)
	for _, dim := range res.Score.Dimensions {
		if dim.Name == qunyun.DimensionAnswers && (dim.Numbers["questions"] != 1 || dim.Numbers["answered"] != 1) {
			t.Fatalf("answers numbers = %v, want one question answered once", dim.Numbers)
		}
	}
	for _, l := range res.Levels {
		if l.MemberID == "m001" && l.Window.Questions != 1 {
			t.Errorf("asker contributions %+v, want one question", l.Window)
		}
		if l.MemberID == "host" && l.Window.Answers != 1 {
			t.Errorf("host contributions %+v, want one answer", l.Window)
		}
	}
}

// TestRerunAfterMemberLeft: re-running a night after a member left (later
// than that night) scores the night as it was: the member was in the group
// at the end of the day.
func TestRerunAfterMemberLeft(t *testing.T) {
	s, _ := scoring.New(nil)
	d := day(qunyun.PurposeGeneral, 10)
	for i := range d.Members {
		d.Members[i].JoinedAt = d.Start.AddDate(0, -1, 0)
	}
	msg(&d, "x1", "m001", 5, "大家好", "")
	first := s.Score(d)
	d.Members[9].LeftAt = d.End.Add(48 * time.Hour)
	again := s.Score(d)
	if first.Score.Activity.Members != 10 || again.Score.Activity.Members != first.Score.Activity.Members {
		t.Fatalf("members %d, then %d after a later leave", first.Score.Activity.Members, again.Score.Activity.Members)
	}
	if fmt.Sprint(first.Score.Levels) != fmt.Sprint(again.Score.Levels) || first.Score.Value != again.Score.Value {
		t.Fatalf("re-run differs: levels %v → %v, value %v → %v", first.Score.Levels, again.Score.Levels, first.Score.Value, again.Score.Value)
	}
}

// TestSessionsHeld: a session counts as held when it opened and its host
// came, even late; one whose whole window passed unopened (closed quietly
// after an outage) was not held.
func TestSessionsHeld(t *testing.T) {
	s, _ := scoring.New(nil)
	held := func(run qunyun.SessionRun) float64 {
		d := day(qunyun.PurposeVIP, 20)
		start := d.Start.Add(20 * time.Hour)
		d.Sessions = []scoring.SessionDay{{Session: qunyun.Session{ID: "s1", GroupID: "g1", HostID: "h1", Start: start, End: start.Add(45 * time.Minute),
			State: qunyun.SessionRecapped, Run: run}}}
		for _, dim := range s.Score(d).Score.Dimensions {
			if dim.Name == qunyun.DimensionInformation {
				return dim.Numbers["sessions"]
			}
		}
		return -1
	}
	opened := d0().Add(20 * time.Hour)
	if n := held(qunyun.SessionRun{ClosedAt: opened.Add(50 * time.Minute)}); n != 0 {
		t.Errorf("a session that never opened counts as %v held", n)
	}
	if n := held(qunyun.SessionRun{OpenedAt: opened.Add(7 * time.Minute), LateBy: 7, HostSeen: true, NoShow: true}); n != 1 {
		t.Errorf("a session whose host came after the no-show alert counts as %v held", n)
	}
	if n := held(qunyun.SessionRun{OpenedAt: opened, NoShow: true}); n != 0 {
		t.Errorf("a session whose host never came counts as %v held", n)
	}
}

func d0() time.Time { return day(qunyun.PurposeVIP, 1).Start }

// TestShareSignalIsNotAMember: the callback records WeChat's own share
// signal as an open's From ("groupmessage", "singlemessage", "timeline"):
// it must not become a member with shares, a level or a leader candidacy.
func TestShareSignalIsNotAMember(t *testing.T) {
	s, _ := scoring.New(nil)
	d := day(qunyun.PurposeShelf, 20)
	for i := range 6 {
		d.Log.Opens = append(d.Log.Opens, qunyun.LinkOpen{GroupID: "g1", ContentID: fmt.Sprintf("c%d", i), From: "groupmessage",
			At: d.Start.Add(time.Duration(10+i) * time.Minute)})
	}
	res := s.Score(d)
	for _, l := range res.Levels {
		if l.MemberID == "groupmessage" {
			t.Fatalf("WeChat's share signal scored as a member: %+v", l)
		}
	}
	if res.Score.Heat.Shares != 6 {
		t.Errorf("shares %d, want the 6 shared opens still counted for the group", res.Score.Heat.Shares)
	}
}

// TestSharedOwnLinkCreditsRecipient: a 1:1 link is its recipient's own,
// so its opens from a share (WeChat's From signal) are the recipient's
// share, once per content, and readers we cannot name, not the
// recipient's reads.
func TestSharedOwnLinkCreditsRecipient(t *testing.T) {
	s, _ := scoring.New(nil)
	d := day(qunyun.PurposeShelf, 20)
	for i, from := range []string{"", "singlemessage", "timeline"} {
		d.Log.Opens = append(d.Log.Opens, qunyun.LinkOpen{GroupID: "g1", ContentID: "c2", MemberID: "m001", From: from,
			At: d.Start.Add(time.Duration(10+i) * time.Minute)})
	}
	res := s.Score(d)
	if h := res.Score.Heat; h != (qunyun.Heat{Opens: 3, Readers: 3, Shares: 2}) {
		t.Errorf("heat %+v, want 3 opens by 3 readers, 2 of them shared", h)
	}
	found := false
	for _, l := range res.Levels {
		if l.MemberID == "m001" {
			found = true
			if l.Window.Shares != 1 || l.Window.Reads != 1 {
				t.Errorf("m001 has %d shares and %d reads, want 1 and 1", l.Window.Shares, l.Window.Reads)
			}
		}
	}
	if !found {
		t.Error("m001 has no level")
	}
}

// TestVoteIsNotAnAnswer: "+1" or "同问" quoting a question is a vote (the
// callback counts it on a session question), not an answer to it.
func TestVoteIsNotAnAnswer(t *testing.T) {
	s, _ := scoring.New(nil)
	d := day(qunyun.PurposeLearning, 20)
	msg(&d, "q1", "m001", 0, "这个报销流程怎么走？", "")
	msg(&d, "v1", "m002", 1, "+1", "q1")
	msg(&d, "v2", "m003", 2, "同问", "q1")
	res := s.Score(d)
	for _, dim := range res.Score.Dimensions {
		if dim.Name == qunyun.DimensionAnswers && (dim.Numbers["questions"] != 1 || dim.Numbers["answered"] != 0) {
			t.Fatalf("answers numbers = %v, want one question, none answered", dim.Numbers)
		}
	}
	for _, l := range res.Levels {
		if l.Window.Answers != 0 {
			t.Errorf("%s credited with %d answers for a vote", l.MemberID, l.Window.Answers)
		}
	}
}
