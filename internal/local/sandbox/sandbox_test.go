package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/local/sandbox"
)

type answer struct {
	ErrCode     int    `json:"errcode"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	MsgID       string `json:"msgid"`
	SendList    []struct {
		ChatID string `json:"chat_id"`
		Status int    `json:"status"`
	} `json:"send_list"`
	Total   int `json:"total"`
	Comment []struct {
		UserCommentID int64  `json:"user_comment_id"`
		CommentType   int    `json:"comment_type"`
		Content       string `json:"content"`
		Reply         *struct {
			Content string `json:"content"`
		} `json:"reply"`
	} `json:"comment"`
}

func call(t *testing.T, method, url string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a answer
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	return a
}

func TestTokensLikeWeChat(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	s := sandbox.New(clk)
	oa := httptest.NewServer(s.OA())
	defer oa.Close()
	stable := func(force bool) answer {
		return call(t, "POST", oa.URL+"/cgi-bin/stable_token", map[string]any{"grant_type": "client_credential", "appid": "wx1", "secret": "s", "force_refresh": force})
	}
	a1 := stable(false)
	if a1.ErrCode != 0 || a1.AccessToken == "" || a1.ExpiresIn != 7200 {
		t.Fatalf("stable_token = %+v", a1)
	}
	if a2 := stable(false); a2.AccessToken != a1.AccessToken {
		t.Fatal("stable_token changed the token while it was valid")
	}
	send := func(tok string) int {
		return call(t, "POST", oa.URL+"/cgi-bin/message/custom/send?access_token="+tok, map[string]any{"touser": "o1", "msgtype": "text"}).ErrCode
	}
	if code := send(a1.AccessToken); code != 0 {
		t.Fatalf("send with a valid token: %d", code)
	}
	if code := send("nope"); code != 40001 {
		t.Fatalf("unknown token: %d, want 40001", code)
	}
	clk.Advance(7201 * time.Second)
	if code := send(a1.AccessToken); code != 42001 {
		t.Fatalf("expired token: %d, want 42001", code)
	}
	a3 := stable(false)
	if a3.AccessToken == a1.AccessToken {
		t.Fatal("no new token after expiry")
	}
	a4 := stable(true)
	if a4.AccessToken == a3.AccessToken || send(a3.AccessToken) != 40001 && send(a3.AccessToken) != 42001 {
		t.Fatal("force_refresh must issue a new token and end the old one")
	}
	// /cgi-bin/token: the old token lives 5 more minutes.
	t1 := call(t, "GET", oa.URL+"/cgi-bin/token?grant_type=client_credential&appid=wx2&secret=s", nil)
	t2 := call(t, "GET", oa.URL+"/cgi-bin/token?grant_type=client_credential&appid=wx2&secret=s", nil)
	if t1.AccessToken == t2.AccessToken || send(t1.AccessToken) != 0 {
		t.Fatal("/cgi-bin/token: want a new token, the old one valid for 5 minutes")
	}
	clk.Advance(5 * time.Minute)
	if send(t1.AccessToken) != 42001 || send(t2.AccessToken) != 0 {
		t.Fatal("/cgi-bin/token: the old token must end after 5 minutes")
	}
}

func TestTaskFlowAndControl(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	s := sandbox.New(clk)
	wc := httptest.NewServer(s.WeCom())
	ctl := httptest.NewServer(s.Control())
	defer wc.Close()
	defer ctl.Close()
	tok := call(t, "GET", wc.URL+"/cgi-bin/gettoken?corpid=ww&corpsecret=s", nil).AccessToken
	if again := call(t, "GET", wc.URL+"/cgi-bin/gettoken?corpid=ww&corpsecret=s", nil).AccessToken; again != tok {
		t.Fatal("gettoken must return the valid token")
	}
	api := func(path string, body any) answer {
		return call(t, "POST", wc.URL+path+"?access_token="+tok, body)
	}
	if a := api("/cgi-bin/externalcontact/add_msg_template", map[string]any{"chat_type": "group", "chat_id_list": []string{"c1"}}); a.ErrCode == 0 {
		t.Fatal("a group task without a sender was accepted")
	}
	task := api("/cgi-bin/externalcontact/add_msg_template", map[string]any{"chat_type": "group", "chat_id_list": []string{"c1"}, "sender": "owner", "text": map[string]string{"content": "hi"}})
	if task.ErrCode != 0 || task.MsgID == "" {
		t.Fatalf("add_msg_template = %+v", task)
	}
	result := func() int {
		r := api("/cgi-bin/externalcontact/get_groupmsg_send_result", map[string]any{"msgid": task.MsgID, "userid": "owner"})
		if len(r.SendList) != 1 || r.SendList[0].ChatID != "c1" {
			t.Fatalf("send result = %+v", r)
		}
		return r.SendList[0].Status
	}
	if result() != 0 {
		t.Fatal("unconfirmed task reported sent")
	}
	for i := range 4 {
		code := api("/cgi-bin/externalcontact/remind_groupmsg_send", map[string]any{"msgid": task.MsgID}).ErrCode
		if (i < 3) != (code == 0) {
			t.Fatalf("reminder %d: errcode %d; want 3 accepted then refused", i+1, code)
		}
	}
	clk.Advance(24 * time.Hour)
	tok = call(t, "GET", wc.URL+"/cgi-bin/gettoken?corpid=ww&corpsecret=s", nil).AccessToken // the old one expired
	if code := api("/cgi-bin/externalcontact/remind_groupmsg_send", map[string]any{"msgid": task.MsgID}).ErrCode; code != 0 {
		t.Fatalf("reminder after 24 h refused: %d", code)
	}
	// The owner confirms through the control API.
	res, err := http.Post(ctl.URL+"/confirm", "application/json", strings.NewReader(`{"msgid":"`+task.MsgID+`"}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("confirm: %v %v", res, err)
	}
	if result() != 1 {
		t.Fatal("confirmed task not reported sent")
	}
	// Fail injection: the next 2 calls answer 45009, then normal again.
	res, _ = http.Post(ctl.URL+"/fail", "application/json", strings.NewReader(`{"path":"/cgi-bin/appchat/send","errcode":45009,"n":2}`))
	if res.StatusCode != 200 {
		t.Fatalf("fail: %d", res.StatusCode)
	}
	codes := []int{}
	for range 3 {
		codes = append(codes, api("/cgi-bin/appchat/send", map[string]any{"chatid": "c", "msgtype": "text"}).ErrCode)
	}
	if codes[0] != 45009 || codes[1] != 45009 || codes[2] != 0 {
		t.Fatalf("codes = %v", codes)
	}
	if res, _ := http.Post(ctl.URL+"/fail", "application/json", strings.NewReader(`{}`)); res.StatusCode != 400 {
		t.Fatal("bad fail request accepted")
	}
	// Calls are recorded and filterable.
	res, _ = http.Get(ctl.URL + "/calls?path=/cgi-bin/appchat/send")
	var calls []sandbox.Call
	json.NewDecoder(res.Body).Decode(&calls)
	if len(calls) != 3 || calls[2].ErrCode != 0 || calls[0].App == "" {
		t.Fatalf("calls = %+v", calls)
	}
	http.Post(ctl.URL+"/reset", "application/json", nil)
	if len(s.Calls()) != 0 || len(s.Tasks()) != 0 {
		t.Fatal("reset kept state")
	}
}

