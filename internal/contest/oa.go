package contest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// OAComments calls an Official Account's comment API
// (/cgi-bin/comment/list, /markelect, /reply/add).
type OAComments struct {
	HTTP  *http.Client
	Base  string                                    // WECHAT_API_BASE
	Token func(ctx context.Context) (string, error) // the OA's access token
}

var _ Comments = (*OAComments)(nil)

type commentJSON struct {
	UserCommentID int64  `json:"user_comment_id"`
	OpenID        string `json:"openid"`
	CreateTime    int64  `json:"create_time"`
	Content       string `json:"content"`
	CommentType   int    `json:"comment_type"` // 1: elected
}

func (o *OAComments) call(ctx context.Context, path string, body map[string]any, out any) error {
	token, err := o.Token(ctx)
	if err != nil {
		return err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.Base+path+"?access_token="+url.QueryEscape(token), bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("wechat %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := o.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := client.Do(req)
	if err != nil {
		// The URL holds the token: never return the error text.
		return qunyun.Errorf(qunyun.EUNAVAILABLE, "wechat %s: request failed", path)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil || res.StatusCode != http.StatusOK {
		return qunyun.Errorf(qunyun.EUNAVAILABLE, "wechat %s: HTTP %d", path, res.StatusCode)
	}
	var env struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return qunyun.Errorf(qunyun.EUNAVAILABLE, "wechat %s: answer is not JSON", path)
	}
	if env.ErrCode != 0 {
		return &wechatapi.APIError{API: path, Code: env.ErrCode, Message: env.ErrMsg}
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func target(c qunyun.Contest) map[string]any {
	return map[string]any{"msg_data_id": json.Number(c.MsgDataID), "index": c.Index}
}

// List implements Comments.
func (o *OAComments) List(ctx context.Context, c qunyun.Contest, begin, count int) (int, []Comment, error) {
	if count <= 0 || count >= 50 {
		return 0, nil, qunyun.Errorf(qunyun.EINVALID, "comment list: count must be 1–49, not %d", count)
	}
	body := target(c)
	body["begin"], body["count"], body["type"] = begin, count, 0
	var out struct {
		Total   int           `json:"total"`
		Comment []commentJSON `json:"comment"`
	}
	if err := o.call(ctx, "/cgi-bin/comment/list", body, &out); err != nil {
		return 0, nil, err
	}
	page := make([]Comment, len(out.Comment))
	for i, c := range out.Comment {
		page[i] = Comment{ID: c.UserCommentID, OpenID: c.OpenID, CreateTime: c.CreateTime, Content: c.Content, Elected: c.CommentType == 1}
	}
	return out.Total, page, nil
}

// MarkElect implements Comments.
func (o *OAComments) MarkElect(ctx context.Context, c qunyun.Contest, commentID int64) error {
	body := target(c)
	body["user_comment_id"] = commentID
	return o.call(ctx, "/cgi-bin/comment/markelect", body, nil)
}

// Reply implements Comments.
func (o *OAComments) Reply(ctx context.Context, c qunyun.Contest, commentID int64, text string) error {
	body := target(c)
	body["user_comment_id"], body["content"] = commentID, text
	return o.call(ctx, "/cgi-bin/comment/reply/add", body, nil)
}

// StableToken returns an OA's access token through the shared token cache
// (wechatapi.Tokens, the same cache push uses: the key "oa:<appid>" matches
// it), fetching with /cgi-bin/stable_token, which does not invalidate the
// tokens other processes hold.
func StableToken(tokens *wechatapi.Tokens, client *http.Client, base string, a qunyun.Account) func(ctx context.Context) (string, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	fetch := func(ctx context.Context, force bool) (string, time.Duration, error) {
		b, _ := json.Marshal(map[string]any{"grant_type": "client_credential", "appid": a.AppID, "secret": a.Secret, "force_refresh": force})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/cgi-bin/stable_token", bytes.NewReader(b))
		if err != nil {
			return "", 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return "", 0, qunyun.Errorf(qunyun.EUNAVAILABLE, "wechat stable_token: request failed")
		}
		defer res.Body.Close()
		var out struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int    `json:"expires_in"`
			ErrCode     int    `json:"errcode"`
			ErrMsg      string `json:"errmsg"`
		}
		if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&out); err != nil {
			return "", 0, qunyun.Errorf(qunyun.EUNAVAILABLE, "wechat stable_token: answer is not JSON")
		}
		if out.ErrCode != 0 || out.AccessToken == "" {
			return "", 0, &wechatapi.APIError{API: "/cgi-bin/stable_token", Code: out.ErrCode, Message: out.ErrMsg}
		}
		if out.ExpiresIn <= 0 {
			return "", 0, qunyun.Errorf(qunyun.EUNAVAILABLE, "wechat stable_token: the token has no lifetime")
		}
		return out.AccessToken, wechatapi.TokenLife(out.ExpiresIn), nil
	}
	return func(ctx context.Context) (string, error) {
		return tokens.Get(ctx, "oa:"+a.AppID, fetch)
	}
}

// AccountFinder finds an account by id (accounts.Directory).
type AccountFinder interface {
	Account(ctx context.Context, id string) (qunyun.Account, error)
}

// OACommentsOf returns, for New, the comment API of each OA in dir: its
// tokens through the shared cache, at the API's base URL.
func OACommentsOf(ctx context.Context, dir AccountFinder, tokens *wechatapi.Tokens, base string) func(accountID string) (Comments, error) {
	return func(accountID string) (Comments, error) {
		a, err := dir.Account(ctx, accountID)
		if err != nil {
			return nil, err
		}
		return &OAComments{Base: base, Token: StableToken(tokens, nil, base, a)}, nil
	}
}
