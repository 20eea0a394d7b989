package contest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/bus"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/contest"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// commentAPI is WeChat answering every call of one test with the same
// bytes: tokenAnswer for stable_token, apiAnswer for the comment APIs.
type commentAPI struct {
	status                 int
	tokenAnswer, apiAnswer []byte
	calls                  int
}

// maxCommentCalls bounds the calls one run may make on one answer: a
// contest of 49 winners pages, marks and replies well within it.
const maxCommentCalls = 200

func (a *commentAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	if a.calls++; a.calls > maxCommentCalls {
		return nil, errors.New("too many calls")
	}
	body := a.apiAnswer
	if strings.HasSuffix(req.URL.Path, "/stable_token") {
		body = a.tokenAnswer
	}
	return &http.Response{StatusCode: a.status, Body: io.NopCloser(bytes.NewReader(body)), Header: http.Header{}, Request: req}, nil
}

// tokenCache is a wechatapi.TokenStore in memory that keeps every token
// stored.
type tokenCache struct{ stored []qunyun.AccessToken }

func (c *tokenCache) AccessToken(context.Context, string) (qunyun.AccessToken, error) {
	if len(c.stored) == 0 {
		return qunyun.AccessToken{}, nil
	}
	return c.stored[len(c.stored)-1], nil
}

func (c *tokenCache) LeaseToken(context.Context, string, string, time.Time) (bool, error) {
	return true, nil
}

func (c *tokenCache) StoreToken(_ context.Context, _, _ string, tok qunyun.AccessToken) (bool, error) {
	c.stored = append(c.stored, tok)
	return true, nil
}

func (c *tokenCache) ReleaseTokenLease(context.Context, string, string) error { return nil }

type nopBus struct{}

func (nopBus) Publish(context.Context, ...bus.Event) error { return nil }

// FuzzCommentAnswers runs an ended contest on an empty table while the OA
// comment and token APIs answer with fuzzed bytes and statuses (seeded
// with real answers). Whatever they answer, the run ends within a bounded
// number of calls, stores no token that expires before now, and ranks the
// entries it returns 1, 2, ... with the excluded ones unranked.
func FuzzCommentAnswers(f *testing.F) {
	token := []byte(`{"access_token":"ACCESS_TOKEN","expires_in":7200}`)
	for _, api := range []string{
		`{"errcode":0,"errmsg":"ok","total":2,"comment":[{"user_comment_id":5,"openid":"o1","create_time":1795316400,"content":"我的留言写得很长很长","comment_type":0},{"user_comment_id":6,"openid":"o2","create_time":1795316460,"content":"短","comment_type":1}]}`,
		`{"errcode":0,"errmsg":"ok","total":0,"comment":[]}`,
		`{"errcode":88000,"errmsg":"without comment privilege"}`,
		`{"errcode":40001,"errmsg":"invalid credential"}`,
	} {
		f.Add(200, token, []byte(api))
	}
	f.Add(200, []byte(`{"errcode":40013,"errmsg":"invalid appid"}`), []byte(`{"errcode":0}`))
	f.Add(503, token, []byte(`{}`))

	clk := clock.NewManual(time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC))
	table, _ := dynamotest.NewEmptyTable(clk)
	acct := qunyun.Account{ID: "oa1", Kind: qunyun.ChannelOA, AppID: "wx1", Secret: "s", Token: "t"}
	c := qunyun.Contest{ID: "c1", AccountID: "oa1", Title: "留言活动", MsgDataID: "2247483647", Start: "2026-11-20T00:00:00+08:00", End: "2026-11-27T00:00:00+08:00", Winners: 3}
	const base = "https://api.weixin.qq.com"
	f.Fuzz(func(t *testing.T, status int, tokenAnswer, apiAnswer []byte) {
		api := &commentAPI{status: status, tokenAnswer: tokenAnswer, apiAnswer: apiAnswer}
		client := &http.Client{Transport: api}
		cache := &tokenCache{}
		tokens := &wechatapi.Tokens{Store: cache, Now: clk.Now, Poll: time.Millisecond, Wait: time.Millisecond}
		comments := &contest.OAComments{HTTP: client, Base: base, Token: contest.StableToken(tokens, client, base, acct)}
		runner, err := contest.New(contestStores(table), func(string) (contest.Comments, error) { return comments, nil }, nopBus{}, clk.Now)
		if err != nil {
			t.Fatal(err)
		}
		entries, _ := runner.Run(context.Background(), c)
		if api.calls > maxCommentCalls {
			t.Fatalf("%d calls on one answer", api.calls)
		}
		for _, tok := range cache.stored {
			if !tok.ExpiresAt.After(clk.Now()) {
				t.Fatalf("stored a token that expires at %s, before now, from %q", tok.ExpiresAt, tokenAnswer)
			}
		}
		rank := 0
		for _, e := range entries {
			switch {
			case e.Excluded != "" && e.Rank != 0:
				t.Fatalf("excluded entry ranked: %+v", e)
			case e.Excluded == "":
				if rank++; e.Rank != rank {
					t.Fatalf("entry %d ranked %d, want %d", e.CommentID, e.Rank, rank)
				}
			}
		}
	})
}
