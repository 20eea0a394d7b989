package wechat

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// wire is the union of every field the OA and WeCom plaintext XML carries.
// Decoding once into it and then picking a typed value keeps the parser to a
// single pass and a single switch.
type wire struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	AgentID      string   `xml:"AgentID"`

	// Messages carry <MsgId>; the two JOBFINISH events carry <MsgID>.
	// encoding/xml is case-sensitive, so both need a field.
	MsgIDMsg  string `xml:"MsgId"`
	MsgIDJob  string `xml:"MsgID"`
	MsgDataID string `xml:"MsgDataId"`
	Idx       string `xml:"Idx"`

	Content      string  `xml:"Content"`
	PicURL       string  `xml:"PicUrl"`
	MediaID      string  `xml:"MediaId"`
	Format       string  `xml:"Format"`
	Recognition  string  `xml:"Recognition"`
	ThumbMediaID string  `xml:"ThumbMediaId"`
	LocationX    float64 `xml:"Location_X"`
	LocationY    float64 `xml:"Location_Y"`
	Scale        int     `xml:"Scale"`
	Label        string  `xml:"Label"`
	Title        string  `xml:"Title"`
	Description  string  `xml:"Description"`
	URL          string  `xml:"Url"`

	Event       string `xml:"Event"`
	EventKey    string `xml:"EventKey"`
	Ticket      string `xml:"Ticket"`
	MenuID      string `xml:"MenuId"`
	Status      string `xml:"Status"`
	TotalCount  int    `xml:"TotalCount"`
	FilterCount int    `xml:"FilterCount"`
	SentCount   int    `xml:"SentCount"`
	ErrorCount  int    `xml:"ErrorCount"`

	// WeCom customer contact (客户联系).
	ChangeType     string   `xml:"ChangeType"`
	ChatID         string   `xml:"ChatId"`
	UpdateDetail   string   `xml:"UpdateDetail"`
	JoinScene      int      `xml:"JoinScene"`
	QuitScene      int      `xml:"QuitScene"`
	MemChangeCnt   int      `xml:"MemChangeCnt"`
	MemChangeList  []string `xml:"MemChangeList>Item"`
	LastMemVer     string   `xml:"LastMemVer"`
	CurMemVer      string   `xml:"CurMemVer"`
	UserID         string   `xml:"UserID"`
	ExternalUserID string   `xml:"ExternalUserID"`
	State          string   `xml:"State"`
	WelcomeCode    string   `xml:"WelcomeCode"`
	Source         string   `xml:"Source"`
	FailReason     string   `xml:"FailReason"`
}

// decodeWire fills w, which the caller keeps on its stack: the fast path
// allocates only the strings.
func decodeWire(plainXML []byte, w *wire) error {
	if len(plainXML) > MaxBodySize {
		return ErrTooLarge
	}
	if !w.decodeFlat(plainXML) {
		// Not the flat shape: encoding/xml reads it or says what is wrong.
		tmp := new(wire)
		if err := xml.Unmarshal(plainXML, tmp); err != nil {
			return fmt.Errorf("%w: %v", ErrXML, err)
		}
		*w = *tmp
	}
	if w.MsgType == "" {
		return fmt.Errorf("MsgType: %w", ErrMissingField)
	}
	if w.FromUserName == "" {
		return fmt.Errorf("FromUserName: %w", ErrMissingField)
	}
	return nil
}

// decodeFlat fills w as xml.Unmarshal would, through flatXML. It reports
// false when flatXML declines the document or a number does not parse; w
// is then partly filled.
func (w *wire) decodeFlat(data []byte) bool {
	x := flatXML{data: data}
	for x.next() {
		if x.parent != nil {
			switch string(x.parent) {
			case "MemChangeList":
				if string(x.name) == "Item" {
					w.MemChangeList = append(w.MemChangeList, x.str())
				}
			default:
				// encoding/xml would keep only the text between a known
				// field's elements; such a field is not WeChat's shape.
				if _, ok := w.field(x.parent); ok {
					return false
				}
			}
			continue
		}
		if dst, ok := w.field(x.name); ok && !dst.set(&x) {
			return false
		}
	}
	if !x.ok() {
		return false
	}
	w.XMLName = xml.Name{Local: "xml"}
	return true
}

// field returns where the text of the root's child name goes; ok is false
// for a child that wire does not keep.
func (w *wire) field(name []byte) (flatField, bool) {
	if f, ok := w.messageField(name); ok {
		return f, true
	}
	if f, ok := w.eventField(name); ok {
		return f, true
	}
	return w.wecomField(name)
}

