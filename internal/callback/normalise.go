package callback

import (
	"fmt"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// normalise turns a decoded callback into the domain: a message, group
// events or an account event, each carrying its idempotency key (DESIGN.md
// §5). botAt is the anchored time of a smart-bot message (its JSON has none).
func normalise(acct qunyun.Account, in wechat.Inbound, botAt time.Time) (Inbound, error) {
	key, err := wechat.IdempotencyKey(in)
	if err != nil {
		return Inbound{}, err
	}
	n := normaliser{acct: acct, key: key, botAt: botAt}
	out, ok := n.oa(in)
	if !ok {
		if out, ok, err = n.wecom(in); err != nil {
			return Inbound{}, err
		}
	}
	if !ok {
		switch m := in.(type) {
		case *wechat.BotMessage:
			out = n.bot(m)
		case *wechat.RelayEvent:
			out = n.relay(m)
		default:
			return Inbound{}, fmt.Errorf("callback %T: %w", in, wechat.ErrInvalid)
		}
	}
	out.Account = acct
	if err := checkSizes(out); err != nil {
		return Inbound{}, err
	}
	return out, nil
}

// normaliser builds one callback's domain records, all under its key.
type normaliser struct {
	acct  qunyun.Account
	key   string
	botAt time.Time
}

func (n normaliser) msg(member string, at time.Time, kind qunyun.MessageKind, text string) *qunyun.Message {
	return &qunyun.Message{ID: n.key, AccountID: n.acct.ID, Channel: n.acct.Kind, MemberID: member,
		Kind: kind, Text: text, At: at.UTC()}
}

func (n normaliser) acctEvent(typ, member string, at time.Time, k string) *qunyun.AccountEvent {
	return &qunyun.AccountEvent{ID: n.key, Type: typ, AccountID: n.acct.ID, Channel: n.acct.Kind,
		MemberID: member, Key: k, At: at.UTC()}
}

// oa reads the Official Account's 1:1 messages and events; ok is false for
// any other callback.
func (n normaliser) oa(in wechat.Inbound) (out Inbound, ok bool) {
	switch m := in.(type) {
	case *wechat.OAText:
		out.Message = n.msg(m.FromUserName, unix(m.CreateTime), qunyun.KindText, m.Content)
	case *wechat.OAImage:
		out.Message = n.msg(m.FromUserName, unix(m.CreateTime), qunyun.KindImage, "")
		out.Message.URL = m.PicURL
	case *wechat.OAVoice:
		out.Message = n.msg(m.FromUserName, unix(m.CreateTime), qunyun.KindVoice, m.Recognition)
	case *wechat.OAVideo:
		out.Message = n.msg(m.FromUserName, unix(m.CreateTime), qunyun.KindVideo, "")
	case *wechat.OALocation:
		out.Message = n.msg(m.FromUserName, unix(m.CreateTime), qunyun.KindLocation, m.Label)
	case *wechat.OALink:
		out.Message = n.msg(m.FromUserName, unix(m.CreateTime), qunyun.KindLink, m.Title)
		out.Message.URL = m.URL
	case *wechat.OASubscribe:
		out.AccountEvent = n.acctEvent(qunyun.EventSubscribed, m.FromUserName, unix(m.CreateTime), m.Scene())
	case *wechat.OAUnsubscribe:
		out.AccountEvent = n.acctEvent(qunyun.EventUnsubscribed, m.FromUserName, unix(m.CreateTime), "")
	case *wechat.OAScan:
		out.AccountEvent = n.acctEvent(qunyun.EventQRScanned, m.FromUserName, unix(m.CreateTime), m.EventKey)
	case *wechat.OAClick:
		out.AccountEvent = n.acctEvent(qunyun.EventMenuClicked, m.FromUserName, unix(m.CreateTime), m.EventKey)
	case *wechat.OAView:
		out.AccountEvent = n.acctEvent(qunyun.EventMenuViewed, m.FromUserName, unix(m.CreateTime), m.EventKey)
	case *wechat.OATemplateSendJobFinish:
		out.AccountEvent = n.acctEvent(qunyun.EventSendFinished, m.FromUserName, unix(m.CreateTime), m.Status)
	case *wechat.OAMassSendJobFinish:
		out.AccountEvent = n.acctEvent(qunyun.EventSendFinished, m.FromUserName, unix(m.CreateTime), m.Status)
	case *wechat.OAOther:
		if m.MsgType == "event" {
			out.AccountEvent = n.acctEvent(qunyun.EventOther, m.FromUserName, unix(m.CreateTime), m.Event)
		} else {
			out.Message = n.msg(m.FromUserName, unix(m.CreateTime), qunyun.KindOther, "")
		}
	default:
		return out, false
	}
	return out, true
}

// wecom reads the WeCom self-built app's staff 1:1 messages and
// customer-group events; ok is false for any other callback.
func (n normaliser) wecom(in wechat.Inbound) (out Inbound, ok bool, err error) {
	switch m := in.(type) {
	case *wechat.WeComText:
		out.Message = n.msg(m.FromUserName, unix(m.CreateTime), qunyun.KindText, m.Content)
	case *wechat.WeComImage:
		out.Message = n.msg(m.FromUserName, unix(m.CreateTime), qunyun.KindImage, "")
		out.Message.URL = m.PicURL
	case *wechat.WeComMessage:
		out.Message = n.msg(m.FromUserName, unix(m.CreateTime), wecomKind(m.MsgType), m.Title)
		out.Message.URL = m.URL
	case *wechat.WeComExternalChat:
		out.GroupEvents = externalChatEvents(n.acct, n.key, m)
		if len(out.GroupEvents) == 0 {
			return out, true, fmt.Errorf("change_external_chat without ChatId: %w", wechat.ErrMissingField)
		}
	case *wechat.WeComExternalContact:
		out.AccountEvent = n.acctEvent(qunyun.EventContactChange, m.ExternalUserID, unix(m.CreateTime), m.ChangeType)
	case *wechat.WeComEvent:
		out.AccountEvent = n.acctEvent(qunyun.EventOther, m.FromUserName, unix(m.CreateTime), m.Event)
	default:
		return out, false, nil
	}
	return out, true, nil
}

// bot reads the smart bot's @bot messages in groups and 1:1.
func (n normaliser) bot(m *wechat.BotMessage) (out Inbound) {
	switch {
	case m.MsgType == "event":
		if m.Event != nil && m.Event.EventType == "enter_chat" {
			out.BotWelcome = true
		}
		out.AccountEvent = n.acctEvent(qunyun.EventOther, m.From.UserID, n.botAt, eventType(m))
	case m.MsgType == "stream":
		// A refresh of a stream we finished at once: nothing to record.
	default:
		out.Message = n.msg(m.From.UserID, n.botAt, botKind(m.MsgType), m.Content())
		if m.ChatType == "group" {
			out.Message.GroupID = m.ChatID
		}
	}
	return out
}

// relay reads the relay bridge's full group chat and membership events.
func (n normaliser) relay(m *wechat.RelayEvent) (out Inbound) {
	at := unix(m.Time)
	ev := qunyun.GroupEvent{ID: n.key, AccountID: n.acct.ID, Channel: n.acct.Kind, GroupID: m.GroupID,
		MemberID: m.MemberID, MemberName: m.MemberName, ActorID: m.ActorID, GroupName: m.GroupName, At: at}
	switch m.Type {
	case wechat.RelayMessage:
		out.Message = n.msg(m.MemberID, at, relayKind(m.Kind), m.Text)
		out.Message.GroupID, out.Message.MemberName, out.Message.URL = m.GroupID, m.MemberName, m.URL
		out.Message.Mentions, out.Message.ReplyTo = m.Mentions, m.ReplyTo
	case wechat.RelayMemberJoined:
		ev.Type = qunyun.EventMemberJoined
	case wechat.RelayMemberLeft:
		ev.Type = qunyun.EventMemberLeft
	case wechat.RelayGroupCreated:
		ev.Type = qunyun.EventGroupCreated
	case wechat.RelayGroupDismissed:
		ev.Type = qunyun.EventGroupDismissed
	case wechat.RelayGroupRenamed:
		ev.Type = qunyun.EventGroupRenamed
	}
	if ev.Type != "" {
		out.GroupEvents = []qunyun.GroupEvent{ev}
	}
	return out
}

// What one callback may carry. Its ids become parts of DynamoDB keys (at
// most 1024 bytes for a sort key) and its content goes into one item (at
// most 400 KB); WeChat's own ids are a few dozen bytes. Past these limits a
// callback is bad input, refused with a 400, not a write DynamoDB refuses
// with an error the handler must answer 503 (so WeChat or the bridge would
// retry it for ever).
const (
	maxIDBytes      = 256
	maxContentBytes = 64 << 10
)

func checkSizes(in Inbound) error {
	var ids []string
	content := 0
	if m := in.Message; m != nil {
		ids = append(ids, m.ID, m.GroupID, m.MemberID, m.ReplyTo)
		content += len(m.Text) + len(m.URL) + len(m.MemberName)
		for _, id := range m.Mentions {
			content += len(id)
		}
	}
	for _, e := range in.GroupEvents {
		ids = append(ids, e.ID, e.GroupID, e.MemberID, e.ActorID)
		content += len(e.MemberName) + len(e.GroupName)
	}
	if e := in.AccountEvent; e != nil {
		ids = append(ids, e.ID, e.MemberID)
		content += len(e.Key)
	}
	for _, id := range ids {
		if len(id) > maxIDBytes {
			return fmt.Errorf("an id of %d bytes (at most %d): %w", len(id), maxIDBytes, wechat.ErrInvalid)
		}
	}
	if content > maxContentBytes {
		return fmt.Errorf("%d bytes of content (at most %d): %w", content, maxContentBytes, wechat.ErrInvalid)
	}
	return nil
}

// externalChatEvents turns one change_external_chat into group events: one
// per member for joins and leaves (each keyed <plaintext hash>#<member>),
// one for anything else.
func externalChatEvents(acct qunyun.Account, key string, m *wechat.WeComExternalChat) []qunyun.GroupEvent {
	if m.ChatID == "" {
		return nil
	}
	base := qunyun.GroupEvent{ID: key, AccountID: acct.ID, Channel: acct.Kind, GroupID: m.ChatID, At: unix(m.CreateTime)}
	perMember := func(typ string, scene int) []qunyun.GroupEvent {
		base.Type, base.Scene = typ, scene
		if len(m.MemChangeList) == 0 {
			return []qunyun.GroupEvent{base}
		}
		out := make([]qunyun.GroupEvent, 0, len(m.MemChangeList))
		for _, id := range m.MemChangeList {
			e := base
			e.ID, e.MemberID = key+"#"+id, id
			out = append(out, e)
		}
		return out
	}
	switch m.ChangeType {
	case wechat.ChatCreate:
		base.Type = qunyun.EventGroupCreated
	case wechat.ChatDismiss:
		base.Type = qunyun.EventGroupDismissed
	case wechat.ChatUpdate:
		switch m.UpdateDetail {
		case wechat.DetailAddMember:
			return perMember(qunyun.EventMemberJoined, m.JoinScene)
		case wechat.DetailDelMember:
			return perMember(qunyun.EventMemberLeft, m.QuitScene)
		case wechat.DetailChangeName:
			base.Type = qunyun.EventGroupRenamed
		case wechat.DetailChangeOwner:
			base.Type = EventGroupOwnerChanged
		default:
			base.Type = EventGroupNoticeChanged
		}
	default:
		base.Type = "GroupChanged"
	}
	return []qunyun.GroupEvent{base}
}

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func wecomKind(t string) qunyun.MessageKind {
	switch t {
	case "voice":
		return qunyun.KindVoice
	case "video":
		return qunyun.KindVideo
	case "location":
		return qunyun.KindLocation
	case "link":
		return qunyun.KindLink
	case "file":
		return qunyun.KindFile
	}
	return qunyun.KindOther
}

func botKind(t string) qunyun.MessageKind {
	switch t {
	case "text", "mixed":
		return qunyun.KindText
	case "image":
		return qunyun.KindImage
	case "voice":
		return qunyun.KindVoice
	case "file":
		return qunyun.KindFile
	}
	return qunyun.KindOther
}

func relayKind(k string) qunyun.MessageKind {
	switch strings.ToLower(k) {
	case "text":
		return qunyun.KindText
	case "image", "sticker":
		return qunyun.KindImage
	case "voice":
		return qunyun.KindVoice
	case "video":
		return qunyun.KindVideo
	case "file":
		return qunyun.KindFile
	case "link":
		return qunyun.KindLink
	// Cards a member shares are where ads hide (a shop's mini program, a
	// contact card to add): moderation flags them, so they must not fall
	// into "other". Bridges name them differently; these are the names
	// the chat archive (会话存档) and common bots use.
	case "miniprogram", "weapp":
		return qunyun.KindMiniProgram
	case "card", "namecard":
		return qunyun.KindCard
	}
	return qunyun.KindOther
}

func eventType(m *wechat.BotMessage) string {
	if m.Event == nil {
		return ""
	}
	return m.Event.EventType
}
