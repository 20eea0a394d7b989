package wechat_test

import (
	"slices"
	"testing"

	"github.com/qunyun/qunyun/internal/wechat"
)

// BenchmarkDecryptTextMessage is the callback's hot path for an OA safe-mode
// text message: read the envelope, verify msg_signature, decrypt, decode.
func BenchmarkDecryptTextMessage(b *testing.B) {
	open := decryptTextMessage(b, vectorByName(b, "oa_cpp_sample_spamtest"))
	b.ReportAllocs()
	for b.Loop() {
		open()
	}
}

// BenchmarkDecryptVsWeComCrypto is BenchmarkDecryptTextMessage against
// @wecom/crypto (WeCom's Node library) on the same vector. The baseline
// checks the signature and decrypts; it reads no XML. After the usual
// loop, nine rounds of node alternate with nine of this package, so a
// shared machine's load falls on each pair alike. x-wecom is the median
// of the pairs' node time over the full path's (envelope, Open, ParseOA):
// how many times faster a callback's decoding is; x-wecom-open the same
// for Open alone, the baseline's own work.
func BenchmarkDecryptVsWeComCrypto(b *testing.B) {
	v := vectorByName(b, "oa_cpp_sample_spamtest")
	base := startWeComCrypto(b, v)
	full := decryptTextMessage(b, v)
	c := mustCrypto(b, v.Token, v.EncodingAESKey, v.ReceiveID)
	open := func() {
		if _, err := c.Open(v.MsgSignature, v.Timestamp, v.Nonce, v.Encrypt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		full()
	}
	const rounds, calls = 9, 10000
	var nodeNs, fullNs, openNs, xFull, xOpen []float64
	for range rounds {
		n := base.round(b, calls)
		f := timeRound(calls, full)
		o := timeRound(calls, open)
		nodeNs, fullNs, openNs = append(nodeNs, n), append(fullNs, f), append(openNs, o)
		xFull, xOpen = append(xFull, n/f), append(xOpen, n/o)
	}
	b.Logf("@wecom/crypto %s on node %s: rounds %.0f ns/op (its first 1,000 calls in a fresh process: %.0f ns/op); full path %.0f; Open %.0f",
		base.Version, base.Node, nodeNs, base.First1000NsPerOp, fullNs, openNs)
	b.ReportMetric(median(nodeNs), "wecom-ns/op")
	b.ReportMetric(median(xFull), "x-wecom")
	b.ReportMetric(median(xOpen), "x-wecom-open")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// decryptTextMessage returns one callback's work on v, checked.
func decryptTextMessage(b *testing.B, v vector) func() {
	c := mustCrypto(b, v.Token, v.EncodingAESKey, v.ReceiveID)
	body := []byte(`<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[` + v.Encrypt + `]]></Encrypt></xml>`)
	b.SetBytes(int64(len(body)))
	return func() {
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
