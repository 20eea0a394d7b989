package push_test

import (
	"testing"
	"time"
)

// BenchmarkIdleTick: a minute tick of the demo community when nothing is
// due (03:00–, Asia/Shanghai), the tick the local stack runs 1,440 times a
// simulated day. It reports the DynamoDB requests one tick makes: dynalite
// is single-threaded, so they decide how fast `qunyun simulate` can go.
func BenchmarkIdleTick(b *testing.B) {
	e := newEnv(b, local(2026, 11, 24, 3, 0))
	demoCatalog(e)
	db := &countingDB{API: e.tb.DB}
	e.tb.DB = db
	m := local(2026, 11, 24, 3, 0)
	ticks := 0
	for b.Loop() {
		e.clk.Set(m)
		if _, err := e.svc.Tick(e.ctx, m); err != nil {
			b.Fatal(err)
		}
		m = m.Add(time.Minute)
		ticks++
	}
	b.ReportMetric(float64(db.n.Load())/float64(ticks), "ddb-requests/tick")
}
