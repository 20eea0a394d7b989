package report_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/report"
)

func sampleReport() qunyun.Report {
	r := qunyun.Report{Date: "2026-11-28", Levels: map[string]int{"exploring": 120, "participating": 48, "contributing": 20, "leading": 3},
		Deliveries: map[string]int{"sent": 40, "skipped": 6, "failed": 1},
		Tags:       []qunyun.TagCount{{Tag: "融资", Score: 12}, {Tag: "优惠", Score: 9}, {Tag: "好物", Score: 7}},
		Leaders: []qunyun.LeaderCandidate{{GroupID: "vip", MemberID: "vip-m01", Name: "张三", Role: qunyun.RoleModerator,
			Why: "适合做管理员：近 28 天解答他人 56 次"}},
		Heat: []qunyun.ContentHeat{{ContentID: "c-menu", Title: "今日菜单", Deliveries: 3, Heat: qunyun.Heat{Opens: 9, Readers: 8, Shares: 2},
			Groups: []qunyun.GroupHeat{{GroupID: "vip", Deliveries: 1, Heat: qunyun.Heat{Opens: 6, Readers: 6, Shares: 1}},
				{GroupID: "", Deliveries: 2, Heat: qunyun.Heat{Opens: 3, Readers: 2, Shares: 1}}}}},
		Skips: map[string]int{qunyun.ReasonQuietHours: 4, qunyun.ReasonCSWindow: 2, qunyun.ReasonSingleHit: 1, "": 1},
		Moderation: []qunyun.ModerationBurst{{GroupID: "noisy", Window: time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC), Hits: 12,
			Signals: map[string]int{qunyun.SignalFlood: 9, qunyun.SignalLink: 3}, Members: []string{"代购小号", "帮忙转发"},
			Cases: []qunyun.BurstCase{{Code: "6SBWYG", Member: "代购小号", Decisions: []qunyun.ModerationDecision{{Action: qunyun.ActionHide, By: "小鱼"}}},
				{Code: "YTJ6Y6", Member: "帮忙转发"}}}},
		Contests: []qunyun.ContestStanding{{ContestID: "ct-1128", Title: "晒晒你的年夜饭", Start: "2026-11-20T00:00:00+08:00", End: "2026-11-30T00:00:00+08:00",
			Entries: []qunyun.ContestEntry{{ContestID: "ct-1128", CommentID: 7, Content: "外婆的红烧肉", Likes: 30, Votes: 12, Rank: 1, Winner: true},
				{ContestID: "ct-1128", CommentID: 9, Content: "一锅饺子", Likes: 10, Rank: 2}}},
			{ContestID: "ct-new", Title: "新活动", Start: "2026-11-28T00:00:00+08:00", End: "2026-12-05T00:00:00+08:00", Entries: []qunyun.ContestEntry{}}},
		Recaps: []qunyun.Recap{{SessionID: "s1", GroupID: "vip", Topic: "融资", KeyPoints: []string{"估值看可比公司"},
			Start: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}}}
	groups := []struct {
		id, name     string
		purpose      qunyun.Purpose
		value, act   float64
		msgs         int
		flags        []string
		noisy        bool
		trendStartAt float64
	}{
		{"shelf", "好物推荐群 <b>", qunyun.PurposeShelf, 96, 0.04, 2, nil, false, 90},
		{"noisy", "闲聊群", qunyun.PurposeGeneral, 9.3, 4.5, 227, []string{qunyun.FlagVolume, qunyun.FlagAds}, true, 12},
		{"vip", "创始人 VIP 群", qunyun.PurposeVIP, 60.2, 0.5, 25, []string{qunyun.FlagRenewal}, false, 70},
		{"dying", "老客户群", qunyun.PurposeGeneral, 0, 0, 0, []string{qunyun.FlagDormant}, false, 40},
	}
	r.Leaders[0].Promote = r.Leaders[0].PromoteCommand()
	for _, g := range groups {
		s := qunyun.GroupScore{GroupID: g.id, Name: g.name, Purpose: g.purpose, Date: r.Date, Value: g.value, Value7: g.value, Value28: g.value,
			Activity: qunyun.Activity{Messages: g.msgs, MessagesPerMember: g.act, Members: 50}, Noisy: g.noisy, Why: "获得感 " + fmt.Sprint(g.value) + " 分"}
		for _, f := range g.flags {
			s.Flags = append(s.Flags, qunyun.Flag{Kind: f, Why: f + " 12/50", Numbers: map[string]float64{"n": 12}})
		}
		r.Groups = append(r.Groups, s)
		for i := range 28 {
			r.Trend = append(r.Trend, qunyun.TrendPoint{GroupID: g.id, Date: fmt.Sprintf("2026-11-%02d", i+1), Value: g.trendStartAt - float64(i)})
		}
	}
	return r
}

