package wechatapi

import (
	"context"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// TaskRequest is a WeCom customer or customer-group mass-message task.
type TaskRequest struct {
	Groups    []string // chat ids (chat_type group); or
	Customers []string // external user ids (chat_type single)
	Sender    string   // the staff member who must confirm (required for groups)
	Message   Message
}

// AddMsgTemplate creates a task; it does not send: Sender must confirm it in
// WeCom. It returns the task's msgid.
func (c *Client) AddMsgTemplate(ctx context.Context, a qunyun.Account, r TaskRequest) (string, error) {
	body := map[string]any{"sender": r.Sender, "allow_select": false}
	if len(r.Groups) > 0 {
		body["chat_type"] = "group"
		body["chat_id_list"] = r.Groups
	} else {
		body["chat_type"] = "single"
		body["external_userid"] = r.Customers
	}
	m := r.Message
	if m.Text != "" {
		body["text"] = map[string]string{"content": m.Text}
	}
	switch m.Kind {
	case qunyun.ContentLink:
		body["attachments"] = []map[string]any{{"msgtype": "link", "link": map[string]string{"title": m.Title, "picurl": m.PicURL, "desc": m.Description, "url": m.URL}}}
	case qunyun.ContentImage:
		body["attachments"] = []map[string]any{{"msgtype": "image", "image": map[string]string{"media_id": m.MediaID}}}
	case qunyun.ContentMiniProgram:
		body["attachments"] = []map[string]any{{"msgtype": "miniprogram", "miniprogram": map[string]string{"title": m.Title, "pic_media_id": m.MediaID, "appid": m.AppID, "page": m.PagePath}}}
	}
	var out struct {
		MsgID    string   `json:"msgid"`
		FailList []string `json:"fail_list"`
	}
	if err := c.call(ctx, a, pathAddMsgTemplate, body, &out); err != nil {
		return "", err
	}
	if out.MsgID == "" {
		return "", qunyun.Errorf(qunyun.EUNAVAILABLE, "add_msg_template: no msgid in the answer")
	}
	if len(out.FailList) > 0 && len(out.FailList) == len(r.Groups)+len(r.Customers) {
		return out.MsgID, &APIError{API: pathAddMsgTemplate, Code: -1, Message: "every target is in fail_list"}
	}
	return out.MsgID, nil
}

// TaskStatus is a task's send status for one target (get_groupmsg_send_result).
type TaskStatus int

// TaskResult is one row of get_groupmsg_send_result.
type TaskResult struct {
	ChatID         string     `json:"chat_id"`
	ExternalUserID string     `json:"external_userid"`
	UserID         string     `json:"userid"`
	Status         TaskStatus `json:"status"`
	SendTime       int64      `json:"send_time"`
}

// GroupMsgSendResult reads a task's per-target status for its sender.
func (c *Client) GroupMsgSendResult(ctx context.Context, a qunyun.Account, msgID, sender string) ([]TaskResult, error) {
	var all []TaskResult
	cursor := ""
	seen := map[string]bool{}
	for {
		var out struct {
			SendList   []TaskResult `json:"send_list"`
			NextCursor string       `json:"next_cursor"`
		}
		if err := c.call(ctx, a, pathGroupMsgResult, map[string]any{"msgid": msgID, "userid": sender, "limit": 500, "cursor": cursor}, &out); err != nil {
			return nil, err
		}
		all = append(all, out.SendList...)
		if out.NextCursor == "" {
			return all, nil
		}
		// A cursor seen before would page for ever.
		if seen[out.NextCursor] {
			return nil, qunyun.Errorf(qunyun.EUNAVAILABLE, "get_groupmsg_send_result of %s: cursor %q came back again", msgID, out.NextCursor)
		}
		seen[out.NextCursor] = true
		cursor = out.NextCursor
	}
}

// RemindGroupMsgSend re-notifies the sender of an unconfirmed task (WeCom
// allows 3 reminders in 24 h).
func (c *Client) RemindGroupMsgSend(ctx context.Context, a qunyun.Account, msgID string) error {
	return c.call(ctx, a, pathRemindGroupMsg, map[string]string{"msgid": msgID}, nil)
}

// CancelGroupMsgSend stops an unconfirmed task (an expired one must not be
// confirmed late).
func (c *Client) CancelGroupMsgSend(ctx context.Context, a qunyun.Account, msgID string) error {
	return c.call(ctx, a, pathCancelGroupMsg, map[string]string{"msgid": msgID}, nil)
}

// GroupChat is a WeCom customer group as groupchat/get describes it.
type GroupChat struct {
	ChatID     string            `json:"chat_id"`
	Name       string            `json:"name"`
	Owner      string            `json:"owner"` // the owner's userid
	CreateTime int64             `json:"create_time"`
	Members    []GroupChatMember `json:"member_list"`
}

// GroupChatMember is one member of a customer group.
type GroupChatMember struct {
	UserID        string `json:"userid"`
	Type          int    `json:"type"` // 1 staff, 2 external contact
	JoinTime      int64  `json:"join_time"`
	Name          string `json:"name"` // with need_name=1
	GroupNickname string `json:"group_nickname"`
}

// GroupChat reads a customer group: its name, owner and members with their
// names (need_name=1). WeCom fills some of it asynchronously: a member who
// joined seconds ago may be missing.
func (c *Client) GroupChat(ctx context.Context, a qunyun.Account, chatID string) (GroupChat, error) {
	var out struct {
		GroupChat GroupChat `json:"group_chat"`
	}
	if err := c.call(ctx, a, pathGroupChatGet, map[string]any{"chat_id": chatID, "need_name": 1}, &out); err != nil {
		return GroupChat{}, err
	}
	if out.GroupChat.ChatID == "" {
		return GroupChat{}, qunyun.Errorf(qunyun.EUNAVAILABLE, "groupchat/get %s: no group_chat in the answer", chatID)
	}
	return out.GroupChat, nil
}

const (
	TaskUnsent          TaskStatus = 0 // 未发送
	TaskSent            TaskStatus = 1 // 已发送
	TaskNotFriend       TaskStatus = 2 // 非好友失败
	TaskAlreadyReceived TaskStatus = 3 // 已收到其他群发失败
)
