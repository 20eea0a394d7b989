package wechat_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

// Interop with two implementations that share no code with the package:
// the manual block-by-block CBC in helpers_test.go (always), and the openssl
// command line (when it is installed).

func TestInteropManualCBC(t *testing.T) {
	c := mustCrypto(t, testToken, testKey, testAppID)
	key := rawKey(t, testKey)
	for _, msg := range []string{"", "x", "我是中文abcd123", strings.Repeat("长", 500), "exactly-aligned-to-32-by-ids"} {
		// Theirs → ours.
		enc := manualCBCEncrypt(t, key, pad32(frame(testRand, msg, testAppID)))
		got, err := c.Decrypt(enc)
		if err != nil || string(got) != msg {
			t.Errorf("Decrypt(manual %q) = %q, %v", msg, got, err)
		}
		// Ours → theirs.
		ours, err := c.Encrypt([]byte(msg), strings.NewReader(testRand))
		if err != nil {
			t.Fatal(err)
		}
		if ours != enc {
			t.Errorf("Encrypt(%q) differs from the manual implementation", msg)
		}
		random, _, plain, rid, _ := unframe(t, manualCBCDecrypt(t, key, ours))
		if random != testRand || plain != msg || rid != testAppID {
			t.Errorf("manual decrypt of ours = %q %q %q", random, plain, rid)
		}
	}
}

func openssl(t *testing.T, decrypt bool, key, in []byte) []byte {
	t.Helper()
	args := []string{"enc", "-aes-256-cbc", "-nopad", "-K", hex.EncodeToString(key), "-iv", hex.EncodeToString(key[:16])}
	if decrypt {
		args = append(args, "-d")
	}
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl %v: %v", args[:3], err)
	}
	return out
}

func TestInteropOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	c := mustCrypto(t, testToken, testKey, testAppID)
	key := rawKey(t, testKey)
	plain := `<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[来自 openssl]]></Content><MsgId>1</MsgId></xml>`

	// openssl encrypts a frame we build by hand; Open accepts it.
	ct := openssl(t, false, key, pad32(frame("0123456789abcdef", plain, testAppID)))
	enc := base64.StdEncoding.EncodeToString(ct)
	sig := signatureFor(testToken, "1700000000", "n1", enc)
	msg, err := c.Open(sig, "1700000000", "n1", enc)
	if err != nil || string(msg) != plain {
		t.Fatalf("Open(openssl) = %q, %v", msg, err)
	}

	// Our sealed reply decrypts with openssl to a well-formed frame.
	r, err := c.Seal([]byte(plain), "1700000001", "n2", nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(r.Encrypt)
	if err != nil {
		t.Fatal(err)
	}
	random, msgLen, got, rid, pad := unframe(t, openssl(t, true, key, raw))
	if len(random) != 16 || msgLen != len(plain) || got != plain || rid != testAppID || pad < 1 || pad > 32 {
		t.Errorf("openssl decrypt of ours: len %d rid %q pad %d msg %q", msgLen, rid, pad, got)
	}

	// And a published vector decrypts with openssl to the expected bytes.
	v := vectorByName(t, "wecom_xml_decrypt_QDG6eK")
	raw, _ = base64.StdEncoding.DecodeString(v.Encrypt)
	random, _, got, rid, pad = unframe(t, openssl(t, true, rawKey(t, v.EncodingAESKey), raw))
	if random != v.ExpectRandom || got != v.ExpectMsg || rid != v.ReceiveID || pad != v.PKCS7Pad {
		t.Errorf("openssl decrypt of %s: random %q rid %q pad %d", v.Name, random, rid, pad)
	}
}
