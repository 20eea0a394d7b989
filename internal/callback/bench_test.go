package callback_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// memStore keeps messages in memory behind the same Store interface, so the
// handler's own cost can be measured without DynamoDB.
type memStore struct {
	mu   sync.Mutex
	msgs map[string]bool
}

func (s *memStore) RecordMessage(_ context.Context, m qunyun.Message, f qunyun.Followup) (qunyun.Message, qunyun.Recorded, error) {
	k := dynamo.MessageKeys(m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.msgs[k.PK+k.SK] {
		return m, qunyun.Recorded{}, nil
	}
	s.msgs[k.PK+k.SK] = true
	return m, qunyun.Recorded{Created: true, Followup: f}, nil
}
func (s *memStore) RecordGroupEvent(_ context.Context, _ qunyun.GroupEvent, f qunyun.Followup) (qunyun.Recorded, error) {
	return qunyun.Recorded{Created: true, Followup: f}, nil
}
func (s *memStore) RecordAccountEvent(_ context.Context, _ qunyun.AccountEvent, f qunyun.Followup) (qunyun.Recorded, error) {
	return qunyun.Recorded{Created: true, Followup: f}, nil
}
func (s *memStore) FinishFollowup(context.Context, qunyun.Record, string) error { return nil }
func (s *memStore) NoteStuckFollowup(context.Context, qunyun.Record, time.Time) error {
	return nil
}
func (s *memStore) FollowupNotes(context.Context, string) ([]qunyun.FollowupNote, error) {
	return nil, nil
}
func (s *memStore) ClaimFollowupNote(context.Context, *qunyun.FollowupNote, time.Time) (bool, error) {
	return false, nil
}
func (s *memStore) FollowupRecord(context.Context, qunyun.FollowupNote) (qunyun.StuckRecord, bool, error) {
	return qunyun.StuckRecord{}, false, nil
}
func (s *memStore) ClearFollowupNote(context.Context, qunyun.FollowupNote) error { return nil }
func (s *memStore) LiveSessions(context.Context) (map[string]qunyun.LiveSession, error) {
	return nil, nil
}
func (s *memStore) CaptureQuestion(context.Context, qunyun.Question) (bool, error) { return true, nil }
func (s *memStore) VoteQuestion(context.Context, string, string, string) (bool, error) {
	return true, nil
}
func (s *memStore) OpenQuestion(context.Context, string, string) (string, bool, error) {
	return "", false, nil
}
func (s *memStore) CheckIn(context.Context, string, string, string, string, string) (qunyun.CheckinStreak, bool, error) {
	return qunyun.CheckinStreak{}, false, nil
}
func (s *memStore) RecordCheckin(context.Context, string, string, string, int, time.Time) error {
	return nil
}
func (s *memStore) Rules(context.Context, string) ([]qunyun.KeywordRule, []qunyun.CheckinRule, error) {
	return nil, nil, nil
}
func (s *memStore) Group(context.Context, string) (qunyun.Group, bool, error) {
	return qunyun.Group{}, false, nil
}
func (s *memStore) Member(context.Context, string, string) (qunyun.Member, bool, error) {
	return qunyun.Member{}, false, nil
}
func (s *memStore) Members(context.Context, string) ([]qunyun.Member, error) { return nil, nil }
func (s *memStore) MemberGroups(context.Context, string) ([]qunyun.Member, error) {
	return nil, nil
}
func (s *memStore) UpdateGroup(_ context.Context, id string, fn func(*qunyun.Group, bool) error) (qunyun.Group, error) {
	var g qunyun.Group
	return g, fn(&g, false)
}
func (s *memStore) MoveMember(_ context.Context, _ qunyun.Group, _ string, fn func(*qunyun.Member, bool) error) (int, error) {
	var m qunyun.Member
	return 0, fn(&m, false)
}
func (s *memStore) Link(context.Context, string) (qunyun.Link, bool, error) {
	return qunyun.Link{}, false, nil
}
func (s *memStore) RecordLinkOpen(context.Context, qunyun.Link, qunyun.LinkOpen, string, string) error {
	return nil
}
func (s *memStore) NoteSubscribed(context.Context, string, string, time.Time) error { return nil }
func (s *memStore) DeletePersonData(context.Context, string, string) (int, error)   { return 0, nil }
func (s *memStore) ClaimRelayID(_ context.Context, _, _ string, c qunyun.RelayClaim) (qunyun.RelayClaim, error) {
	return c, nil
}
func (s *memStore) AnchorBotMessage(_ context.Context, _, _ string, now time.Time) (time.Time, error) {
	return now, nil
}

// BenchmarkEncryptedText measures the handler on a safe-mode OA text
// message (verify both signatures, decrypt, parse, normalise, record in
// memory, answer), excluding DynamoDB. Each message has a new MsgId.
// Reports p50/p99 per message next to the mean.
func BenchmarkEncryptedText(b *testing.B) {
	clk := clock.NewManual(time.Unix(1410349438, 0))
	f := newFixtureOn(b, memStores(&memStore{msgs: map[string]bool{}}), clk)
	v := loadVector(b, "oa_cpp_sample_spamtest")
	c, err := wechat.NewCrypto(v.Token, v.EncodingAESKey, v.ReceiveID)
	if err != nil {
		b.Fatal(err)
	}
	// Pre-build distinct encrypted messages so encryption is not measured.
	const n = 4096
	queries, bodies := make([]url.Values, n), make([]string, n)
	for i := range n {
		plain := fmt.Sprintf(`<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1410349438</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[今晚的分享几点开始]]></Content><MsgId>%d</MsgId></xml>`, 6057404712141979648+i)
		enc, err := c.Encrypt([]byte(plain), nil)
		if err != nil {
			b.Fatal(err)
		}
		q := oaPlainQuery(v.Token, v.Timestamp, v.Nonce)
		q.Set("encrypt_type", "aes")
		q.Set("msg_signature", wechat.MsgSignature(v.Token, v.Timestamp, v.Nonce, enc))
		queries[i], bodies[i] = q, safeBody("gh_10f6c3c3ac5a", enc)
	}
	durations := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now() // wallclock: latency of each request
		resp := f.do("POST", "oa-spam", queries[i%n], bodies[i%n], nil)
		durations = append(durations, time.Since(start))
		if resp.StatusCode != 200 {
			b.Fatalf("%d %q", resp.StatusCode, resp.Body)
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	if len(durations) > 0 {
		b.ReportMetric(float64(durations[len(durations)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(durations[len(durations)*99/100].Microseconds()), "p99-µs")
	}
}

// memStores are one memStore in every role.
func memStores(m *memStore) callback.Stores {
	return callback.Stores{Log: m, Followups: m, Sessions: m, Catalog: m, Membership: m, Links: m}
}