// messageField: the header and the fields of OA and WeCom app messages.
func (w *wire) messageField(name []byte) (f flatField, ok bool) {
	switch string(name) {
	case "ToUserName":
		f.s = &w.ToUserName
	case "FromUserName":
		f.s = &w.FromUserName
	case "CreateTime":
		f.i64 = &w.CreateTime
	case "MsgType":
		f.s = &w.MsgType
	case "AgentID":
		f.s = &w.AgentID
	case "MsgId":
		f.s = &w.MsgIDMsg
	case "MsgID":
		f.s = &w.MsgIDJob
	case "MsgDataId":
		f.s = &w.MsgDataID
	case "Idx":
		f.s = &w.Idx
	case "Content":
		f.s = &w.Content
	case "PicUrl":
		f.s = &w.PicURL
	case "MediaId":
		f.s = &w.MediaID
	case "Format":
		f.s = &w.Format
	case "Recognition":
		f.s = &w.Recognition
	case "ThumbMediaId":
		f.s = &w.ThumbMediaID
	case "Location_X":
		f.f64 = &w.LocationX
	case "Location_Y":
		f.f64 = &w.LocationY
	case "Scale":
		f.i = &w.Scale
	case "Label":
		f.s = &w.Label
	case "Title":
		f.s = &w.Title
	case "Description":
		f.s = &w.Description
	case "Url":
		f.s = &w.URL
	default:
		return f, false
	}
	return f, true
}

// eventField: the fields of OA events (menus, subscriptions, mass-send results).
func (w *wire) eventField(name []byte) (f flatField, ok bool) {
	switch string(name) {
	case "Event":
		f.s = &w.Event
	case "EventKey":
		f.s = &w.EventKey
	case "Ticket":
		f.s = &w.Ticket
	case "MenuId":
		f.s = &w.MenuID
	case "Status":
		f.s = &w.Status
	case "TotalCount":
		f.i = &w.TotalCount
	case "FilterCount":
		f.i = &w.FilterCount
	case "SentCount":
		f.i = &w.SentCount
	case "ErrorCount":
		f.i = &w.ErrorCount
	default:
		return f, false
	}
	return f, true
}

// wecomField: the fields of WeCom customer-group and contact changes.
func (w *wire) wecomField(name []byte) (f flatField, ok bool) {
	switch string(name) {
	case "ChangeType":
		f.s = &w.ChangeType
	case "ChatId":
		f.s = &w.ChatID
	case "UpdateDetail":
		f.s = &w.UpdateDetail
	case "JoinScene":
		f.i = &w.JoinScene
	case "QuitScene":
		f.i = &w.QuitScene
	case "MemChangeCnt":
		f.i = &w.MemChangeCnt
	case "MemChangeList":
		// Its text is ignored, as encoding/xml ignores it; decodeFlat keeps its Items.
	case "LastMemVer":
		f.s = &w.LastMemVer
	case "CurMemVer":
		f.s = &w.CurMemVer
	case "UserID":
		f.s = &w.UserID
	case "ExternalUserID":
		f.s = &w.ExternalUserID
	case "State":
		f.s = &w.State
	case "WelcomeCode":
		f.s = &w.WelcomeCode
	case "Source":
		f.s = &w.Source
	case "FailReason":
		f.s = &w.FailReason
	default:
		return f, false
	}
	return f, true
}

// OAHeader holds the fields every OA message and event carries.
type OAHeader struct {
	ToUserName   string // the account's original id (gh_…)
	FromUserName string // the user's openid
	CreateTime   int64  // Unix seconds
	MsgType      string
}

// Channel implements Inbound.
func (OAHeader) Channel() Channel { return ChannelOA }

// OA messages. MsgID is read from the XML element <MsgId>.
type (
	// OAText is a text message. MsgDataID and Idx are set when it came from an article.
	OAText struct {
		OAHeader
		MsgID     string
		MsgDataID string
		Idx       string
		Content   string
	}
	// OAImage is an image message.
	OAImage struct {
		OAHeader
		MsgID   string
		PicURL  string
		MediaID string
	}
	// OAVoice is a voice message; Recognition is set when ASR is enabled.
	OAVoice struct {
		OAHeader
		MsgID       string
		MediaID     string
		Format      string
		Recognition string
	}
	// OAVideo is a video or, when MsgType is "shortvideo", a short video.
	OAVideo struct {
		OAHeader
		MsgID        string
		MediaID      string
		ThumbMediaID string
	}
	// OALocation is a location message (Location_X is the latitude).
	OALocation struct {
		OAHeader
		MsgID     string
		Latitude  float64
		Longitude float64
		Scale     int
		Label     string
	}
	// OALink is a link message.
	OALink struct {
		OAHeader
		MsgID       string
		Title       string
		Description string
		URL         string
	}
)

