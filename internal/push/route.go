package push

import (
	"context"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// route picks the account, channel and address for a delivery, or a skip
// reason when none can reach the target.
func (s *Service) route(ctx context.Context, cat *catalog, d qunyun.Delivery, g *qunyun.Group) (*qunyun.Account, Channel, wechatapi.Target, string, error) {
	to := wechatapi.Target{ID: d.TargetID}
	acctID := d.AccountID
	if acctID == "" && g != nil {
		acctID = g.AccountID
	}
	if d.TargetKind == qunyun.TargetStaff {
		a, err := cat.staffAccount(ctx, acctID)
		if err != nil || a == nil || s.Channels.Staff == nil {
			return nil, nil, to, qunyun.ReasonNoChannel, err
		}
		return a, s.Channels.Staff, to, "", nil
	}
	if acctID == "" {
		return nil, nil, to, qunyun.ReasonNoChannel, nil
	}
	a, err := cat.account(ctx, acctID)
	if err != nil || a == nil {
		return nil, nil, to, qunyun.ReasonNoChannel, err
	}
	var ch Channel
	switch d.TargetKind {
	case qunyun.TargetGroup:
		switch a.Kind {
		case qunyun.ChannelWeCom:
			if g != nil && hasTag(g.Tags, qunyun.TagInternal) {
				ch = s.Channels.InternalGroups
			} else {
				ch = s.Channels.CustomerGroups
				if g != nil {
					to.Sender = g.OwnerID
				}
			}
		case qunyun.ChannelWeComBot:
			// A robot posts into the one group it was added to: the
			// group names its own, and a group without one has no way in.
			if to.Webhook = robotWebhook(*a, g); to.Webhook != "" {
				ch = s.Channels.Robot
			} else if a.Webhook != "" {
				s.log().Warn("a wecom-bot account's single webhook is no longer used: name the group's robot in community.yaml (webhook) and put its URL under the account's sending webhooks",
					"account", a.ID, "group", d.GroupID)
			}
		case qunyun.ChannelRelay:
			ch = s.Channels.Relay
			to.Mentions, to.ReplyTo = d.Mentions, d.ReplyTo
		}
	case qunyun.TargetMember:
		switch a.Kind {
		case qunyun.ChannelRelay:
			// A bridge posts in groups only: a member's welcome is said in
			// the group they joined, to them by name.
			if welcome(d) && d.GroupID != "" {
				ch = s.Channels.Relay
				to.ID, to.Mentions = d.GroupID, []string{d.TargetID}
			}
		case qunyun.ChannelOA:
			ch = s.Channels.CustomerService
		case qunyun.ChannelWeCom:
			ch = s.Channels.CustomerTasks
			if g != nil {
				to.Sender = g.OwnerID
			}
		}
	}
	if ch == nil {
		return nil, nil, to, qunyun.ReasonNoChannel, nil
	}
	return a, ch, to, "", nil
}

// robotWebhook is the URL of group g's own robot, "" when it names none or
// the account's sending half does not hold the one it names.
func robotWebhook(a qunyun.Account, g *qunyun.Group) string {
	if g == nil || g.Webhook == "" {
		return ""
	}
	return a.Webhooks[g.Webhook]
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}
