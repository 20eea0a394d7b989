package wechat_test

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/wechat"
)

// FuzzVerifyDecrypt feeds Open hostile query values and ciphertext, and feeds
// Decrypt hostile plaintext frames (encrypted here under the right key, so the
// fuzzer reaches the padding, msg_len and receiveid checks).
func FuzzVerifyDecrypt(f *testing.F) {
	v := vectorByName(f, "oa_cpp_sample_spamtest")
	f.Add(v.MsgSignature, v.Timestamp, v.Nonce, v.Encrypt, pad32(frame(testRand, "hello", v.ReceiveID)))
	f.Add("", "", "", "", []byte{})
	f.Add("x", "1", "2", "!!!!", []byte("0123456789abcdef"))
	c := mustCrypto(f, v.Token, v.EncodingAESKey, v.ReceiveID)
	key := rawKey(f, v.EncodingAESKey)
	block, err := aes.NewCipher(key)
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, msgSignature, timestamp, nonce, encrypt string, plain []byte) {
		msg, err := c.Open(msgSignature, timestamp, nonce, encrypt)
		if err == nil && msgSignature != wechat.MsgSignature(v.Token, timestamp, nonce, encrypt) {
			t.Fatalf("Open accepted a wrong signature")
		}
		if err != nil && msg != nil {
			t.Fatalf("Open returned data with an error")
		}

		plain = plain[:len(plain)/aes.BlockSize*aes.BlockSize]
		if len(plain) == 0 {
			return
		}
		ct := make([]byte, len(plain))
		cipher.NewCBCEncrypter(block, key[:16]).CryptBlocks(ct, plain)
		enc := base64.StdEncoding.EncodeToString(ct)
		msg, err = c.Decrypt(enc)
		if err != nil {
			for _, want := range []error{wechat.ErrPadding, wechat.ErrLength, wechat.ErrReceiveID} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("Decrypt: unexpected error kind %v", err)
		}
		// Whatever decrypted must encrypt and decrypt back to itself.
		again, err := c.Encrypt(msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		back, err := c.Decrypt(again)
		if err != nil || string(back) != string(msg) {
			t.Fatalf("round trip: %q, %v", back, err)
		}
	})
}

// FuzzParseXML feeds every XML entry point the same bytes, and renders them
// into a passive reply that must stay well-formed.
func FuzzParseXML(f *testing.F) {
	f.Add([]byte(vectorByName(f, "oa_cpp_sample_spamtest").ExpectMsg))
	f.Add([]byte(vectorByName(f, "wecom_xml_decrypt_QDG6eK").ExpectMsg))
	f.Add(oaXML(`<MsgType>event</MsgType><Event>MASSSENDJOBFINISH</Event><MsgID>1988</MsgID><TotalCount>1</TotalCount>`))
	f.Add([]byte(`<xml><FromUserName>sys</FromUserName><MsgType>event</MsgType><Event>change_external_chat</Event><MemChangeList><Item>a</Item></MemChangeList></xml>`))
	f.Add([]byte(`<xml><ToUserName>gh</ToUserName><Encrypt>abc</Encrypt></xml>`))
	f.Add([]byte(`<xml><Content><![CDATA[a]]>]]></Content>`))

	f.Fuzz(func(t *testing.T, data []byte) {
		if in, err := wechat.ParseOA(data); err == nil {
			if _, err := wechat.IdempotencyKey(in); err != nil {
				t.Fatalf("OA inbound without a key: %#v", in)
			}
		}
		if in, err := wechat.ParseWeCom(data); err == nil {
			if _, err := wechat.IdempotencyKey(in); err != nil {
				t.Fatalf("WeCom inbound without a key: %#v", in)
			}
		}
		if env, err := wechat.ParseEnvelopeXML(data); err == nil && env.Encrypt == "" {
			t.Fatal("envelope without Encrypt accepted")
		}
		_, _ = wechat.ParseEnvelopeJSON(data)
		_, _ = wechat.ParseBot(data)

		s := string(data)
		reply := wechat.TextReply{ToUserName: s, FromUserName: s, Content: s}.XML()
		var back struct{ Content string }
		if err := xml.Unmarshal(reply, &back); err != nil {
			t.Fatalf("text reply is not well-formed: %v\n%q", err, reply)
		}
		news, err := wechat.NewsReply{Articles: []wechat.Article{{Title: s, Description: s, PicURL: s, URL: s}}}.XML()
		if err != nil {
			t.Fatal(err)
		}
		if err := xml.Unmarshal(news, &back); err != nil {
			t.Fatalf("news reply is not well-formed: %v\n%q", err, news)
		}
	})
}

// FuzzRelayJSON feeds hostile bodies and headers to the relay verifier and parser.
func FuzzRelayJSON(f *testing.F) {
	secret := []byte("relay-demo-secret")
	good := []byte(`{"id":"bridge-1","type":"message","group_id":"g","member_id":"m","kind":"text","text":"hi","mentions":["a"],"time":1763780400}`)
	f.Add(good, "1763780402", wechat.SignRelay(secret, "1763780402", good))
	f.Add([]byte(`{"id":"x","type":"group_renamed","group_id":"g","time":1}`), "1763780402", "")
	f.Add([]byte(`{"id":1}`), "", "zz")
	f.Add([]byte(`null`), "-1", "00")
	now := time.Unix(1_763_780_402, 0)

	f.Fuzz(func(t *testing.T, body []byte, timestamp, signature string) {
		// Only the right signature verifies (hex may come in either case).
		if err := wechat.VerifyRelay(secret, timestamp, signature, body, now); err == nil &&
			strings.ToLower(signature) != wechat.SignRelay(secret, timestamp, body) {
			t.Fatal("VerifyRelay accepted a wrong signature")
		}
		sig := wechat.SignRelay(secret, "1763780402", body)
		if err := wechat.VerifyRelay(secret, "1763780402", sig, body, now); err != nil && !errors.Is(err, wechat.ErrTooLarge) {
			t.Fatalf("own signature rejected: %v", err)
		}
		if e, err := wechat.ParseRelay(body); err == nil {
			if key, err := wechat.IdempotencyKey(e); err != nil || key != e.ID {
				t.Fatalf("relay key %q, %v", key, err)
			}
		}
	})
}