// OA events (MsgType "event").
type (
	// OASubscribe: the user followed the account. EventKey is "qrscene_<scene>"
	// when the follow came from a parametric QR code; see Scene.
	OASubscribe struct {
		OAHeader
		EventKey string
		Ticket   string
	}
	// OAUnsubscribe: the user unfollowed; WeChat requires deleting their data.
	OAUnsubscribe struct {
		OAHeader
	}
	// OAScan: a follower scanned a parametric QR code; EventKey is the scene.
	OAScan struct {
		OAHeader
		EventKey string
		Ticket   string
	}
	// OAClick: a click menu item; EventKey is the item's key.
	OAClick struct {
		OAHeader
		EventKey string
	}
	// OAView: a view menu item; EventKey is the URL.
	OAView struct {
		OAHeader
		EventKey string
		MenuID   string
	}
	// OATemplateSendJobFinish reports a template message; MsgID is read
	// from <MsgID> (capital D), unlike messages.
	OATemplateSendJobFinish struct {
		OAHeader
		MsgID  string
		Status string // "success", "failed:user block", "failed: system failed"
	}
	// OAMassSendJobFinish reports a mass send; MsgID is read from <MsgID>.
	OAMassSendJobFinish struct {
		OAHeader
		MsgID       string
		Status      string
		TotalCount  int
		FilterCount int
		SentCount   int
		ErrorCount  int
	}
	// OAOther is any message or event this package has no type for. The
	// caller should acknowledge it and move on.
	OAOther struct {
		OAHeader
		Event string
		MsgID string
	}
)

// Scene returns the QR scene of a subscribe that came from a parametric QR
// code (EventKey without its "qrscene_" prefix), or "".
func (s *OASubscribe) Scene() string {
	scene, ok := strings.CutPrefix(s.EventKey, "qrscene_")
	if !ok {
		return ""
	}
	return scene
}

// ParseOA decodes the plaintext XML of an OA message or event (decrypted, or
// the body itself in plaintext mode) into one of the OA* types.
func ParseOA(plainXML []byte) (Inbound, error) {
	var wbuf wire
	w := &wbuf
	if err := decodeWire(plainXML, w); err != nil {
		return nil, fmt.Errorf("parse oa: %w", err)
	}
	h := OAHeader{ToUserName: w.ToUserName, FromUserName: w.FromUserName, CreateTime: w.CreateTime, MsgType: w.MsgType}
	switch w.MsgType {
	case "text", "image", "voice", "video", "shortvideo", "location", "link":
		// WeChat gives every message a MsgId, its idempotency key. Keying
		// one without it by FromUserName+CreateTime, the events' key, would
		// be a guess that merges two messages of one second: refuse it.
		if w.msgID() == "" {
			return nil, fmt.Errorf("parse oa: %s without MsgId: %w", w.MsgType, ErrMissingField)
		}
	}
	switch w.MsgType {
	case "text":
		return &OAText{OAHeader: h, MsgID: w.msgID(), MsgDataID: w.MsgDataID, Idx: w.Idx, Content: w.Content}, nil
	case "image":
		return &OAImage{OAHeader: h, MsgID: w.msgID(), PicURL: w.PicURL, MediaID: w.MediaID}, nil
	case "voice":
		return &OAVoice{OAHeader: h, MsgID: w.msgID(), MediaID: w.MediaID, Format: w.Format, Recognition: w.Recognition}, nil
	case "video", "shortvideo":
		return &OAVideo{OAHeader: h, MsgID: w.msgID(), MediaID: w.MediaID, ThumbMediaID: w.ThumbMediaID}, nil
	case "location":
		return &OALocation{OAHeader: h, MsgID: w.msgID(), Latitude: w.LocationX, Longitude: w.LocationY, Scale: w.Scale, Label: w.Label}, nil
	case "link":
		return &OALink{OAHeader: h, MsgID: w.msgID(), Title: w.Title, Description: w.Description, URL: w.URL}, nil
	case "event":
		return parseOAEvent(h, w), nil
	}
	return &OAOther{OAHeader: h, MsgID: w.msgID()}, nil
}

func parseOAEvent(h OAHeader, w *wire) Inbound {
	// Event names mix cases ("subscribe", "SCAN"); compare without case.
	switch strings.ToLower(w.Event) {
	case "subscribe":
		return &OASubscribe{OAHeader: h, EventKey: w.EventKey, Ticket: w.Ticket}
	case "unsubscribe":
		return &OAUnsubscribe{OAHeader: h}
	case "scan":
		return &OAScan{OAHeader: h, EventKey: w.EventKey, Ticket: w.Ticket}
	case "click":
		return &OAClick{OAHeader: h, EventKey: w.EventKey}
	case "view":
		return &OAView{OAHeader: h, EventKey: w.EventKey, MenuID: w.MenuID}
	case "templatesendjobfinish":
		return &OATemplateSendJobFinish{OAHeader: h, MsgID: w.msgID(), Status: w.Status}
	case "masssendjobfinish":
		return &OAMassSendJobFinish{OAHeader: h, MsgID: w.msgID(), Status: w.Status,
			TotalCount: w.TotalCount, FilterCount: w.FilterCount, SentCount: w.SentCount, ErrorCount: w.ErrorCount}
	}
	return &OAOther{OAHeader: h, Event: w.Event, MsgID: w.msgID()}
}

// msgID reads <MsgId>, or <MsgID> when only that is present: messages use
// the first spelling, the JOBFINISH events the second, and a typed struct
// field tagged for one spelling silently misses the other.
func (w *wire) msgID() string {
	if w.MsgIDMsg != "" {
		return w.MsgIDMsg
	}
	return w.MsgIDJob
}
