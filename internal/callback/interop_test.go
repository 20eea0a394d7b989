package callback_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"slices"
	"strconv"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// An independent implementation of WeChat's message scheme, written from
// the published description (wechat-protocol.md §1.3–1.4) with only the
// standard library, so the handler is checked against something other than
// package wechat.
type indie struct {
	key []byte
}

func newIndie(t *testing.T, encodingAESKey string) indie {
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil {
		t.Fatal(err)
	}
	return indie{key: key}
}

func (x indie) encrypt(t *testing.T, msg, receiveID string) string {
	buf := bytes.Repeat([]byte{7}, 16) // random
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(msg)))
	buf = append(buf, msg...)
	buf = append(buf, receiveID...)
	pad := 32 - len(buf)%32
	buf = append(buf, bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher(x.key)
	cipher.NewCBCEncrypter(block, x.key[:16]).CryptBlocks(buf, buf)
	return base64.StdEncoding.EncodeToString(buf)
}

func (x indie) decrypt(t *testing.T, enc, receiveID string) string {
	t.Helper()
	data, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(data)%16 != 0 {
		t.Fatalf("reply ciphertext: %v", err)
	}
	block, _ := aes.NewCipher(x.key)
	cipher.NewCBCDecrypter(block, x.key[:16]).CryptBlocks(data, data)
	pad := int(data[len(data)-1])
	if pad < 1 || pad > 32 {
		t.Fatalf("pad %d", pad)
	}
	data = data[:len(data)-pad]
	n := int(binary.BigEndian.Uint32(data[16:20]))
	if got := string(data[20+n:]); got != receiveID {
		t.Fatalf("receiveid %q, want %q", got, receiveID)
	}
	return string(data[20 : 20+n])
}

func sha1Sorted(parts ...string) string {
	slices.Sort(parts)
	h := sha1.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// An OA safe-mode message sealed by the independent implementation is
// accepted, and the handler's encrypted reply opens there.
func TestInteropSafeMode(t *testing.T) {
	f := newFixture(t, nil)
	acct := account("oa-doc")
	if err := (dynamo.Catalog{Table: f.table}).PutKeywordRule(t.Context(), qunyun.KeywordRule{ID: "k", AccountID: acct.ID, Match: "contains", Keywords: []string{"菜单"}, Reply: "今日菜单：番茄牛腩饭"}); err != nil {
		t.Fatal(err)
	}
	x := newIndie(t, acct.EncodingAESKey)
	ts := strconv.FormatInt(f.clock.Now().Unix(), 10)
	msg := `<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[o-fan]]></FromUserName><CreateTime>` + ts + `</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[请问今天的菜单]]></Content><MsgId>777</MsgId></xml>`
	enc := x.encrypt(t, msg, acct.AppID)
	q := oaPlainQuery(acct.Token, ts, "42")
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", sha1Sorted(acct.Token, ts, "42", enc))
	r := f.do("POST", acct.ID, q, safeBody("gh_demo", enc), nil)
	if r.StatusCode != 200 {
		t.Fatalf("%d %q", r.StatusCode, r.Body)
	}
	var env struct {
		Encrypt      string `xml:"Encrypt"`
		MsgSignature string `xml:"MsgSignature"`
		TimeStamp    string `xml:"TimeStamp"`
		Nonce        string `xml:"Nonce"`
	}
	if err := xml.Unmarshal([]byte(r.Body), &env); err != nil {
		t.Fatalf("reply %q: %v", r.Body, err)
	}
	if env.MsgSignature != sha1Sorted(acct.Token, env.TimeStamp, env.Nonce, env.Encrypt) {
		t.Fatal("reply signature does not verify independently")
	}
	var reply struct {
		To      string `xml:"ToUserName"`
		From    string `xml:"FromUserName"`
		MsgType string `xml:"MsgType"`
		Content string `xml:"Content"`
	}
	if err := xml.Unmarshal([]byte(x.decrypt(t, env.Encrypt, acct.AppID)), &reply); err != nil {
		t.Fatal(err)
	}
	if reply.To != "o-fan" || reply.From != "gh_demo" || reply.MsgType != "text" || reply.Content != "今日菜单：番茄牛腩饭" {
		t.Fatalf("reply %+v", reply)
	}
}
