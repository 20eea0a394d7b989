package simulate_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate"
)

const aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

// demoAccounts match the ids of infra/local/community.yaml.
var demoAccounts = []qunyun.Account{
	{ID: "demo-oa", Kind: qunyun.ChannelOA, AppID: "wxdemo", Token: "t", EncodingAESKey: aesKey},
	{ID: "demo-wecom", Kind: qunyun.ChannelWeCom, CorpID: "wwdemo", Token: "t", EncodingAESKey: aesKey},
	{ID: "demo-bot", Kind: qunyun.ChannelWeComBot, Token: "t", EncodingAESKey: aesKey},
	{ID: "demo-relay", Kind: qunyun.ChannelRelay, HMACKey: "s"},
}

func demoCommunity(t testing.TB) *community.Community {
	t.Helper()
	c, err := community.Load(filepath.Join("..", "..", "infra", "local", "community.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func groupsOf(c *community.Community) []qunyun.Group {
	var out []qunyun.Group
	for _, g := range c.Groups {
		out = append(out, g.Group)
	}
	return out
}

var start = time.Date(2026, 11, 23, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

func plan(t testing.TB, c *community.Community, seed uint64, days int) (*simulate.World, []simulate.Event) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 0))
	w, err := simulate.NewWorld(rnd, groupsOf(c), simulate.HostMembers(c.Hosts), simulate.NewAccounts(demoAccounts), 50)
	if err != nil {
		t.Fatal(err)
	}
	return w, simulate.Plan(rnd, w, seed, start, days)
}

func fingerprint(events []simulate.Event) string {
	var b strings.Builder
	for _, e := range events {
		member := ""
		if e.Member != nil {
			member = e.Member.ID
		}
		fmt.Fprintf(&b, "%d %s %s %s %s %s %s\n", e.At.Unix(), e.Kind, e.Group.ID, member, e.Text, e.ID, e.ReplyTo)
	}
	return b.String()
}

func TestPlanIsReproducible(t *testing.T) {
	c := demoCommunity(t)
	_, a := plan(t, c, 7, 5)
	_, b := plan(t, c, 7, 5)
	if fingerprint(a) != fingerprint(b) {
		t.Fatal("same seed, different timelines")
	}
	_, other := plan(t, c, 8, 5)
	if fingerprint(a) == fingerprint(other) {
		t.Fatal("different seeds, same timeline")
	}
}

func TestPlanShapesGroupsByPurpose(t *testing.T) {
	c := demoCommunity(t)
	w, events := plan(t, c, 1, 30)
	if n := w.MemberCount(); n < 450 || n > 600 {
		t.Errorf("%d members, want about 500", n)
	}
	perGroupDay := map[string]map[int]int{}
	var joins, leaves, bot, checkins, oa, dismiss int
	for i, e := range events {
		if i > 0 && e.At.Before(events[i-1].At) {
			t.Fatalf("event %d out of order", i)
		}
		day := int(e.At.Sub(start) / (24 * time.Hour))
		switch e.Kind {
		case simulate.KindMessage:
			if perGroupDay[e.Group.ID] == nil {
				perGroupDay[e.Group.ID] = map[int]int{}
			}
			perGroupDay[e.Group.ID][day]++
			if e.ReplyTo != "" && !strings.HasPrefix(e.ReplyTo, "sim-1-") {
				t.Errorf("reply to %q, not a simulated id", e.ReplyTo)
			}
		case simulate.KindJoin:
			joins++
		case simulate.KindLeave:
			leaves++
		case simulate.KindBot:
			bot++
			if e.Group.Bot.ID == "" {
				t.Errorf("bot mention in %s, which has no bot", e.Group.ID)
			}
		case simulate.KindCheckin:
			checkins++
			if e.Group.Purpose != qunyun.PurposePunchCard {
				t.Errorf("check-in in %s (%s)", e.Group.ID, e.Group.Purpose)
			}
		case simulate.KindOA:
			oa++
		case simulate.KindDismiss:
			dismiss++
		}
	}
	week := func(g string, from int) int {
		n := 0
		for d := from; d < from+7; d++ {
			n += perGroupDay[g][d]
		}
		return n
	}
	t.Logf("events %d: %v; fan first week %d, shelf %d, dying %d then %d", len(events), simulate.Count(events),
		week("g-fan", 0), week("g-shelf", 0), week("g-general-2", 0), week("g-general-2", 21))
	if !(week("g-fan", 0) > 5*week("g-shelf", 0)) {
		t.Errorf("the fan group (%d) should be far noisier than the shelf group (%d)", week("g-fan", 0), week("g-shelf", 0))
	}
	if !(week("g-general-2", 21) < week("g-general-2", 0)/4) {
		t.Errorf("the dying group should fade: %d in week 1, %d in week 4", week("g-general-2", 0), week("g-general-2", 21))
	}
	if perGroupDay["g-learning"] != nil {
		t.Errorf("the bot-only learning group should send no relay messages: %v", perGroupDay["g-learning"])
	}
	if joins < 400 || leaves == 0 || bot == 0 || checkins == 0 || oa == 0 || dismiss != 1 {
		t.Errorf("joins %d leaves %d bot %d checkins %d oa %d dismiss %d", joins, leaves, bot, checkins, oa, dismiss)
	}
}

func TestNewWorldNeedsAChannel(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 0))
	_, err := simulate.NewWorld(rnd, []qunyun.Group{{ID: "g", AccountID: "x"}}, nil, simulate.NewAccounts(nil), 10)
	if err == nil {
		t.Error("a group no account can carry was accepted")
	}
	if _, err := simulate.NewWorld(rnd, nil, nil, simulate.NewAccounts(demoAccounts), 10); err == nil {
		t.Error("no groups was accepted")
	}
}
