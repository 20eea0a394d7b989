package callback_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// syncs returns the GroupSyncRequested details published so far.
func (f *fixture) syncs() []qunyun.GroupSyncRequest {
	f.t.Helper()
	f.bus.mu.Lock()
	defer f.bus.mu.Unlock()
	var out []qunyun.GroupSyncRequest
	for _, e := range f.bus.events {
		if e.DetailType == qunyun.EventGroupSyncRequested {
			out = append(out, e.Detail.(qunyun.GroupSyncRequest))
		}
	}
	return out
}

// A WeCom customer group's events do not say its name (create, rename) or
// its new owner, and a group first heard of through a join is known by its
// id alone: the callback, which holds no secret to ask WeChat, asks push to
// read it, once per group per callback. Joins to a group whose name and
// owner are known ask nothing.
func TestWeComGroupEventsAskForASync(t *testing.T) {
	f := newFixture(t, nil)
	acct := account("wecom-qdg")
	at := f.clock.Now().Unix()
	post := func(chat, change, detail, extra string) {
		t.Helper()
		at++
		ts := strconv.FormatInt(at, 10)
		plain := fmt.Sprintf(`<xml><ToUserName>%s</ToUserName><FromUserName>sys</FromUserName><CreateTime>%s</CreateTime><MsgType>event</MsgType><Event>change_external_chat</Event><ChatId>%s</ChatId><ChangeType>%s</ChangeType><UpdateDetail>%s</UpdateDetail>%s</xml>`,
			acct.CorpID, ts, chat, change, detail, extra)
		q, enc := encryptedPost(t, acct, ts, plain)
		if r := f.do("POST", acct.ID, q, "<xml><ToUserName>x</ToUserName><Encrypt><![CDATA["+enc+"]]></Encrypt></xml>", nil); r.StatusCode != 200 {
			t.Fatalf("%d %q", r.StatusCode, r.Body)
		}
	}
	two := `<JoinScene>3</JoinScene><MemChangeList><Item>wm1</Item><Item>wm2</Item></MemChangeList>`
	post("wrNew", "create", "", "")
	post("wrLearned", "update", "add_member", two)
	if err := (dynamo.Catalog{Table: f.table}).PutGroup(context.Background(), qunyun.Group{ID: "wrKnown", AccountID: acct.ID, Name: "已知群", OwnerID: "lin"}); err != nil {
		t.Fatal(err)
	}
	post("wrKnown", "update", "add_member", two)
	post("wrKnown", "update", "change_owner", "")
	post("wrKnown", "update", "change_name", "")
	var got []string
	for _, r := range f.syncs() {
		got = append(got, r.GroupID+":"+r.Why)
		if r.AccountID != acct.ID || r.ID == "" {
			t.Errorf("request %+v", r)
		}
	}
	want := []string{"wrNew:created", "wrLearned:joined", "wrKnown:owner", "wrKnown:renamed"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sync requests %v, want %v", got, want)
	}
}
