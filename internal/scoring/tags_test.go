package scoring_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/segment"
)

// fillerChat is what members write in every group whatever its topic.
var fillerChat = []string{
	"楼上说得对", "一起加油！", "新来的，报到，请多关照", "同问", "这一周太忙了", "大家好，新来报到",
	"楼上+1", "一起一起", "收到，谢谢分享", "请多关照哈哈", "一周没看群了", "同问，一起等答案",
	"记得看公告", "公告里有说明", // no stop list has 公告: every group saying it is what drops it
}

// topicChat is what one member of each topic group keeps coming back to.
var topicChat = map[string][]string{
	"kj": {"跨境电商的物流怎么选？", "做跨境三年了，跨境收款一直是难题", "跨境独立站和亚马逊哪个好做"},
	"xp": {"选品还是要看数据", "今年选品太难了，爆款都被抄了", "有什么好用的选品工具"},
	"zb": {"直播间的流量怎么来", "直播带货的话术要提前准备", "晚上直播复盘一下"},
	"rz": {"天使轮融资估值多少合适", "融资材料要准备商业计划书", "这轮融资是老股东领投"},
}

// TestTagsNameTopics: with realistic chat in five groups (four topic
// groups and a general one), members' tags name their topics — 跨境, 选品,
// 直播, 融资 — and never the fillers every group writes, whether the stop
// list or the document frequency across groups catches them; the tags are
// written onto the members in the table.
func TestTagsNameTopics(t *testing.T) {
	seg, err := segment.Shared()
	if err != nil {
		t.Fatal(err)
	}
	at := func(h, m int) time.Time {
		return localDay(0).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	groups := []string{"kj", "xp", "zb", "rz", "chat"}
	by, w := oneNight(t, seg, func(w *world) {
		for gi, g := range groups {
			w.group(g, qunyun.PurposeIndustry, 8)
			for i, text := range fillerChat {
				for k := range 2 {
					w.message(g, member(g, (i+k+gi)%6), text, at(9+k, i), "", "")
				}
			}
			for i, text := range topicChat[g] {
				w.message(g, member(g, 7), text, at(14, i), "", "")
			}
		}
	})
	fillers := []string{"楼上", "一起", "一周", "新来", "报到", "请多关照", "同问", "关照", "大家好", "收到", "公告"}
	for _, g := range groups {
		for _, tag := range by[g].Tags {
			if slices.Contains(fillers, tag) {
				t.Errorf("group %s's topics include the filler %q: %v", g, tag, by[g].Tags)
			}
		}
		members, err := dynamo.Catalog{Table: w.table}.Members(t.Context(), g)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			for _, tag := range m.AutoTags {
				for _, f := range fillers {
					if strings.Contains(tag, f) {
						t.Errorf("%s's tags include the filler %q: %v", m.ID, f, m.AutoTags)
					}
				}
			}
		}
	}
	want := map[string]string{"kj": "跨境", "xp": "选品", "zb": "直播", "rz": "融资"}
	for g, topic := range want {
		m, _, err := dynamo.Catalog{Table: w.table}.Member(t.Context(), g, member(g, 7))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: member tags %v, group topics %v", g, m.AutoTags, by[g].Tags)
		if !slices.ContainsFunc(m.AutoTags, func(tag string) bool { return strings.Contains(tag, topic) }) {
			t.Errorf("%s's tags %v do not name %s", m.ID, m.AutoTags, topic)
		}
	}
}
