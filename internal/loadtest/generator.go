package loadtest

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
	"github.com/qunyun/qunyun/internal/wechat"
)

// seedBytes makes a ChaCha8 seed of seed.
func seedBytes(seed uint64) [32]byte {
	var b [32]byte
	for i := range 8 {
		b[i] = byte(seed >> (8 * i))
	}
	return b
}

// generator makes the run's distinct callbacks.
type generator struct {
	rnd  *rand.Rand
	opts Options
	b    *callbacks.Builder
	run  string // makes ids unique across runs against the same table
	// runNum does the same for OA's numeric MsgIds.
	runNum int64
	n      int
}

// pickDup chooses which earlier request a duplicate repeats: half the time
// the newest (usually still in flight: a concurrent retry), otherwise one of
// the last few seconds' (a late retry).
func (g *generator) pickDup(n int) int {
	if g.rnd.IntN(2) == 0 {
		return n - 1
	}
	window := max(1, int(g.opts.Rate*3))
	return n - 1 - g.rnd.IntN(min(window, n))
}

var texts = []string{"大家好", "今天的分享很有收获", "请问下周的活动几点开始？", "谢谢老师", "这个资料哪里可以下载", "打卡", "同意楼上", "有人一起去吗", "收到", "明天见"}

func (g *generator) next() (callbacks.Request, string, error) {
	g.n++
	ch := g.channel()
	t := g.opts.Targets[ch]
	at := g.opts.Now()
	member := fmt.Sprintf("load-m%03d", g.rnd.IntN(500))
	text := texts[g.rnd.IntN(len(texts))] + " #" + strconv.Itoa(g.n)
	id := "load-" + g.run + "-" + strconv.Itoa(g.n)
	var group string
	if len(t.Groups) > 0 {
		group = t.Groups[g.rnd.IntN(len(t.Groups))]
	}
	var (
		req callbacks.Request
		err error
	)
	switch ch {
	case qunyun.ChannelRelay:
		req, err = g.b.Relay(t.Account, wechat.RelayEvent{
			ID: id, Type: wechat.RelayMessage, GroupID: group, MemberID: member, Kind: "text", Text: text, Time: at.Unix(),
		}, at)
	case qunyun.ChannelWeComBot:
		req, err = g.b.BotMention(t.Account, group, member, id, "@群助手 "+text, at)
	case qunyun.ChannelWeCom:
		// Each event names one new member, so the plaintext (and its key) is
		// unique; join and leave alternate so group sizes stay level.
		req, err = g.b.WeComMembership(t.Account, callbacks.Membership{
			ChatID: group, Joined: g.n%2 == 1, Members: []string{"load-w" + g.run + "-" + strconv.Itoa(g.n)},
			Scene: wechat.JoinByQRCode, MemberVersion: g.n,
		}, at)
	case qunyun.ChannelOA:
		group = ""
		req, err = g.b.OAText(t.Account, "load-o"+member, text, g.msgID(), at)
	}
	if err != nil {
		return callbacks.Request{}, "", fmt.Errorf("build %s request %d: %w", ch, g.n, err)
	}
	return req, group, nil
}

// msgID is a 64-bit OA MsgId unique to this run.
func (g *generator) msgID() int64 {
	return g.runNum*1e7 + int64(g.n)
}

func (g *generator) channel() qunyun.Channel {
	chs := g.opts.Mix.channels()
	total := 0.0
	for _, ch := range chs {
		total += g.opts.Mix[ch]
	}
	x := g.rnd.Float64() * total
	for _, ch := range chs {
		if x < g.opts.Mix[ch] {
			return ch
		}
		x -= g.opts.Mix[ch]
	}
	return chs[len(chs)-1]
}
