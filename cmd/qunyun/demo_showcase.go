package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/contribution"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
	"github.com/qunyun/qunyun/internal/wechat"
)

// The demo chat is ordinary talk; showcase adds, through the gateway like
// any bridge, what it never does: the demo editor's 「投稿」 and a member's
// burst of ads in a relay group. So `make run` shows a draft waiting for
// `qunyun content review` and, in the sandbox's calls, one batched
// moderation alert (and its follow-up) where there used to be one per
// message.
const (
	showcaseGroup   = "g-fan"
	showcaseEditor  = "wxid_aqing" // s-aqing, editor of g-fan in community.yaml
	showcaseSpammer = "wxid_demo_ads"
	showcaseBurst   = 12
)

func showcase(ctx context.Context, gateway string, relay qunyun.Account, clk clock.Clock, out io.Writer) error {
	b := &callbacks.Builder{Now: clk.Now}
	s := &callbacks.Sender{Base: strings.TrimRight(gateway, "/"), Client: &http.Client{Timeout: 5 * time.Second}}
	now := clk.Now()
	post := func(id, member, name, text string) error {
		e := wechat.RelayEvent{ID: id, Type: wechat.RelayMessage, GroupID: showcaseGroup, MemberID: member,
			MemberName: name, Kind: "text", Text: text, Time: clk.Now().Unix()}
		req, err := b.Relay(relay, e, clk.Now())
		if err != nil {
			return err
		}
		res, err := s.Send(ctx, req)
		if err == nil && !res.Accepted {
			err = fmt.Errorf("%s answered %v", id, res.Statuses)
		}
		return err
	}
	sub := fmt.Sprintf("demo-submit-%d", now.Unix())
	if err := post(sub, showcaseEditor, "阿青", "@小满助手 投稿 冬日暖汤的三种做法，适合一家人周末试试 https://example.com/articles/winter-soup-3"); err != nil {
		return fmt.Errorf("demo: editor's submission: %w", err)
	}
	for i := range showcaseBurst {
		if err := post(fmt.Sprintf("demo-ads-%d-%02d", now.Unix(), i), showcaseSpammer, "代购小号",
			fmt.Sprintf("加我微信领红包，代购返利 https://spam.example/r%d", i)); err != nil {
			return fmt.Errorf("demo: ads burst: %w", err)
		}
	}
	fmt.Fprintf(out, "demo: editor 阿青 submitted %s in %s (list it: qunyun content review; approve: qunyun content review approve %s)\n",
		contribution.ID(sub), showcaseGroup, contribution.ID(sub))
	fmt.Fprintf(out, "demo: %d ads in %s from one member: one moderation alert and one follow-up to the moderators, and a summary when the 10-minute window closes (see /_local/sandbox/calls)\n",
		showcaseBurst, showcaseGroup)
	return nil
}

// The demo's promoted leader: an imported VIP member (infra/local/members.csv)
// made moderator, as an operator would from the report's leader list, so
// `qunyun get roles` and the members list show a promotion from the start.
var demoLeader = qunyun.LeaderCandidate{GroupID: "g-vip-1", MemberID: "wm-demo-02", Role: qunyun.RoleModerator,
	Why: "演示：28 天内答疑 6 次，被回复最多"}

// promoteDemoLeader records the demo's promotion, audited like `qunyun
// promote`; an earlier run's promotion stands (the role is already held).
func promoteDemoLeader(ctx context.Context, table *dynamo.Table, at time.Time) error {
	_, err := dynamo.People{Table: table}.ChangeRole(ctx, qunyun.RoleChange{GroupID: demoLeader.GroupID,
		MemberID: demoLeader.MemberID, To: demoLeader.Role, By: "demo", At: at.UTC(), Reason: demoLeader.Why})
	if err != nil && !strings.Contains(err.Error(), "already "+string(demoLeader.Role)) {
		return fmt.Errorf("demo: promote %s: %w", demoLeader.MemberID, err)
	}
	return nil
}
