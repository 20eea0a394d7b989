package wechatapi

import (
	"context"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// The channels: one type per way of reaching a target, all with the same
// Send, so push chooses a channel and treats them alike. A non-empty task id
// means the message is not out yet: the WeCom sender must confirm it.

// Target is who a message goes to, in the channel's terms.
type Target struct {
	ID     string // chat id, openid, external user id or staff user id(s)
	Sender string // customer-group tasks: the owner who confirms
	// DeliveryID is passed to channels that can deduplicate (the relay).
	DeliveryID string
	// Webhook is the group robot's webhook URL of the target group (it
	// holds the robot's key): each robot posts into the one group it is in.
	Webhook string
	// Mentions and ReplyTo make a bridge post a reply: the members to @
	// and the bridge's id of the message it answers.
	Mentions []string
	ReplyTo  string
}

// CustomerGroupTasks sends to WeCom customer groups through add_msg_template.
type CustomerGroupTasks struct{ Client *Client }

// Send creates a task for the group owner.
func (ch CustomerGroupTasks) Send(ctx context.Context, a qunyun.Account, to Target, m Message) (string, error) {
	if to.Sender == "" {
		return "", qunyun.Errorf(qunyun.EINVALID, "customer group %s has no owner to confirm the task", to.ID)
	}
	return ch.Client.AddMsgTemplate(ctx, a, TaskRequest{Groups: []string{to.ID}, Sender: to.Sender, Message: m})
}

// CustomerTasks sends 1:1 to a WeCom external contact through a task.
type CustomerTasks struct{ Client *Client }

// Send creates a single-chat task for the member's staff contact.
func (ch CustomerTasks) Send(ctx context.Context, a qunyun.Account, to Target, m Message) (string, error) {
	return ch.Client.AddMsgTemplate(ctx, a, TaskRequest{Customers: []string{to.ID}, Sender: to.Sender, Message: m})
}

// AppChat posts into internal WeCom groups.
type AppChat struct{ Client *Client }

// Send posts at once.
func (ch AppChat) Send(ctx context.Context, a qunyun.Account, to Target, m Message) (string, error) {
	return "", ch.Client.AppChatSend(ctx, a, to.ID, m)
}

// StaffMessages sends WeCom app messages to staff (hosts, owners, moderators).
type StaffMessages struct{ Client *Client }

// Send sends at once.
func (ch StaffMessages) Send(ctx context.Context, a qunyun.Account, to Target, m Message) (string, error) {
	return "", ch.Client.MessageSend(ctx, a, to.ID, m)
}

// Robot posts through the target group's own group-robot webhook.
type Robot struct{ Client *Client }

// Send posts at once.
func (ch Robot) Send(ctx context.Context, _ qunyun.Account, to Target, m Message) (string, error) {
	if to.Webhook == "" {
		return "", qunyun.Errorf(qunyun.EINVALID, "group %s has no robot webhook", to.ID)
	}
	return "", ch.Client.WebhookSend(ctx, to.Webhook, m)
}

// CustomerService sends OA customer-service messages to a follower.
type CustomerService struct{ Client *Client }

// Send sends at once (45015/45047 come back as APIError; see SkipReason).
func (ch CustomerService) Send(ctx context.Context, a qunyun.Account, to Target, m Message) (string, error) {
	return "", ch.Client.CustomSend(ctx, a, to.ID, m)
}

// Relay posts through the account's bridge.
type Relay struct{ Client *Client }

// Send posts the message with the delivery id, so the bridge can refuse a
// duplicate: a post that got no answer comes back Resendable.
func (ch Relay) Send(ctx context.Context, a qunyun.Account, to Target, m Message) (string, error) {
	var at time.Time
	if ch.Client.Now != nil {
		at = ch.Client.Now()
	}
	return "", ch.Client.RelaySend(ctx, a, RelayMessageOf(to.DeliveryID, to.ID, m, to.Mentions, to.ReplyTo, at))
}

func orKind(k qunyun.ContentKind) qunyun.ContentKind {
	if k == "" {
		return qunyun.ContentText
	}
	return k
}
