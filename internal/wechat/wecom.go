package wechat

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// WeComHeader holds the fields every WeCom app callback carries.
type WeComHeader struct {
	ToUserName   string // the corpid
	FromUserName string // the member's userid, or "sys" for system events
	CreateTime   int64  // Unix seconds
	MsgType      string
	AgentID      string // empty for customer-contact events
	// PlainSHA256 is the hex SHA-256 of the decrypted plaintext. System events
	// (FromUserName "sys") can share FromUserName+CreateTime, so it is their
	// idempotency key.
	PlainSHA256 string
}

// Channel implements Inbound.
func (WeComHeader) Channel() Channel { return ChannelWeCom }

// WeCom app messages.
type (
	// WeComText is a text message a member sent to the app.
	WeComText struct {
		WeComHeader
		MsgID   string
		Content string
	}
	// WeComImage is an image message.
	WeComImage struct {
		WeComHeader
		MsgID   string
		PicURL  string
		MediaID string
	}
	// WeComMessage is any other message kind (voice, video, location, link…);
	// MsgType tells which. A link carries its Title, Description and URL.
	WeComMessage struct {
		WeComHeader
		MsgID       string
		MediaID     string
		Title       string
		Description string
		URL         string
	}
)

// ChangeType values of change_external_chat.
const (
	ChatCreate  = "create"
	ChatUpdate  = "update"
	ChatDismiss = "dismiss"
)

// UpdateDetail values of a change_external_chat update.
const (
	DetailAddMember    = "add_member"
	DetailDelMember    = "del_member"
	DetailChangeOwner  = "change_owner"
	DetailChangeName   = "change_name"
	DetailChangeNotice = "change_notice"
)

// JoinScene and QuitScene values of change_external_chat. They differ from
// the join_scene codes of groupchat/get (1 direct, 2 link, 3 QR).
const (
	JoinByInvite = 0 // invited by a member, directly or by link
	JoinByQRCode = 3
	QuitSelf     = 0
	QuitRemoved  = 1 // removed by the owner or an admin
)

// ChangeType values of change_external_contact.
const (
	ContactAdd           = "add_external_contact"
	ContactEdit          = "edit_external_contact"
	ContactAddHalf       = "add_half_external_contact"
	ContactDel           = "del_external_contact"
	ContactDelFollowUser = "del_follow_user"
	ContactTransferFail  = "transfer_fail"
)

// WeCom events.
type (
	// WeComExternalChat is a change_external_chat event: a customer group was
	// created, updated or dismissed. Callbacks may arrive out of order or not
	// at all; re-read groupchat/get for the truth.
	WeComExternalChat struct {
		WeComHeader
		ChatID       string
		ChangeType   string // ChatCreate, ChatUpdate, ChatDismiss
		UpdateDetail string // Detail* when ChangeType is ChatUpdate
		JoinScene    int    // add_member only
		QuitScene    int    // del_member only
		MemChangeCnt int    // add_member and del_member
		// MemChangeList holds the ids of the members who joined or left.
		MemChangeList []string
		LastMemVer    string
		CurMemVer     string
	}
	// WeComExternalContact is a change_external_contact event.
	WeComExternalContact struct {
		WeComHeader
		ChangeType     string // Contact*
		UserID         string // the member (staff) side
		ExternalUserID string // the customer side
		State          string // the contact way's state parameter
		WelcomeCode    string
		Source         string // del_external_contact
		FailReason     string // transfer_fail
	}
	// WeComEvent is any other WeCom event (enter_agent, subscribe, …).
	WeComEvent struct {
		WeComHeader
		Event      string
		EventKey   string
		ChangeType string
	}
)

// ParseWeCom decodes the decrypted XML of a WeCom self-built app callback into
// one of the WeCom* types.
func ParseWeCom(plainXML []byte) (Inbound, error) {
	var wbuf wire
	w := &wbuf
	if err := decodeWire(plainXML, w); err != nil {
		return nil, fmt.Errorf("parse wecom: %w", err)
	}
	sum := sha256.Sum256(plainXML)
	h := WeComHeader{
		ToUserName: w.ToUserName, FromUserName: w.FromUserName, CreateTime: w.CreateTime,
		MsgType: w.MsgType, AgentID: w.AgentID, PlainSHA256: hex.EncodeToString(sum[:]),
	}
	switch w.MsgType {
	case "text":
		return &WeComText{WeComHeader: h, MsgID: w.msgID(), Content: w.Content}, nil
	case "image":
		return &WeComImage{WeComHeader: h, MsgID: w.msgID(), PicURL: w.PicURL, MediaID: w.MediaID}, nil
	case "event":
		return parseWeComEvent(h, w), nil
	}
	return &WeComMessage{WeComHeader: h, MsgID: w.msgID(), MediaID: w.MediaID, Title: w.Title, Description: w.Description, URL: w.URL}, nil
}

func parseWeComEvent(h WeComHeader, w *wire) Inbound {
	switch strings.ToLower(w.Event) {
	case "change_external_chat":
		return &WeComExternalChat{
			WeComHeader: h, ChatID: w.ChatID, ChangeType: w.ChangeType, UpdateDetail: w.UpdateDetail,
			JoinScene: w.JoinScene, QuitScene: w.QuitScene, MemChangeCnt: w.MemChangeCnt,
			MemChangeList: w.MemChangeList, LastMemVer: w.LastMemVer, CurMemVer: w.CurMemVer,
		}
	case "change_external_contact":
		return &WeComExternalContact{
			WeComHeader: h, ChangeType: w.ChangeType, UserID: w.UserID, ExternalUserID: w.ExternalUserID,
			State: w.State, WelcomeCode: w.WelcomeCode, Source: w.Source, FailReason: w.FailReason,
		}
	}
	return &WeComEvent{WeComHeader: h, Event: w.Event, EventKey: w.EventKey, ChangeType: w.ChangeType}
}