func render(t *testing.T, r qunyun.Report) string {
	t.Helper()
	d, err := report.New()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := d.Write(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestPageIsSelfContained(t *testing.T) {
	html := render(t, sampleReport())
	bundle, err := os.ReadFile("assets/echarts.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html, string(bundle)) {
		t.Fatal("ECharts is not embedded whole")
	}
	html = strings.Replace(html, string(bundle), "", 1)
	// No tag may load anything: no src, no href, no url(), no import.
	ext := regexp.MustCompile(`(?i)(<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|<iframe|url\(\s*['"]?https?:|@import)`)
	if m := ext.FindString(html); m != "" {
		t.Fatalf("the page loads something: %q", m)
	}
	if !strings.HasPrefix(html, "<!DOCTYPE html>") {
		t.Fatalf("the page does not start with its doctype: %q", html[:40])
	}
	// A noisy group says what the flag does to its pushes (halve when unset).
	for _, label := range []string{"消息过多", "管理员", "沉睡", "对推送：SOP 内容隔天推送"} {
		if !strings.Contains(html, label) {
			t.Errorf("label %s missing", label)
		}
	}
	if strings.Contains(html, "好物推荐群 <b>") || !strings.Contains(html, "好物推荐群 &lt;b&gt;") {
		t.Fatal("group names are not escaped")
	}
}

// browserServices are the hosts headless Chromium itself calls in the
// background (component updater, network time, account sign-in) even with
// background networking disabled; they are not the page's requests.
var browserServices = regexp.MustCompile(`^(accounts\.google\.com|update\.googleapis\.com|clients2\.google\.com|optimizationguide-pa\.googleapis\.com)(:443)?$`)

// proxy stands in for the network: every connection Chromium opens comes
// here and is dropped; it returns the hosts of the requests the page made.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	hosts []string
}

func newProxy(t *testing.T) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second)) // wallclock: a socket deadline
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			// "GET http://host/path HTTP/1.1" or "CONNECT host:443 HTTP/1.1";
			// a preconnected socket that never sends a request is no request.
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			host := f[1]
			if u, err := url.Parse(f[1]); err == nil && u.Host != "" {
				host = u.Host
			}
			if browserServices.MatchString(host) {
				continue
			}
			p.mu.Lock()
			p.hosts = append(p.hosts, host)
			p.mu.Unlock()
		}
	}()
	return p
}

func (p *proxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.hosts...)
}

// chromium runs headless Chromium on a file with every request sent to px.
func chromium(t *testing.T, browser, dir, file string, px *proxy, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
		"--disable-default-apps", "--disable-extensions", "--disable-domain-reliability", "--no-pings",
		"--disable-client-side-phishing-detection", "--disable-breakpad", "--no-default-browser-check",
		"--disable-features=OptimizationHints,OptimizationGuideModelDownloading,MediaRouter,Translate",
		"--user-data-dir=" + filepath.Join(dir, "profile"),
		"--proxy-server=http://" + px.ln.Addr().String(), "--proxy-bypass-list=<-loopback>",
		"--virtual-time-budget=10000", "--window-size=1400,2600"}, extra...)
	args = append(args, "file://"+file)
	cmd := exec.CommandContext(ctx, browser, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return out
}

func findChromium(t *testing.T) string {
	browser := "/usr/bin/chromium"
	if _, err := os.Stat(browser); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required in CI: %v (apt-get install -y chromium)", err)
		}
		t.Skip("chromium is not installed")
	}
	return browser
}

