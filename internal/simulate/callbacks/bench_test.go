package callbacks_test

import (
	"math/rand/v2"
	"testing"

	"github.com/qunyun/qunyun/internal/simulate/callbacks"
	"github.com/qunyun/qunyun/internal/wechat"
)

// The load runner builds every request on one goroutine at the target rate:
// a build must stay far below 1/rate (5 ms at 200 req/s).
func BenchmarkBuild(b *testing.B) {
	builder := &callbacks.Builder{Random: rand.NewChaCha8([32]byte{1})}
	b.Run("relay", func(b *testing.B) {
		for b.Loop() {
			if _, err := builder.Relay(relay, wechat.RelayEvent{ID: "x", Type: "message", GroupID: "g", MemberID: "m", Kind: "text", Text: "大家好", Time: at.Unix()}, at); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("wecom", func(b *testing.B) {
		for b.Loop() {
			if _, err := builder.WeComMembership(wecom, callbacks.Membership{ChatID: "c", Joined: true, Members: []string{"m"}}, at); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("oa-safe", func(b *testing.B) {
		for b.Loop() {
			if _, err := builder.OAText(oa, "o", "投票 3", 1, at); err != nil {
				b.Fatal(err)
			}
		}
	})
}
