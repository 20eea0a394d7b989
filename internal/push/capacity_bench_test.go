package push_test

import (
	"fmt"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// BenchmarkCapacityOpenTasks: minute ticks while 100, 500 or 1,000 WeCom
// customer-group tasks wait for their owners (made by one plan slot at 11:00; nobody
// confirms, no quiet hours, nothing else due). Issue #17 asks that a tick
// read in proportion to the tasks due for polling (each is polled every
// ten minutes, on its own minute), not to the tasks open. It reports the
// DynamoDB requests and RRU per tick and per task polled; RRU-x-polled is
// the RRU per tick over the tasks it polled (1 or less: reads follow the
// polls). One iteration is one minute, from 11:01.
//
//	go test -run '^$' -bench CapacityOpenTasks -benchtime 60x ./internal/push
func BenchmarkCapacityOpenTasks(b *testing.B) {
	for _, tasks := range []int{100, 500, 1000} {
		b.Run(fmt.Sprintf("tasks=%d", tasks), func(b *testing.B) { benchOpenTasks(b, tasks) })
	}
}

func benchOpenTasks(b *testing.B, tasks int) {
	e := newEnv(b, local(2026, 11, 23, 11, 0))
	manyGroups(b, e, tasks, func(g *qunyun.Group) {
		g.Caps = qunyun.Caps{QuietStart: "00:00", QuietEnd: "00:00", DailyMax: 100}
	})
	e.put(qunyun.Content{ID: "c", Kind: qunyun.ContentText, Text: "{{.Group.Name}} 你好"})
	e.put(qunyun.Plan{ID: "p", Contents: []string{"c"}, Cron: "0 11 * * ? *"})
	e.svc.Workers = 64
	if rep := e.tick(local(2026, 11, 23, 11, 0)); rep.Tasks != tasks {
		b.Fatalf("%d tasks, want %d", rep.Tasks, tasks)
	}
	meter := dynamotest.MeterTable(e.tb)
	polls := func() int { return len(e.sbx.Calls("/cgi-bin/externalcontact/get_groupmsg_send_result")) }
	polled0 := polls()
	ticks := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		e.tick(local(2026, 11, 23, 11, 1+i))
		ticks++
	}
	b.StopTimer()
	u, polled := meter.Usage(), polls()-polled0
	b.ReportMetric(float64(u.Requests)/float64(ticks), "requests/tick")
	b.ReportMetric(u.ReadUnits/float64(ticks), "RRU/tick")
	b.ReportMetric(float64(polled)/float64(ticks), "polled/tick")
	if polled > 0 {
		b.ReportMetric(u.ReadUnits/float64(polled), "RRU-x-polled")
	}
}
