// Package report renders the daily report (qunyun.Report, assembled and
// stored by package scoring) as one self-contained HTML dashboard: ECharts is
// embedded in the file and the data travels inside it as JSON, so the page
// opens offline, from a file, an e-mail attachment or a chat.
//
// The page shows value against activity per group as a quadrant, the value
// trend, noise and health flags, member levels and leader candidates (with
// the command that promotes each), top tags, session recaps, delivery
// outcomes with the reasons deliveries were skipped, reading heat per
// content, the standings of the week's comment contests and the week's
// moderation alerts with what moderators decided. Each chart sets a
// data-chart-<name>="drawn" attribute on <body> once ECharts has finished
// drawing it (and data-charts="drawn" when all have), which the headless
// browser test checks.
//
// It must not read the table or compute any score: it only presents a
// Report. Its user-facing text lives in dashboard.html.
package report

// ECharts comes from the version pinned in infra/package-lock.json, a dev
// dependency that `make` does not install: run `npm ci --prefix infra` (with
// dev dependencies), then `go generate ./internal/report`.
//
//go:generate sh -c "cp ../../infra/node_modules/echarts/dist/echarts.min.js assets/echarts.min.js && cp ../../infra/node_modules/echarts/LICENSE assets/ECHARTS-LICENSE"

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

//go:embed assets/echarts.min.js
var echartsJS string

//go:embed dashboard.html
var dashboardHTML string

// Charts names every chart the dashboard draws, in page order.
var Charts = []string{"quadrant", "trend", "flags", "levels", "tags", "deliveries"}

// Dashboard renders reports. Create it with New.
type Dashboard struct {
	tpl *template.Template
}

// New compiles the embedded page template. Its "group" function is set
// per page (Write), so a row names its group, not the group's id.
func New() (*Dashboard, error) {
	tpl, err := template.New("dashboard").Funcs(template.FuncMap{
		"group": func(id string) string { return id },
		// Report dates are in the default zone (scoring.Night.Report).
		"when": func(t time.Time) string { return t.In(qunyun.LoadLocation("")).Format("01-02 15:04") },
		// Contest windows are stored as RFC 3339 text (qunyun.Contest).
		"day": func(s string) string {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return s
			}
			return t.In(qunyun.LoadLocation("")).Format("01-02")
		},
	}).Parse(dashboardHTML)
	if err != nil {
		return nil, fmt.Errorf("report: dashboard template: %w", err)
	}
	return &Dashboard{tpl: tpl}, nil
}

// page is what the template sees.
type page struct {
	Report  qunyun.Report
	Groups  []qunyun.GroupScore // by value, best first
	Flagged []qunyun.GroupScore
	Skips   []reasonCount // most frequent first
	Data    template.JS   // the chart data as a JSON literal
	ECharts template.JS
}

type reasonCount struct {
	Reason string
	Count  int
}

// chartData is the JSON the page's script turns into charts.
type chartData struct {
	Charts     []string          `json:"charts"`
	Quadrant   []quadrantPoint   `json:"quadrant"`
	Dates      []string          `json:"dates"`
	Trend      map[string][]any  `json:"trend"` // group name → value per date (null when absent)
	Flags      map[string]int    `json:"flags"`
	Levels     map[string]int    `json:"levels"`
	Tags       []qunyun.TagCount `json:"tags"`
	Deliveries map[string]int    `json:"deliveries"`
	Names      map[string]string `json:"names"`
}

type quadrantPoint struct {
	Group    string  `json:"group"`
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Activity float64 `json:"activity"` // messages per member per day
	Messages int     `json:"messages"`
	Noisy    bool    `json:"noisy"`
}

// Write renders r as a self-contained HTML page.
func (d *Dashboard) Write(w io.Writer, r qunyun.Report) error {
	groups := append([]qunyun.GroupScore(nil), r.Groups...)
	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].Value != groups[j].Value {
			return groups[i].Value > groups[j].Value
		}
		return groups[i].GroupID < groups[j].GroupID
	})
	data, flagged := newChartData(r, groups)
	js, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("report %s: chart data: %w", r.Date, err)
	}
	sort.SliceStable(r.Recaps, func(i, j int) bool { return r.Recaps[i].Start.After(r.Recaps[j].Start) })
	p := page{Report: r, Groups: groups, Flagged: flagged, Skips: skipCounts(r.Skips),
		Data: template.JS(js), ECharts: template.JS(echartsJS)}
	tpl, err := d.tpl.Clone()
	if err != nil {
		return fmt.Errorf("report %s: %w", r.Date, err)
	}
	tpl.Funcs(template.FuncMap{"group": func(id string) string {
		if n := data.Names[id]; n != "" {
			return n
		}
		return id
	}})
	if err := tpl.Execute(w, p); err != nil {
		return fmt.Errorf("report %s: render: %w", r.Date, err)
	}
	return nil
}

// newChartData gathers the charts' data from r and its groups, ordered by
// value; flagged are the groups with a flag, in that order.
func newChartData(r qunyun.Report, groups []qunyun.GroupScore) (data chartData, flagged []qunyun.GroupScore) {
	data = chartData{Charts: Charts, Trend: map[string][]any{}, Flags: map[string]int{}, Levels: r.Levels,
		Tags: r.Tags, Deliveries: r.Deliveries, Names: map[string]string{}}
	if data.Levels == nil {
		data.Levels = map[string]int{}
	}
	if data.Deliveries == nil {
		data.Deliveries = map[string]int{}
	}
	if data.Tags == nil {
		data.Tags = []qunyun.TagCount{}
	}
	for _, g := range groups {
		name := g.Name
		if name == "" {
			name = g.GroupID
		}
		data.Names[g.GroupID] = name
		data.Quadrant = append(data.Quadrant, quadrantPoint{Group: g.GroupID, Name: name, Value: g.Value,
			Activity: g.Activity.MessagesPerMember, Messages: g.Activity.Messages, Noisy: g.Noisy})
		for _, f := range g.Flags {
			data.Flags[f.Kind]++
		}
		if len(g.Flags) > 0 {
			flagged = append(flagged, g)
		}
	}
	data.addTrend(r.Trend)
	return data, flagged
}

// addTrend lays the trend points out by group name and date; a date a
// group has no score for stays null.
func (data *chartData) addTrend(trend []qunyun.TrendPoint) {
	dates := map[string]bool{}
	for _, p := range trend {
		dates[p.Date] = true
	}
	for dt := range dates {
		data.Dates = append(data.Dates, dt)
	}
	sort.Strings(data.Dates)
	index := map[string]int{}
	for i, dt := range data.Dates {
		index[dt] = i
	}
	for _, p := range trend {
		name := data.Names[p.GroupID]
		if name == "" {
			name = p.GroupID
		}
		if data.Trend[name] == nil {
			data.Trend[name] = make([]any, len(data.Dates))
		}
		data.Trend[name][index[p.Date]] = p.Value
	}
}

// skipCounts lists the skip reasons, most frequent first.
func skipCounts(skips map[string]int) []reasonCount {
	var out []reasonCount
	for reason, c := range skips {
		out = append(out, reasonCount{reason, c})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Reason < out[j].Reason
	})
	return out
}
