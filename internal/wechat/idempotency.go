package wechat

import (
	"fmt"
	"strconv"
)

// IdempotencyKey returns the key under which the caller records an inbound
// once (DESIGN.md §5). Keys are unique within one account, not across
// accounts: the caller scopes them.
//
//	OA message                 MsgId (none: no key; ParseOA refuses such a message)
//	OA event                   FromUserName:CreateTime
//	WeCom message              MsgId
//	WeCom event                hex sha256 of the decrypted plaintext ("sys" events collide on the above)
//	smart bot                  msgid
//	relay                      the bridge's id
//
// A WeCom message without a MsgId falls back to the hash of its plaintext,
// which a retry repeats exactly; an OA message has no such fallback (two
// messages of one user in one second would share FromUserName:CreateTime).
// A message type this package does not know is keyed like an event.
// It fails with ErrNoKey for a value it does not know or that has no key.
func IdempotencyKey(in Inbound) (string, error) {
	var key string
	switch m := in.(type) {
	case *OAText:
		key = m.MsgID
	case *OAImage:
		key = m.MsgID
	case *OAVoice:
		key = m.MsgID
	case *OAVideo:
		key = m.MsgID
	case *OALocation:
		key = m.MsgID
	case *OALink:
		key = m.MsgID
	case *OAOther:
		if m.MsgType == "event" {
			key = oaKey("", m.OAHeader)
		} else {
			key = oaKey(m.MsgID, m.OAHeader)
		}
	case *OASubscribe:
		key = oaKey("", m.OAHeader)
	case *OAUnsubscribe:
		key = oaKey("", m.OAHeader)
	case *OAScan:
		key = oaKey("", m.OAHeader)
	case *OAClick:
		key = oaKey("", m.OAHeader)
	case *OAView:
		key = oaKey("", m.OAHeader)
	case *OATemplateSendJobFinish:
		key = oaKey("", m.OAHeader)
	case *OAMassSendJobFinish:
		key = oaKey("", m.OAHeader)
	case *WeComText:
		key = firstNonEmpty(m.MsgID, m.PlainSHA256)
	case *WeComImage:
		key = firstNonEmpty(m.MsgID, m.PlainSHA256)
	case *WeComMessage:
		key = firstNonEmpty(m.MsgID, m.PlainSHA256)
	case *WeComExternalChat:
		key = m.PlainSHA256
	case *WeComExternalContact:
		key = m.PlainSHA256
	case *WeComEvent:
		key = m.PlainSHA256
	case *BotMessage:
		key = m.MsgID
	case *RelayEvent:
		key = m.ID
	default:
		return "", fmt.Errorf("idempotency key for %T: %w", in, ErrNoKey)
	}
	if key == "" {
		return "", fmt.Errorf("idempotency key for %T: %w", in, ErrNoKey)
	}
	return key, nil
}

// oaKey is MsgId, or FromUserName:CreateTime for events (and for a message
// of a type this package does not know that lacks one).
func oaKey(msgID string, h OAHeader) string {
	if msgID != "" {
		return msgID
	}
	if h.FromUserName == "" {
		return ""
	}
	return h.FromUserName + ":" + strconv.FormatInt(h.CreateTime, 10)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
