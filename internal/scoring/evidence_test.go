package scoring_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/scoring"
)

// oneNight is a table on a clock standing the night after localDay(0),
// seeded by seed and scored by date through the real stores; it returns
// each group's score by id.
func oneNight(t *testing.T, seg scoring.Segmenter, seed func(w *world)) (map[string]qunyun.GroupScore, *world) {
	t.Helper()
	clk := clock.NewManual(localDay(1).Add(3 * time.Hour))
	table := dynamotest.NewTable(t, clk)
	w := &world{t: t, ctx: t.Context(), table: table, rng: rand.New(rand.NewPCG(1, 2))}
	seed(w)
	scorer, err := scoring.New(seg)
	if err != nil {
		t.Fatal(err)
	}
	n := &scoring.Night{Stores: scoringStores(table), Scorer: scorer, Now: clk.Now}
	if err := n.Run(t.Context(), monthStart); err != nil {
		t.Fatal(err)
	}
	scores, err := dynamo.Scores{Table: table}.ScoresOn(t.Context(), monthStart)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]qunyun.GroupScore{}
	for _, s := range scores {
		by[s.GroupID] = s
	}
	return by, w
}

// group writes a group with an owner and n members (ids member(id, i)).
func (w *world) group(id string, p qunyun.Purpose, n int) {
	w.t.Helper()
	created := localDay(-30).UTC()
	w.must(dynamo.Catalog{Table: w.table}.PutGroup(w.ctx, qunyun.Group{ID: id, Name: id + " 群", AccountID: "wecom1", Purpose: p, CreatedAt: created}))
	w.must(dynamo.Catalog{Table: w.table}.PutMember(w.ctx, qunyun.Member{GroupID: id, ID: id + "-owner", Name: "群主", Role: qunyun.RoleOwner, JoinedAt: created}))
	for i := range n {
		w.must(dynamo.Catalog{Table: w.table}.PutMember(w.ctx, qunyun.Member{GroupID: id, ID: member(id, i), Name: member(id, i), Role: qunyun.RoleMember, JoinedAt: created}))
	}
}

func dimension(s qunyun.GroupScore, name string) qunyun.DimensionScore {
	for _, d := range s.Dimensions {
		if d.Name == name {
			return d
		}
	}
	return qunyun.DimensionScore{}
}

// TestMissingEvidenceCountsZero: a dimension without evidence adds 0, so
// a group whose members did nothing (one unread delivery, no message) is
// not lifted above an active, valuable group by its one dimension taking
// every weight, and a group with evidence on one dimension only ranks
// below one with evidence on several.
func TestMissingEvidenceCountsZero(t *testing.T) {
	at := func(h, m int) time.Time {
		return localDay(0).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	by, _ := oneNight(t, nil, func(w *world) {
		w.must(dynamo.Catalog{Table: w.table}.PutContent(w.ctx, qunyun.Content{ID: "news", Kind: qunyun.ContentLink, Title: "本周行业简报"}))

		// Idle: the owner alone, one delivery nobody opened.
		w.group("idle", qunyun.PurposeGeneral, 0)
		w.deliver("idle", "news", at(9, 0))

		// Active: read, asked and answered, members replying to each other.
		w.group("active", qunyun.PurposeGeneral, 30)
		w.deliver("active", "news", at(9, 0))
		for i := range 8 {
			w.open("active", "news", member("active", i), "", at(9, 10+i))
		}
		for i := range 2 {
			q := w.message("active", member("active", 10+i), "发票怎么开？", at(10+i, 0), "", "")
			w.message("active", member("active", 20+i), "在后台申请就行", at(10+i, 5), "", q)
		}

		// One dimension: everybody read, nobody said or got anything else.
		w.group("reader", qunyun.PurposeGeneral, 30)
		w.deliver("reader", "news", at(9, 0))
		for i := range 30 {
			w.open("reader", "news", member("reader", i), "", at(9, 10+i))
		}
	})
	idle, active, reader := by["idle"], by["active"], by["reader"]
	for _, s := range []qunyun.GroupScore{idle, active, reader} {
		t.Logf("%-6s value %5.1f | %s", s.GroupID, s.Value, s.Why)
	}
	if idle.Value != 0 {
		t.Errorf("idle group scored %v, want 0: %+v", idle.Value, idle.Dimensions)
	}
	if !(idle.Value < reader.Value && reader.Value < active.Value) {
		t.Fatalf("order idle %v < one dimension %v < active %v does not hold", idle.Value, reader.Value, active.Value)
	}
	// Information is the reader group's only evidence: it can give no more
	// than that dimension's weight, however full.
	info := dimension(reader, qunyun.DimensionInformation)
	if info.Score != 100 || reader.Value != round1(100*info.Weight) {
		t.Errorf("one full dimension of weight %v gives %v, want %v", info.Weight, reader.Value, 100*info.Weight)
	}
	for _, name := range []string{qunyun.DimensionAnswers, qunyun.DimensionConnections, qunyun.DimensionBenefits} {
		d := dimension(idle, name)
		if d.Evidence || d.Score != 0 || !strings.Contains(d.Why, "无依据") {
			t.Errorf("idle %s = %+v, want no evidence, 0, said so", name, d)
		}
	}
	// The unread delivery is evidence of nothing given: information 0.
	if d := dimension(idle, qunyun.DimensionInformation); d.Score != 0 || d.Numbers["sent"] != 1 {
		t.Errorf("idle information = %+v, want 0 with the delivery in its numbers", d)
	}
	if d := dimension(active, qunyun.DimensionBenefits); d.Evidence || !strings.Contains(d.Why, "无依据") {
		t.Errorf("active benefits = %+v, want marked without evidence", d)
	}
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