// TestDashboardDrawsOffline opens the dashboard in headless Chromium with
// every request routed to a local proxy: the page must draw every chart and
// make no request.
func TestDashboardDrawsOffline(t *testing.T) {
	browser := findChromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "dashboard.html")
	html := render(t, sampleReport())
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	px := newProxy(t)
	dom := string(chromium(t, browser, dir, page, px, "--dump-dom"))
	body := regexp.MustCompile(`<body[^>]*>`).FindString(dom)
	for _, c := range report.Charts {
		if !strings.Contains(body, `data-chart-`+c+`="drawn"`) {
			t.Errorf("chart %s did not draw: %s", c, body)
		}
	}
	if !strings.Contains(body, `data-charts="drawn"`) {
		t.Errorf("not every chart finished: %s", body)
	}
	if n := strings.Count(dom, "<canvas"); n < len(report.Charts) {
		t.Errorf("%d canvases, want %d", n, len(report.Charts))
	}
	shot := filepath.Join(dir, "dashboard.png")
	chromium(t, browser, dir, page, px, "--screenshot="+shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Fatalf("screenshot: %v", err)
	}
	if keep := os.Getenv("QUNYUN_DASHBOARD_SHOT"); keep != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(keep, b, 0o644)
		os.WriteFile(strings.TrimSuffix(keep, ".png")+".html", []byte(html), 0o644)
	}
	if hosts := px.requests(); len(hosts) != 0 {
		t.Fatalf("the page made network requests: %q", hosts)
	}
	// The drawn page names groups and purposes, not ids: the leader's and
	// the recap's group, each group's purpose.
	for _, row := range []string{
		`<td>张三</td><td>创始人 VIP 群</td>`,
		`<td>11-25 20:00</td><td>创始人 VIP 群</td><td>融资</td>`,
		`<td>好物推荐群 &lt;b&gt;</td><td>好物群</td>`,
		`<td>创始人 VIP 群</td><td>VIP 核心群</td>`,
	} {
		if !strings.Contains(dom, row) {
			t.Errorf("the drawn page lacks %s", row)
		}
	}
	if strings.Contains(dom, "<td>vip</td>") || strings.Contains(dom, "<td>shelf</td>") {
		t.Error("the drawn page shows a group id or purpose id")
	}
	// Skip reasons, reading heat, contests and leaders read as words an
	// operator knows: the reason's name and why, the content's title and
	// the groups' names, the contest's title, the promote command.
	for _, row := range []string{
		`<tr class="skip"><td>免打扰时段</td><td>在群设定的免打扰时段内，不打扰成员。</td><td class="num">4</td></tr>`,
		`<tr class="skip"><td>客服窗口已关</td>`,
		`<tr class="skip"><td>未注明</td>`,
		`<td>晒晒你的年夜饭</td><td>11-20 至 11-30</td><td>第 1 名（获奖）</td><td>#7 外婆的红烧肉</td><td class="num">42</td>`,
		`<td>新活动</td><td>11-28 至 12-05</td><td colspan="3" class="muted">还没有排名。</td>`,
		`<tr class="heat"><td>今日菜单</td><td class="num">3</td><td class="num">9</td><td class="num">8</td><td class="num">2</td><td>创始人 VIP 群 6 / 1<br>一对一消息 3 / 2<br></td></tr>`,
		`<code>qunyun promote vip-m01 --group vip --to moderator --reason '适合做管理员：近 28 天解答他人 56 次'</code>`,
		`<tr class="skip"><td>无需小结</td>`,
		`<tr class="moderation"><td>11-28 15:00</td><td>闲聊群</td><td class="num">12</td><td>刷屏 ×9<br>链接 ×3<br></td><td>代购小号<br>帮忙转发<br></td>` +
			`<td>6SBWYG（代购小号）：小鱼 撤回<br>YTJ6Y6（帮忙转发）：<span class="muted">未处理</span><br></td></tr>`,
	} {
		if !strings.Contains(dom, row) {
			t.Errorf("the drawn page lacks %s", row)
		}
	}
	for _, id := range []string{"quiet_hours", "cs_window", "ct-1128", "ct-new", "c-menu"} {
		if strings.Contains(dom, "<td>"+id) {
			t.Errorf("the drawn page shows the id %s", id)
		}
	}
}

// TestProxySeesPageRequests proves the offline check can fail: a page that
// loads an image from the network shows up at the proxy.
func TestProxySeesPageRequests(t *testing.T) {
	browser := findChromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "leaky.html")
	os.WriteFile(page, []byte(`<!DOCTYPE html><html><body><img src="http://cdn.example.test/x.png"></body></html>`), 0o644)
	px := newProxy(t)
	chromium(t, browser, dir, page, px, "--dump-dom")
	if hosts := px.requests(); len(hosts) == 0 || !strings.Contains(strings.Join(hosts, " "), "cdn.example.test") {
		t.Fatalf("the proxy did not see the page's request: %q", hosts)
	}
}
