package push_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Each bot group's delivery lands in that group: through the robot its
// community.yaml webhook names, never through another group's robot. A
// group that names none (or one the account's sending half lacks) has no
// way in: no_channel, and no robot is called.
func TestRobotPostsIntoTheGroupsOwnRobot(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	bot := func(id, webhook string) {
		e.groups(1, func(g *qunyun.Group) { g.ID, g.AccountID, g.OwnerID, g.Webhook = id, "bot", "", webhook })
	}
	bot("g-kitchen", "kitchen")
	bot("g-garden", "garden")
	bot("g-none", "")
	bot("g-attic", "attic") // not in the account's webhooks
	req := func(group string) qunyun.DeliveryRequest {
		return qunyun.DeliveryRequest{ID: "notice-" + group, Source: "p-notice", TargetKind: qunyun.TargetGroup, TargetID: group,
			Content: &qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "今晚八点直播"}}
	}
	for _, g := range []string{"g-kitchen", "g-garden", "g-garden-again", "g-none", "g-attic"} {
		group := g
		if g == "g-garden-again" {
			group = "g-garden"
		}
		r := req(group)
		r.ID = "notice-" + g
		if err := e.request(r); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		id, state, reason string
	}{
		{"g-kitchen", "sent", ""}, {"g-garden", "sent", ""}, {"g-none", "skipped", qunyun.ReasonNoChannel}, {"g-attic", "skipped", qunyun.ReasonNoChannel},
	} {
		got := e.stateOf(req(c.id))
		if string(got.State) != c.state || got.Reason != c.reason {
			t.Errorf("%s: %s/%s, want %s/%s", c.id, got.State, got.Reason, c.state, c.reason)
		}
	}
	perRobot := map[string]int{}
	for _, call := range e.sbx.Calls("/cgi-bin/webhook/send") {
		if call.ErrCode != 0 {
			t.Errorf("robot %s answered errcode %d", call.Robot, call.ErrCode)
		}
		perRobot[call.Robot]++
	}
	if len(perRobot) != 2 || perRobot["robot-kitchen"] != 1 || perRobot["robot-garden"] != 2 {
		t.Errorf("posts per robot %v, want robot-kitchen 1 and robot-garden 2", perRobot)
	}
}

// A robot takes an image as itself, base64 with its MD5, not as a media_id:
// push fetches the content's picUrl. Content with only a media_id cannot
// reach a robot group: failed, rejected, and nothing is posted.
func TestRobotImageIsBase64AndMD5(t *testing.T) {
	e := newEnv(t, local(2026, 11, 23, 15, 0))
	e.groups(1, func(g *qunyun.Group) { g.ID, g.AccountID, g.OwnerID, g.Webhook = "g-kitchen", "bot", "", "kitchen" })
	picture := bytes.Repeat([]byte("\x89PNG-not-really-"), 1000)
	pics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(picture) }))
	t.Cleanup(pics.Close)

	withURL := qunyun.DeliveryRequest{ID: "menu-picture", Source: "p-menu", TargetKind: qunyun.TargetGroup, TargetID: "g-kitchen",
		Content: &qunyun.Content{ID: "c-menu", Kind: qunyun.ContentImage, PicURL: pics.URL + "/menu.png", MediaID: "MEDIA"}}
	mediaOnly := qunyun.DeliveryRequest{ID: "poster", Source: "p-menu", TargetKind: qunyun.TargetGroup, TargetID: "g-kitchen",
		Content: &qunyun.Content{ID: "c-poster", Kind: qunyun.ContentImage, MediaID: "MEDIA"}}
	for _, r := range []qunyun.DeliveryRequest{withURL, mediaOnly} {
		if err := e.request(r); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.stateOf(withURL); got.State != qunyun.DeliverySent {
		t.Fatalf("image with picUrl: %s/%s, want sent", got.State, got.Reason)
	}
	if got := e.stateOf(mediaOnly); got.State != qunyun.DeliveryFailed || got.Reason != qunyun.ReasonRejected {
		t.Errorf("image with only a media_id: %s/%s, want failed/rejected", got.State, got.Reason)
	}
	calls := e.sbx.Calls("/cgi-bin/webhook/send")
	if len(calls) != 1 || calls[0].ErrCode != 0 {
		t.Fatalf("robot calls %+v, want one accepted", calls)
	}
	var body struct {
		MsgType string `json:"msgtype"`
		Image   struct {
			Base64  string `json:"base64"`
			MD5     string `json:"md5"`
			MediaID string `json:"media_id"`
		} `json:"image"`
	}
	if err := json.Unmarshal(calls[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(picture)
	if body.MsgType != "image" || body.Image.Base64 != base64.StdEncoding.EncodeToString(picture) ||
		body.Image.MD5 != hex.EncodeToString(sum[:]) || body.Image.MediaID != "" {
		t.Errorf("robot image body %s…, want the picture's base64 and md5, no media_id", calls[0].Body[:min(len(calls[0].Body), 120)])
	}
}
