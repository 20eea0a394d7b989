package wechat_test

import (
	"strings"
	"testing"

	"github.com/qunyun/qunyun/internal/wechat"
)

func TestVectors(t *testing.T) {
	vs := loadVectors(t)
	if len(vs) != 17 {
		t.Fatalf("got %d vectors, want 17", len(vs))
	}
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			switch v.Kind {
			case "decrypt":
				testDecryptVector(t, v)
			case "encrypt":
				testEncryptVector(t, v)
			case "signature3":
				testSignature3Vector(t, v)
			default:
				t.Fatalf("unknown kind %q", v.Kind)
			}
		})
	}
}

func testDecryptVector(t *testing.T, v vector) {
	c := mustCrypto(t, v.Token, v.EncodingAESKey, v.ReceiveID)
	if got := wechat.MsgSignature(v.Token, v.Timestamp, v.Nonce, v.Encrypt); got != v.MsgSignature {
		t.Errorf("MsgSignature = %s, want %s", got, v.MsgSignature)
	}
	msg, err := c.Open(v.MsgSignature, v.Timestamp, v.Nonce, v.Encrypt)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if string(msg) != v.ExpectMsg {
		t.Errorf("msg = %q, want %q", msg, v.ExpectMsg)
	}
	// VerifyURL is Open under another name: the echostr vectors answer with msg.
	echo, err := c.VerifyURL(v.MsgSignature, v.Timestamp, v.Nonce, v.Encrypt)
	if err != nil || string(echo) != v.ExpectMsg {
		t.Errorf("VerifyURL = %q, %v", echo, err)
	}
	// The independent implementation sees the same frame, random and pad.
	random, msgLen, plain, rid, pad := unframe(t, manualCBCDecrypt(t, rawKey(t, v.EncodingAESKey), v.Encrypt))
	if random != v.ExpectRandom || msgLen != v.ExpectMsgLen || plain != v.ExpectMsg || rid != v.ReceiveID || pad != v.PKCS7Pad {
		t.Errorf("independent decrypt: random %q len %d rid %q pad %d", random, msgLen, rid, pad)
	}
	// Re-encrypting with the vector's random reproduces the ciphertext.
	enc, err := c.Encrypt(msg, strings.NewReader(v.ExpectRandom))
	if err != nil || enc != v.Encrypt {
		t.Errorf("re-encrypt = %q, %v", enc, err)
	}
}

func testEncryptVector(t *testing.T, v vector) {
	token := v.Token
	if token == "" {
		token = "unused"
	}
	c := mustCrypto(t, token, v.EncodingAESKey, v.ReceiveID)
	enc, err := c.Encrypt([]byte(v.Plaintext), strings.NewReader(v.Random))
	if err != nil {
		t.Fatal(err)
	}
	if enc != v.ExpectEncrypt {
		t.Errorf("Encrypt = %s\nwant      %s", enc, v.ExpectEncrypt)
	}
	msg, err := c.Decrypt(enc)
	if err != nil || string(msg) != v.Plaintext {
		t.Errorf("Decrypt round trip = %q, %v", msg, err)
	}
	if v.ExpectMsgSignature == "" {
		return
	}
	r, err := c.Seal([]byte(v.Plaintext), v.Timestamp, v.Nonce, strings.NewReader(v.Random))
	if err != nil {
		t.Fatal(err)
	}
	if r.Encrypt != v.ExpectEncrypt || r.MsgSignature != v.ExpectMsgSignature || r.TimeStamp != v.Timestamp || r.Nonce != v.Nonce {
		t.Errorf("Seal = %+v", r)
	}
	if _, err := c.Open(r.MsgSignature, r.TimeStamp, r.Nonce, r.Encrypt); err != nil {
		t.Errorf("Open(Seal) = %v", err)
	}
}

func testSignature3Vector(t *testing.T, v vector) {
	if got := wechat.Signature(v.Token, v.Timestamp, v.Nonce); got != v.ExpectSignature {
		t.Errorf("Signature = %s, want %s", got, v.ExpectSignature)
	}
	if err := wechat.VerifySignature(v.Token, v.Timestamp, v.Nonce, v.ExpectSignature); err != nil {
		t.Errorf("VerifySignature: %v", err)
	}
	// The 4-parameter form over the same values must not match: mixing the
	// two up is the most reported bug.
	if err := wechat.VerifyMsgSignature(v.Token, v.Timestamp, v.Nonce, v.Echostr, v.ExpectSignature); err == nil && v.Echostr != "" {
		t.Error("VerifyMsgSignature accepted a 3-parameter signature")
	}
}
