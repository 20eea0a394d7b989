package wechat_test

import (
	"testing"

	"github.com/qunyun/qunyun/internal/wechat"
)

// BenchmarkDecryptTextMessage is the callback's hot path for an OA safe-mode
// text message: read the envelope, verify msg_signature, decrypt, decode.
func BenchmarkDecryptTextMessage(b *testing.B) {
	v := vectorByName(b, "oa_cpp_sample_spamtest")
	benchmarkDecrypt(b, v)
}

// BenchmarkDecryptVsWeComCrypto is BenchmarkDecryptTextMessage against
// @wecom/crypto (WeCom's Node library) on the same vector, timed by node in
// the same run. x-wecom is how many times faster this package is. The
// baseline only checks the signature and decrypts; it reads no XML, which
// this side does twice (envelope and message).
func BenchmarkDecryptVsWeComCrypto(b *testing.B) {
	v := vectorByName(b, "oa_cpp_sample_spamtest")
	base := wecomCrypto(b, v)
	b.Logf("@wecom/crypto %s on node %s: %.0f ns/op warm (rounds %.0f); its first 1,000 calls in a fresh process: %.0f ns/op",
		base.Version, base.Node, base.NsPerOp, base.Rounds, base.First1000NsPerOp)
	benchmarkDecrypt(b, v)
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(base.NsPerOp, "wecom-ns/op")
	b.ReportMetric(base.NsPerOp/ns, "x-wecom")
}

func benchmarkDecrypt(b *testing.B, v vector) {
	c := mustCrypto(b, v.Token, v.EncodingAESKey, v.ReceiveID)
	body := []byte(`<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[` + v.Encrypt + `]]></Encrypt></xml>`)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		env, err := wechat.ParseEnvelopeXML(body)
		if err != nil {
			b.Fatal(err)
		}
		plain, err := c.Open(v.MsgSignature, v.Timestamp, v.Nonce, env.Encrypt)
		if err != nil {
			b.Fatal(err)
		}
		in, err := wechat.ParseOA(plain)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := in.(*wechat.OAText); !ok {
			b.Fatalf("got %T", in)
		}
	}
}

// BenchmarkSealTextReply builds and encrypts a passive text reply.
func BenchmarkSealTextReply(b *testing.B) {
	c := mustCrypto(b, testToken, testKey, testAppID)
	b.ReportAllocs()
	for b.Loop() {
		plain := wechat.TextReply{ToUserName: "oUser", FromUserName: "gh_1", CreateTime: 1700000000, Content: "收到，谢谢！"}.XML()
		r, err := c.Seal(plain, "1700000000", "nonce", nil)
		if err != nil {
			b.Fatal(err)
		}
		_ = r.XML()
	}
}