func TestRobotLimitAndComments(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	s := sandbox.New(clk)
	wc := httptest.NewServer(s.WeCom())
	oa := httptest.NewServer(s.OA())
	defer wc.Close()
	defer oa.Close()
	for i := range 21 {
		code := call(t, "POST", wc.URL+"/cgi-bin/webhook/send?key=k", map[string]any{"msgtype": "text"}).ErrCode
		if (i < 20) != (code == 0) {
			t.Fatalf("robot message %d: errcode %d; want 20 a minute", i+1, code)
		}
	}
	clk.Advance(time.Minute)
	if code := call(t, "POST", wc.URL+"/cgi-bin/webhook/send?key=k", map[string]any{"msgtype": "text"}).ErrCode; code != 0 {
		t.Fatalf("robot after a minute: %d", code)
	}

	id := s.AddComment("2247483700", 0, "o1", "第一条留言")
	s.AddComment("2247483700", 0, "o2", "第二条留言")
	tok := call(t, "POST", oa.URL+"/cgi-bin/stable_token", map[string]any{"appid": "wx", "secret": "s"}).AccessToken
	api := func(path string, body any) answer {
		return call(t, "POST", oa.URL+path+"?access_token="+tok, body)
	}
	if a := api("/cgi-bin/comment/list", map[string]any{"msg_data_id": 2247483700, "index": 0, "begin": 0, "count": 50, "type": 0}); a.ErrCode == 0 {
		t.Fatal("count 50 accepted; WeChat rejects >= 50")
	}
	if a := api("/cgi-bin/comment/markelect", map[string]any{"msg_data_id": 2247483700, "index": 0, "user_comment_id": id}); a.ErrCode != 0 {
		t.Fatalf("markelect: %d", a.ErrCode)
	}
	if a := api("/cgi-bin/comment/reply/add", map[string]any{"msg_data_id": 2247483700, "index": 0, "user_comment_id": id, "content": "谢谢"}); a.ErrCode != 0 {
		t.Fatalf("reply: %d", a.ErrCode)
	}
	all := api("/cgi-bin/comment/list", map[string]any{"msg_data_id": 2247483700, "index": 0, "begin": 0, "count": 10, "type": 0})
	elected := api("/cgi-bin/comment/list", map[string]any{"msg_data_id": 2247483700, "index": 0, "begin": 0, "count": 10, "type": 2})
	if all.Total != 2 || elected.Total != 1 || elected.Comment[0].Reply == nil || elected.Comment[0].Reply.Content != "谢谢" {
		t.Fatalf("comments: all %+v elected %+v", all, elected)
	}
}

// The developer endpoint lists every call: it must not show an app secret.
func TestRecordedCallsHideSecrets(t *testing.T) {
	s := sandbox.New(clock.NewManual(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)))
	wc := httptest.NewServer(s.WeCom())
	oa := httptest.NewServer(s.OA())
	ctl := httptest.NewServer(s.Control())
	defer wc.Close()
	defer oa.Close()
	defer ctl.Close()
	call(t, "GET", wc.URL+"/cgi-bin/gettoken?corpid=ww&corpsecret=wecom-s3cr3t", nil)
	call(t, "POST", oa.URL+"/cgi-bin/stable_token", map[string]any{"grant_type": "client_credential", "appid": "wx1", "secret": "oa-s3cr3t"})
	resp, err := http.Get(ctl.URL + "/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "gettoken") {
		t.Fatalf("calls not recorded: %s", body)
	}
	for _, secret := range []string{"wecom-s3cr3t", "oa-s3cr3t"} {
		if strings.Contains(string(body), secret) {
			t.Fatalf("recorded calls show the secret %q: %s", secret, body)
		}
	}
}
