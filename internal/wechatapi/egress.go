package wechatapi

import (
	"errors"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/metrics"
)

// Errcodes for a caller IP the account does not allow
// (reference/wechat-protocol.md §9). Retrying cannot help: an operator
// must add the IP in the console.
const (
	CodeIPNotWhitelisted = 40164 // OA: not in the account's IP白名单 (seen on the token fetch)
	CodeIPNotTrusted     = 60020 // WeCom: not among the app's 企业可信IP
)

// IPRejected reports whether err is WeChat refusing the caller's IP.
func IPRejected(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Code == CodeIPNotWhitelisted || e.Code == CodeIPNotTrusted)
}

// MetricIPRejected is the metric an alarm in template.yaml watches.
const MetricIPRejected = "EgressIpRejected"

// Where each platform's allow-list is (operator-console.md §4.5).
const (
	consoleOA    = "mp.weixin.qq.com → 设置与开发 → 基本配置 → IP白名单"
	consoleWeCom = "work.weixin.qq.com 管理后台 → 应用管理 → the app → 企业可信IP"
)

// IPAlerts raises the alert for a refused IP: an ERROR log line naming the
// IP to allow-list and the console page, and the metric whose alarm
// (template.yaml) notifies the alarm topic, the path every operational
// alert takes. At most once per app per hour in a process: until an
// operator acts, every call for that app fails the same way, and the
// minute ticks would bury the one line that matters.
type IPAlerts struct {
	// EgressIP is the stack's fixed egress address (EGRESS_IP); "" when it
	// has none, and then the alert says how to get one.
	EgressIP string
	Metrics  *metrics.Emitter
	Log      *slog.Logger     // default slog.Default()
	Every    time.Duration    // default one hour
	Now      func() time.Time // default the wall clock: it paces alerts, it dates nothing

	mu   sync.Mutex
	last map[string]time.Time // app → when it was last alerted
}

// seenIP finds the address WeChat names in errmsg ("from ip: 1.2.3.4",
// "invalid ip 1.2.3.4 ipv6 …").
var seenIP = regexp.MustCompile(`\b(\d{1,3}(?:\.\d{1,3}){3})\b`)

// Observe alerts if err is an IP refusal; app names the token (appKey).
// A nil IPAlerts does nothing.
func (a *IPAlerts) Observe(app string, err error) {
	var e *APIError
	if a == nil || !IPRejected(err) || !errors.As(err, &e) {
		return
	}
	now := time.Now // wallclock: paces alerts, dates nothing
	if a.Now != nil {
		now = a.Now
	}
	every := a.Every
	if every == 0 {
		every = time.Hour
	}
	a.mu.Lock()
	if last, ok := a.last[app]; ok && now().Sub(last) < every {
		a.mu.Unlock()
		return
	}
	if a.last == nil {
		a.last = map[string]time.Time{}
	}
	a.last[app] = now()
	a.mu.Unlock()

	where, list := consoleWeCom, "the app's 企业可信IP"
	if e.Code == CodeIPNotWhitelisted {
		where, list = consoleOA, "the Official Account's IP白名单"
	}
	var seen string
	if m := seenIP.FindStringSubmatch(e.Message); m != nil {
		seen = m[1]
	}
	msg := "WeChat refuses our IP: add " + a.EgressIP + " to " + list + " at " + where
	if a.EgressIP == "" {
		msg = "WeChat refuses our IP, and the stack has no fixed egress: deploy with FixedEgress=true, then add the output EgressIp to " + list + " at " + where
	}
	log := a.Log
	if log == nil {
		log = slog.Default()
	}
	log.Error(msg, "app", app, "errcode", e.Code, "api", e.API, "egressIp", a.EgressIP, "seenIp", seen)
	a.Metrics.Emit(metrics.Metric{Name: MetricIPRejected, Value: 1})
}
