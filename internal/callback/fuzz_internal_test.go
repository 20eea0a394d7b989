package callback

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// SamplePlaintext is the plaintext of one POST of events/callback-*.json
// and the demo account (infra/local/accounts.json) it was sent to.
// Exported for the fuzz targets of package callback_test.
type SamplePlaintext struct {
	Account qunyun.Account
	Plain   []byte
}

// SamplePlaintexts decrypts every POST of events/callback-*.json.
func SamplePlaintexts(tb testing.TB) []SamplePlaintext {
	tb.Helper()
	dir, err := accounts.LoadFile("../../infra/local/accounts.json")
	if err != nil {
		tb.Fatal(err)
	}
	files, _ := filepath.Glob("../../events/callback-*.json")
	var out []SamplePlaintext
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		var req events.APIGatewayV2HTTPRequest
		if json.Unmarshal(data, &req) != nil || req.RequestContext.HTTP.Method != "POST" {
			continue
		}
		acct, err := dir.Account(context.Background(), req.PathParameters["account"])
		if err != nil {
			tb.Fatalf("%s: %v", file, err)
		}
		plain := []byte(req.Body)
		if q, _ := url.ParseQuery(req.RawQueryString); q.Get("msg_signature") != "" {
			parse := wechat.ParseEnvelopeXML
			if acct.Kind == qunyun.ChannelWeComBot {
				parse = wechat.ParseEnvelopeJSON
			}
			env, err := parse(plain)
			if err != nil {
				tb.Fatalf("%s: %v", file, err)
			}
			c, err := wechat.NewCrypto(acct.Token, acct.EncodingAESKey, acct.ReceiveID())
			if err != nil {
				tb.Fatal(err)
			}
			if plain, err = c.Decrypt(env.Encrypt); err != nil {
				tb.Fatalf("%s: %v", file, err)
			}
		}
		out = append(out, SamplePlaintext{acct, plain})
	}
	if len(out) == 0 {
		tb.Fatal("no callback samples in events/")
	}
	return out
}

// FuzzRules checks the inline rules' text matching on member text: the
// @-mention strip is idempotent and leaves no space at the ends; a vote is
// exactly a vote marker after it, and every marker after an @ is a vote;
// a question has at least two characters, and any text of two with a
// question mark or an @ of the host is one; a keyword rule matches exactly
// the text it names, or any text containing it.
func FuzzRules(f *testing.F) {
	f.Add("@小满助手 打卡", "打卡", false)
	f.Add("今晚的分享几点开始？", "分享", true) // events/callback-relay-message.json
	f.Add("@主持人\u2005+1", "+1", false)
	f.Add("提问 嘉宾怎么看", "提问", true)
	f.Add("@ @a\u3000同问", "", false)
	f.Add("是这样吗。", "吗", true)
	texts, err := DefaultTexts()
	if err != nil {
		f.Fatal(err)
	}
	s := &Service{Texts: texts}
	f.Fuzz(func(t *testing.T, text, keyword string, contains bool) {
		stripped := stripMention(text)
		if again := stripMention(stripped); again != stripped || strings.TrimSpace(stripped) != stripped {
			t.Fatalf("stripMention(%q) = %q, then %q", text, stripped, again)
		}
		if s.isVote(text) != slices.Contains(texts.VoteMarkers, stripped) {
			t.Fatalf("isVote(%q) = %v", text, s.isVote(text))
		}
		if !strings.ContainsAny(keyword, " \u2005\u3000") {
			for _, m := range texts.VoteMarkers {
				if !s.isVote("@" + keyword + " " + m) {
					t.Fatalf("%q after @%s is not a vote", m, keyword)
				}
			}
		}
		long := len([]rune(stripped)) >= 2
		// A question needs its form, never an @ of the host alone
		// (rules.go); a mark or a word alone is not one either.
		if q := s.isQuestion(text); q && !long {
			t.Fatalf("isQuestion(%q) = %v", text, q)
		}
		match := "exact"
		if contains {
			match = "contains"
		}
		want := keyword != "" && (text == keyword || contains && strings.Contains(text, keyword))
		if got := matches(qunyun.KeywordRule{Match: match, Keywords: []string{"", keyword}}, text); got != want {
			t.Fatalf("%s %q on %q: %v", match, keyword, text, got)
		}
	})
}

// fuzzChannel is a kind of account and the parser of its plaintext.
type fuzzChannel struct {
	kind  qunyun.Channel
	parse func([]byte) (wechat.Inbound, error)
}

// fuzzChannels are the channels by the fuzzer's channel byte.
var fuzzChannels = []fuzzChannel{
	{qunyun.ChannelOA, wechat.ParseOA},
	{qunyun.ChannelWeCom, wechat.ParseWeCom},
	{qunyun.ChannelWeComBot, func(b []byte) (wechat.Inbound, error) { return wechat.ParseBot(b) }},
	{qunyun.ChannelRelay, func(b []byte) (wechat.Inbound, error) { return wechat.ParseRelay(b) }},
}

// FuzzNormalise runs normalise on whatever the channel's parser accepts
// (seeded with the plaintexts of events/callback-*.json). It fails only
// with an error the handler answers 400, and otherwise gives exactly one of
// a message, group events or an account event (nothing only for a bot
// stream refresh), for the account, at a UTC time, keyed by the
// platform's idempotency key (group member events: key#member).
func FuzzNormalise(f *testing.F) {
	byKind := map[qunyun.Channel]qunyun.Account{}
	for _, s := range SamplePlaintexts(f) {
		byKind[s.Account.Kind] = s.Account
		i := slices.IndexFunc(fuzzChannels, func(c fuzzChannel) bool { return c.kind == s.Account.Kind })
		f.Add(byte(i), s.Plain)
	}
	botAt := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, channel byte, plain []byte) {
		ch := fuzzChannels[int(channel)%len(fuzzChannels)]
		acct := byKind[ch.kind]
		in, err := ch.parse(plain)
		if err != nil {
			return
		}
		out, err := normalise(acct, in, botAt)
		if err != nil {
			if bad := protocolError(err); bad == nil || bad.status != 400 {
				t.Fatalf("normalise: %v is not a 400", err)
			}
			return
		}
		key, err := wechat.IdempotencyKey(in)
		if err != nil {
			t.Fatalf("normalised without a key: %v", err)
		}
		n := 0
		if m := out.Message; m != nil {
			n++
			if m.ID != key || m.AccountID != acct.ID || m.Channel != acct.Kind || m.Kind == "" || m.At.Location() != time.UTC {
				t.Fatalf("message %+v", m)
			}
		}
		if len(out.GroupEvents) > 0 {
			n++
		}
		for _, e := range out.GroupEvents {
			if e.ID != key && e.ID != key+"#"+e.MemberID || e.GroupID == "" || e.Type == "" || e.AccountID != acct.ID || e.At.Location() != time.UTC {
				t.Fatalf("group event %+v", e)
			}
		}
		if e := out.AccountEvent; e != nil {
			n++
			if e.ID != key || e.Type == "" || e.AccountID != acct.ID || e.At.Location() != time.UTC {
				t.Fatalf("account event %+v", e)
			}
		}
		bot, ok := in.(*wechat.BotMessage)
		stream := ok && bot.MsgType == "stream"
		if n > 1 || n == 0 && !stream || out.BotWelcome && out.AccountEvent == nil {
			t.Fatalf("normalised %T into %+v", in, out)
		}
	})
}
