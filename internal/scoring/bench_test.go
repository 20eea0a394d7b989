package scoring_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/scoring"
)

const benchDate = "2026-11-20"

// benchClock stands on the night after benchDate, when it is scored.
func benchClock() *clock.Manual {
	return clock.NewManual(time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC))
}

var benchTexts = []string{"这个融资方案怎么做？", "先准备商业计划书", "今天天气不错", "推荐一篇行业报告", "谢谢分享", "有没有人用过这个工具？"}

// benchMessages makes one group's day of n messages from 40 speakers, a
// tenth of them replies, as the callback records them.
func benchMessages(gid string, n int) []qunyun.Message {
	start, _ := time.ParseInLocation(time.DateOnly, benchDate, shanghai)
	out := make([]qunyun.Message, n)
	for i := range out {
		m := qunyun.Message{ID: fmt.Sprintf("%s-msg-%06d", gid, i), AccountID: "wecom1", Channel: qunyun.ChannelRelay, GroupID: gid,
			MemberID: fmt.Sprintf("%s-m%03d", gid, i%40), Kind: qunyun.KindText, Text: benchTexts[i%len(benchTexts)],
			At: start.Add(time.Duration(i) * (20 * time.Hour) / time.Duration(n)).UTC()}
		if i%10 == 9 {
			m.ReplyTo = out[i-1].ID
		}
		out[i] = m
	}
	return out
}

// seed writes items with BatchWriteItem (the same item shapes as the
// stores write one by one), eight writers at a time.
func seed(tb testing.TB, table *dynamo.Table, items []any) {
	tb.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	batches := make(chan []any)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range batches {
				reqs := make([]types.WriteRequest, 0, len(batch))
				for _, v := range batch {
					it, err := dynamo.Marshal(v)
					if err != nil {
						errs <- err
						return
					}
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
				}
				in := map[string][]types.WriteRequest{table.Name: reqs}
				for len(in) > 0 {
					out, err := table.DB.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: in})
					if err != nil {
						errs <- err
						return
					}
					in = out.UnprocessedItems
				}
			}
		}()
	}
	for i := 0; i < len(items); i += 25 {
		batches <- items[i:min(i+25, len(items))]
	}
	close(batches)
	wg.Wait()
	select {
	case err := <-errs:
		tb.Fatal(err)
	default:
	}
}

type msgItem struct {
	dynamo.Keys
	qunyun.Message
}

type memberItem struct {
	dynamo.Keys
	qunyun.Member
}

// seedGroups writes groups of 50 members with msgs messages each on benchDate.
func seedGroups(b *testing.B, table *dynamo.Table, groups, msgs int) {
	var items []any
	for g := range groups {
		gid := fmt.Sprintf("bench%03d", g)
		if err := (dynamo.Catalog{Table: table}).PutGroup(context.Background(), qunyun.Group{ID: gid, Name: gid, Purpose: qunyun.PurposeGeneral}); err != nil {
			b.Fatal(err)
		}
		for i := range 50 {
			m := qunyun.Member{GroupID: gid, ID: fmt.Sprintf("%s-m%03d", gid, i), Role: qunyun.RoleMember}
			items = append(items, memberItem{dynamo.Keys{PK: "GROUP#" + gid, SK: "MEMBER#" + m.ID, GSI1PK: "MEMBER#" + m.ID,
				GSI1SK: "GROUP#" + gid, Type: "Member"}, m})
		}
		for _, m := range benchMessages(gid, msgs) {
			items = append(items, msgItem{dynamo.MessageKeys(m), m})
		}
	}
	seed(b, table, items)
}

func benchNight(b *testing.B, table *dynamo.Table) *scoring.Night {
	scorer, err := scoring.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	return &scoring.Night{Stores: scoringStores(table), Scorer: scorer, GroupsPerShard: 1 << 20, Now: table.Now}
}

// BenchmarkNight scores a night of 20 groups × 300 messages against
// dynalite: reads, scoring and writes, end to end.
func BenchmarkNight(b *testing.B) {
	const groups, msgs = 20, 300
	table := dynamotest.NewTable(b, benchClock())
	seedGroups(b, table, groups, msgs)
	n := benchNight(b, table)
	b.ResetTimer()
	for b.Loop() {
		if err := n.Shard(context.Background(), qunyun.ScoringShard{Date: benchDate, Shard: 0, Shards: 1}); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(groups/sec, "groups/s")
	b.ReportMetric(groups*msgs/sec, "msgs/s")
}

// BenchmarkGroupDay scores one group-day against dynalite as its messages
// double: the time per message should stay flat (the target is at most
// 2.1× the time for 2× the messages).
func BenchmarkGroupDay(b *testing.B) {
	for _, msgs := range []int{500, 1000, 2000, 4000} {
		b.Run(fmt.Sprintf("msgs=%d", msgs), func(b *testing.B) {
			table := dynamotest.NewTable(b, benchClock())
			seedGroups(b, table, 1, msgs)
			n := benchNight(b, table)
			g, _, err := dynamo.Catalog{Table: table}.Group(context.Background(), "bench000")
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := n.Group(context.Background(), g, benchDate, nil, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(msgs), "ns/msg")
		})
	}
}

// BenchmarkScoreMembers measures the memory scoring needs per 10,000
// members: one group-day of 10,000 members of whom 2,000 spoke 5 times,
// each with 28 days of stored level history.
func BenchmarkScoreMembers(b *testing.B) {
	const members = 10_000
	s, err := scoring.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	d := day(qunyun.PurposeGeneral, members)
	d.Levels = map[string]qunyun.MemberLevel{}
	for i := range members {
		id := fmt.Sprintf("m%03d", i)
		lv := qunyun.MemberLevel{GroupID: "g1", MemberID: id, Level: qunyun.LevelParticipating, Date: "2026-11-19"}
		for k := 1; k <= 27; k++ {
			lv.Days = append(lv.Days, qunyun.MemberDay{Date: d.Start.AddDate(0, 0, -k).Format(time.DateOnly),
				Contributions: qunyun.Contributions{Chats: 2, Reads: 1}, Raw: qunyun.LevelParticipating, Level: qunyun.LevelParticipating})
		}
		d.Levels[id] = lv
	}
	for i := range 10_000 {
		msg(&d, fmt.Sprintf("x%d", i), fmt.Sprintf("m%03d", i%2000), i%1400, benchTexts[i%len(benchTexts)], "")
	}
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var keep scoring.Result
	b.ResetTimer()
	for b.Loop() {
		keep = s.Score(d)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/1e6, "alloc-MB/10k-members")
	if len(keep.Levels) == 0 {
		b.Fatal("no levels")
	}
}

// BenchmarkScoreDay is the scoring alone (no table) as a day's messages
// double, to separate the algorithm's growth from the engine's.
func BenchmarkScoreDay(b *testing.B) {
	s, err := scoring.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, msgs := range []int{1000, 2000, 4000, 8000} {
		b.Run(fmt.Sprintf("msgs=%d", msgs), func(b *testing.B) {
			d := day(qunyun.PurposeGeneral, 200)
			d.Log.Messages = benchMessages("g1", msgs)
			for i := range d.Log.Messages {
				d.Log.Messages[i].MemberID = fmt.Sprintf("m%03d", i%40)
				d.Log.Messages[i].At = d.Start.Add(time.Duration(i) * 20 * time.Hour / time.Duration(msgs))
			}
			b.ReportAllocs()
			for b.Loop() {
				s.Score(d)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(msgs), "ns/msg")
		})
	}
}
