package wechat

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Envelope is the outer, unencrypted part of an encrypted callback body.
//
//	OA safe mode:   <xml><ToUserName>gh_…</ToUserName><Encrypt>…</Encrypt></xml>
//	OA compatible:  the plaintext fields and <Encrypt> side by side
//	WeCom app:      <xml><ToUserName>corpid</ToUserName><Encrypt>…</Encrypt><AgentID>…</AgentID></xml>
//	smart bot:      {"encrypt":"…"}
//
// In compatible mode only the decrypted Encrypt is authenticated: decode
// that, never the plaintext fields beside it.
type Envelope struct {
	ToUserName string
	AgentID    string
	Encrypt    string // exactly as received; MsgSignature covers these bytes
}

type xmlEnvelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	AgentID    string   `xml:"AgentID"`
	Encrypt    string   `xml:"Encrypt"`
}

type jsonEnvelope struct {
	ToUserName string          `json:"tousername"`
	AgentID    json.RawMessage `json:"agentid"` // "218" in samples, a number elsewhere
	Encrypt    string          `json:"encrypt"`
}

// ParseEnvelopeXML reads the envelope of an OA or WeCom POST. A body without
// <Encrypt> fails with ErrMissingField: in plaintext mode, parse the body with
// ParseOA directly instead.
func ParseEnvelopeXML(body []byte) (Envelope, error) {
	if len(body) > MaxBodySize {
		return Envelope{}, fmt.Errorf("parse envelope: %w", ErrTooLarge)
	}
	e, ok := parseEnvelopeFlat(body)
	if !ok {
		// Not the flat shape: encoding/xml reads it or says what is wrong.
		e = xmlEnvelope{}
		if err := xml.Unmarshal(body, &e); err != nil {
			return Envelope{}, fmt.Errorf("parse envelope: %w: %v", ErrXML, err)
		}
	}
	if e.Encrypt == "" {
		return Envelope{}, fmt.Errorf("parse envelope: Encrypt: %w", ErrMissingField)
	}
	return Envelope{ToUserName: e.ToUserName, AgentID: e.AgentID, Encrypt: e.Encrypt}, nil
}

// parseEnvelopeFlat reads the envelope through flatXML as xml.Unmarshal
// would; ok is false when flatXML declines it.
func parseEnvelopeFlat(body []byte) (e xmlEnvelope, ok bool) {
	x := flatXML{data: body}
	for x.next() {
		if x.parent != nil {
			// An element inside one of the fields: not WeChat's shape.
			switch string(x.parent) {
			case "ToUserName", "AgentID", "Encrypt":
				return xmlEnvelope{}, false
			}
			continue
		}
		switch string(x.name) {
		case "ToUserName":
			e.ToUserName = x.str()
		case "AgentID":
			e.AgentID = x.str()
		case "Encrypt":
			e.Encrypt = x.str()
		}
	}
	if !x.ok() {
		return xmlEnvelope{}, false
	}
	e.XMLName = xml.Name{Local: "xml"}
	return e, true
}

// ParseEnvelopeJSON reads the envelope of a smart-bot (or WeCom JSON-mode)
// POST: {"encrypt":"…"} with optional tousername and agentid.
func ParseEnvelopeJSON(body []byte) (Envelope, error) {
	if len(body) > MaxBodySize {
		return Envelope{}, fmt.Errorf("parse envelope: %w", ErrTooLarge)
	}
	var e jsonEnvelope
	if err := decodeJSON(body, &e); err != nil {
		return Envelope{}, fmt.Errorf("parse envelope: %w", err)
	}
	if e.Encrypt == "" {
		return Envelope{}, fmt.Errorf("parse envelope: encrypt: %w", ErrMissingField)
	}
	return Envelope{ToUserName: e.ToUserName, AgentID: rawScalar(e.AgentID), Encrypt: e.Encrypt}, nil
}

// decodeJSON unmarshals data into v, refusing invalid UTF-8 as XML does:
// encoding/json would put U+FFFD in its place, and the member's text would
// be stored as something they never wrote.
func decodeJSON(data []byte, v any) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("%w: not valid UTF-8", ErrJSON)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrJSON, err)
	}
	return nil
}

// rawScalar turns a JSON string or number into its text; anything else is "".
func rawScalar(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// EncryptedReply is a signed, encrypted passive reply, built by Crypto.Seal.
type EncryptedReply struct {
	Encrypt      string
	MsgSignature string
	TimeStamp    string
	Nonce        string
}

// XML renders the reply envelope for OA and WeCom:
// <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>.
func (r EncryptedReply) XML() []byte {
	var b bytes.Buffer
	b.WriteString("<xml>")
	writeCDATA(&b, "Encrypt", r.Encrypt)
	writeCDATA(&b, "MsgSignature", r.MsgSignature)
	writeText(&b, "TimeStamp", r.TimeStamp)
	writeCDATA(&b, "Nonce", r.Nonce)
	b.WriteString("</xml>")
	return b.Bytes()
}

// JSON renders the reply envelope for JSON callbacks (the smart bot):
// {"encrypt","msgsignature","timestamp","nonce"}; note "msgsignature" has no
// underscore. The timestamp is written as a number when it is one.
func (r EncryptedReply) JSON() []byte {
	var ts any = r.TimeStamp
	if n, err := strconv.ParseInt(r.TimeStamp, 10, 64); err == nil {
		ts = n
	}
	out, _ := json.Marshal(struct {
		Encrypt      string `json:"encrypt"`
		MsgSignature string `json:"msgsignature"`
		TimeStamp    any    `json:"timestamp"`
		Nonce        string `json:"nonce"`
	}{r.Encrypt, r.MsgSignature, ts, r.Nonce})
	// Marshal cannot fail on strings and int64.
	return out
}
