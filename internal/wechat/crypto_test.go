package wechat_test

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/wechat"
)

const (
	testToken = "spamtest"
	testKey   = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	testAppID = "wx2c2769f8efd9abc2"
	testRand  = "aaaabbbbccccdddd"
)

// §8 of wechat-protocol.md: every way a callback can be wrong.
func TestOpenRejects(t *testing.T) {
	v := vectorByName(t, "oa_cpp_sample_spamtest")
	c := mustCrypto(t, v.Token, v.EncodingAESKey, v.ReceiveID)
	key := rawKey(t, testKey)

	// signed encrypts an arbitrary (even malformed) padded frame with the
	// independent implementation; the table signs it, so only the property
	// under test is wrong.
	signed := func(padded []byte) string { return manualCBCEncrypt(t, key, padded) }

	withPad := func(p byte) []byte {
		b := frame(testRand, "hello", testAppID)
		n := 32 - len(b)%32
		for range n {
			b = append(b, p)
		}
		return b
	}
	overflow := pad32(frame(testRand, "hello", testAppID))
	binary.BigEndian.PutUint32(overflow[16:20], 0xFFFFFFFF)
	longLen := pad32(frame(testRand, "hello", testAppID))
	binary.BigEndian.PutUint32(longLen[16:20], uint32(len("hello")+len(testAppID)+1))
	mixedPad := pad32(frame(testRand, "hello", testAppID))
	mixedPad[len(mixedPad)-2] ^= 1

	tests := []struct {
		name    string
		sig     string // "" = sign correctly
		encrypt string
		want    error
	}{
		{"wrong signature", strings.Repeat("0", 40), v.Encrypt, wechat.ErrSignature},
		{"3-parameter signature where 4 are needed", wechat.Signature(v.Token, v.Timestamp, v.Nonce), v.Encrypt, wechat.ErrSignature},
		{"empty signature", "-", v.Encrypt, wechat.ErrSignature},
		{"uppercase signature", strings.ToUpper(v.MsgSignature), v.Encrypt, wechat.ErrSignature},
		{"wrong receiveid", "", signed(pad32(frame(testRand, "hello", "wx0000000000000000"))), wechat.ErrReceiveID},
		{"receiveid missing", "", signed(pad32(frame(testRand, "hello", ""))), wechat.ErrReceiveID},
		{"receiveid longer", "", signed(pad32(frame(testRand, "hello", testAppID+"x"))), wechat.ErrReceiveID},
		{"bad base64", "", "not base64!", wechat.ErrBase64},
		{"empty ciphertext", "", "", wechat.ErrBlockSize},
		{"length not a multiple of 16", "", base64.StdEncoding.EncodeToString(make([]byte, 40)), wechat.ErrBlockSize},
		{"pad byte 0", "", signed(withPad(0)), wechat.ErrPadding},
		{"pad byte 33", "", signed(withPad(33)), wechat.ErrPadding},
		{"pad byte 255", "", signed(withPad(255)), wechat.ErrPadding},
		{"pad bytes disagree", "", signed(mixedPad), wechat.ErrPadding},
		{"pad longer than data", "", signed(append(make([]byte, 15), 32)), wechat.ErrPadding},
		{"plaintext shorter than header", "", signed(pad32([]byte("short"))), wechat.ErrLength},
		{"msg_len overflow", "", signed(overflow), wechat.ErrLength},
		{"msg_len one past the end", "", signed(longLen), wechat.ErrLength},
		{"too large", "", strings.Repeat("A", wechat.MaxBodySize+4), wechat.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := tt.sig
			switch sig {
			case "":
				sig = wechat.MsgSignature(v.Token, v.Timestamp, v.Nonce, tt.encrypt)
			case "-":
				sig = ""
			}
			msg, err := c.Open(sig, v.Timestamp, v.Nonce, tt.encrypt)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %q, %v; want %v", msg, err, tt.want)
			}
			if strings.Contains(err.Error(), v.Token) || strings.Contains(err.Error(), testKey) {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestEmptyReceiveIDOnlyWhereConfigured(t *testing.T) {
	v := vectorByName(t, "self_generated_empty_receiveid")
	bot := mustCrypto(t, v.Token, v.EncodingAESKey, "")
	app := mustCrypto(t, v.Token, v.EncodingAESKey, "ww1436e0e65a779aee")

	if _, err := bot.Open(v.ExpectMsgSignature, v.Timestamp, v.Nonce, v.ExpectEncrypt); err != nil {
		t.Errorf("smart bot (receiveid \"\"): %v", err)
	}
	if _, err := app.Open(v.ExpectMsgSignature, v.Timestamp, v.Nonce, v.ExpectEncrypt); !errors.Is(err, wechat.ErrReceiveID) {
		t.Errorf("app with corpid accepted an empty receiveid: %v", err)
	}
	// And the reverse: "" configured does not mean "skip the check".
	corp := vectorByName(t, "wecom_xml_decrypt_hJqcu3")
	if _, err := bot.Open(corp.MsgSignature, corp.Timestamp, corp.Nonce, corp.Encrypt); !errors.Is(err, wechat.ErrReceiveID) {
		t.Errorf("bot accepted a corpid receiveid: %v", err)
	}
	if bot.ReceiveID() != "" || app.ReceiveID() != "ww1436e0e65a779aee" {
		t.Error("ReceiveID")
	}
}

func TestNewCryptoRejects(t *testing.T) {
	tests := []struct {
		name, token, key string
		want             error
	}{
		{"short key", "t", "abc", wechat.ErrAESKey},
		{"long key", "t", testKey + "A", wechat.ErrAESKey},
		{"key not base64", "t", strings.Repeat("!", 43), wechat.ErrAESKey},
		{"empty token", "", testKey, wechat.ErrMissingField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := wechat.NewCrypto(tt.token, tt.key, ""); !errors.Is(err, tt.want) {
				t.Errorf("NewCrypto = %v, want %v", err, tt.want)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestEncrypt(t *testing.T) {
	c := mustCrypto(t, testToken, testKey, testAppID)
	if _, err := c.Encrypt([]byte("x"), failingReader{}); err == nil {
		t.Error("Encrypt with a failing reader succeeded")
	}
	if _, err := c.Seal([]byte("x"), "1", "n", failingReader{}); err == nil {
		t.Error("Seal with a failing reader succeeded")
	}
	// nil means crypto/rand: two encryptions differ, both decrypt.
	a, err1 := c.Encrypt([]byte("same"), nil)
	b, err2 := c.Encrypt([]byte("same"), nil)
	if err1 != nil || err2 != nil || a == b {
		t.Fatalf("Encrypt(nil reader) = %q, %q, %v, %v", a, b, err1, err2)
	}
	// Every length across a few pad boundaries round-trips; pad 32 included.
	for n := range 100 {
		msg := strings.Repeat("m", n)
		enc, err := c.Encrypt([]byte(msg), strings.NewReader(testRand))
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decrypt(enc)
		if err != nil || string(got) != msg {
			t.Fatalf("len %d: %q, %v", n, got, err)
		}
	}
}

func TestSignatures(t *testing.T) {
	if err := wechat.VerifySignature("AAAAA", "1714036504", "1514711492", "f464b24fc39322e44b38aa78f5edd27bd1441696"); err != nil {
		t.Error(err)
	}
	tests := []struct{ name, token, ts, nonce, sig string }{
		{"wrong token", "AAAAB", "1714036504", "1514711492", "f464b24fc39322e44b38aa78f5edd27bd1441696"},
		{"wrong nonce", "AAAAA", "1714036504", "1514711493", "f464b24fc39322e44b38aa78f5edd27bd1441696"},
		{"truncated", "AAAAA", "1714036504", "1514711492", "f464b24fc39322e44b38aa78f5edd27bd144169"},
		{"empty", "AAAAA", "1714036504", "1514711492", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := wechat.VerifySignature(tt.token, tt.ts, tt.nonce, tt.sig); !errors.Is(err, wechat.ErrSignature) {
				t.Errorf("VerifySignature = %v", err)
			}
		})
	}
}

func TestCheckTimestamp(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		ts string
		ok bool
	}{
		{"1700000000", true},
		{"1700000300", true},
		{"1699999700", true},
		{"1700000301", false},
		{"1699999699", false},
		{"", false},
		{"17e8", false},
		{"-9223372036854775808", false},
		{"9223372036854775807", false},
		{"99999999999999999999", false},
	}
	for _, tt := range tests {
		err := wechat.CheckTimestamp(tt.ts, now, 300*time.Second)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, wechat.ErrTimestamp)) {
			t.Errorf("CheckTimestamp(%q) = %v, want ok=%v", tt.ts, err, tt.ok)
		}
	}
}

// One Crypto serves every request of an account; run under -race.
func TestCryptoConcurrent(t *testing.T) {
	v := vectorByName(t, "oa_cpp_sample_spamtest")
	c := mustCrypto(t, v.Token, v.EncodingAESKey, v.ReceiveID)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 50 {
				if _, err := c.Open(v.MsgSignature, v.Timestamp, v.Nonce, v.Encrypt); err != nil {
					errs <- err
					return
				}
				if _, err := c.Seal([]byte("ok"), "1", "n", nil); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
