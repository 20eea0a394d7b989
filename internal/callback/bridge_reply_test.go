package callback_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// requests returns the DeliveryRequested details published so far.
func (f *fixture) requests() []qunyun.DeliveryRequest {
	f.t.Helper()
	f.bus.mu.Lock()
	defer f.bus.mu.Unlock()
	var out []qunyun.DeliveryRequest
	for _, e := range f.bus.events {
		if e.DetailType != qunyun.EventDeliveryRequested {
			continue
		}
		raw, _ := json.Marshal(e.Detail)
		var r qunyun.DeliveryRequest
		if err := json.Unmarshal(raw, &r); err != nil {
			f.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// A relay group's keyword reply has no passive reply to ride on: it goes
// back through the bridge, as a request to push to post it in the group,
// @ the member and quoting their message. A retry of the message asks for
// the same delivery (push posts one id once); a message no rule answers
// asks for nothing.
func TestRelayKeywordReplyGoesThroughTheBridge(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	if err := (dynamo.Catalog{Table: f.table}).PutKeywordRule(ctx, qunyun.KeywordRule{ID: "kw-menu", AccountID: "relay", Match: "contains",
		Keywords: []string{"菜单"}, Reply: "{{.Name}}，今日菜单在这里：番茄牛腩饭"}); err != nil {
		t.Fatal(err)
	}
	at := f.clock.Now()
	for range 2 { // the bridge's retry of the same message
		if r := f.relay(relayMessage("bridge-m1", "g-fan", "u1", "今天的菜单是什么", at)); r.StatusCode != 200 {
			t.Fatal(r.Body)
		}
	}
	if r := f.relay(relayMessage("bridge-m2", "g-fan", "u2", "大家好", at)); r.StatusCode != 200 {
		t.Fatal(r.Body)
	}
	reqs := f.requests()
	if len(reqs) == 0 {
		t.Fatal("no reply was asked for")
	}
	for _, r := range reqs[1:] {
		if r.ID != reqs[0].ID {
			t.Fatalf("requests %+v: a retry asked for another delivery", reqs)
		}
	}
	got := reqs[0]
	want := qunyun.DeliveryRequest{ID: got.ID, Source: qunyun.SourceReply, TargetKind: qunyun.TargetGroup, TargetID: "g-fan", GroupID: "g-fan",
		AccountID: "relay", Content: &qunyun.Content{ID: "reply", Kind: qunyun.ContentText, Text: "成员u1，今日菜单在这里：番茄牛腩饭"},
		Mentions: []string{"u1"}, ReplyTo: "bridge-m1"}
	if !reflect.DeepEqual(got, want) || !strings.HasPrefix(got.ID, "reply-") {
		t.Errorf("request\n%+v\nwant\n%+v", got, want)
	}
}

// Check-in replies go through the bridge too, and a streak that earns the
// rule's reward carries it: every rewardEvery days, the milestones scoring
// counts as benefits.
func TestRelayCheckinReplyCarriesTheReward(t *testing.T) {
	f := newFixture(t, nil)
	if err := (dynamo.Catalog{Table: f.table}).PutCheckinRule(context.Background(), qunyun.CheckinRule{ID: "ci", AccountID: "relay",
		RewardEvery: 2, Reward: "轻食 8 折券"}); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai
	var texts []string
	for i := range 4 {
		at := day.AddDate(0, 0, i)
		f.clock.Set(at)
		if r := f.relay(relayMessage("ci-"+at.Format("0102"), "g-punch", "u1", "打卡", at)); r.StatusCode != 200 {
			t.Fatal(r.Body)
		}
		reqs := f.requests()
		if len(reqs) != i+1 {
			t.Fatalf("day %d: %d requests, want one a check-in", i+1, len(reqs))
		}
		texts = append(texts, reqs[i].Content.Text)
	}
	for i, text := range texts {
		rewarded := strings.Contains(text, "奖励送上：轻食 8 折券")
		if want := (i+1)%2 == 0; rewarded != want || !strings.Contains(text, "打卡成功") {
			t.Errorf("day %d: reply %q; reward %v, want %v", i+1, text, rewarded, want)
		}
	}
}

// The smart bot's check-in reward rides on its passive reply.
func TestBotCheckinReplyCarriesTheReward(t *testing.T) {
	f := newFixture(t, nil)
	if err := (dynamo.Catalog{Table: f.table}).PutCheckinRule(context.Background(), qunyun.CheckinRule{ID: "c", AccountID: "bot",
		RewardEvery: 1, Reward: "新人礼包"}); err != nil {
		t.Fatal(err)
	}
	code, reply := botCheckin(t, f, "b-reward")
	if code != 200 || !strings.Contains(reply, "连续打卡 1 天") || !strings.Contains(reply, "奖励送上：新人礼包") {
		t.Fatalf("bot check-in: %d %q, want the streak and the reward", code, reply)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d delivery requests: the bot's reply is passive", n)
	}
}

// botCheckin sends an @bot 打卡 in a group as message msgID and returns the
// status and the text of the bot's reply ("" unless 200).
func botCheckin(t *testing.T, f *fixture, msgID string) (int, string) {
	t.Helper()
	return postBot(t, f, `{"msgid":"`+msgID+`","aibotid":"x","chatid":"wrG","chattype":"group","from":{"userid":"u1"},"msgtype":"text","text":{"content":"@助手 打卡"}}`)
}

// postBot posts plain to the smart bot, signed at the fixture's now, and
// returns the status and the text of its reply, text or stream ("" unless
// 200).
func postBot(t *testing.T, f *fixture, plain string) (int, string) {
	t.Helper()
	acct := account("bot")
	c, _ := wechat.NewCrypto(acct.Token, acct.EncodingAESKey, "")
	q, enc := encryptedPost(t, acct, strconv.FormatInt(f.clock.Now().Unix(), 10), plain)
	r := f.do("POST", "bot", q, `{"encrypt":"`+enc+`"}`, nil)
	if r.StatusCode != 200 {
		return r.StatusCode, ""
	}
	var env struct {
		Encrypt      string `json:"encrypt"`
		MsgSignature string `json:"msgsignature"`
		TimeStamp    int64  `json:"timestamp"`
		Nonce        string `json:"nonce"`
	}
	if err := json.Unmarshal([]byte(r.Body), &env); err != nil {
		t.Fatalf("reply %q: %v", r.Body, err)
	}
	opened, err := c.Open(env.MsgSignature, strconv.FormatInt(env.TimeStamp, 10), env.Nonce, env.Encrypt)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Text   struct{ Content string } `json:"text"`
		Stream struct{ Content string } `json:"stream"`
	}
	_ = json.Unmarshal(opened, &m)
	return 200, m.Text.Content + m.Stream.Content
}
