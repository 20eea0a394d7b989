package community

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/awscron"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// checker collects the semantic problems the schema cannot express:
// references between sections, duplicate ids, cron expressions, time zones,
// times and ranges.
type checker struct {
	ix       *index
	problems Problems

	accounts map[string]bool
	kinds    map[string]qunyun.Channel // account id → kind
	groups   map[string]bool
	contents map[string]bool
	hosts    map[string]bool
}

func check(ix *index, f *File) Problems {
	c := &checker{ix: ix}
	c.accounts = c.ids("accounts", len(f.Accounts), func(i int) string { return f.Accounts[i].ID })
	c.kinds = map[string]qunyun.Channel{}
	for _, a := range f.Accounts {
		c.kinds[a.ID] = a.Kind
	}
	c.groups = c.ids("groups", len(f.Groups), func(i int) string { return f.Groups[i].ID })
	c.contents = c.ids("contents", len(f.Contents), func(i int) string { return f.Contents[i].ID })
	c.hosts = c.ids("hosts", len(f.Hosts), func(i int) string { return f.Hosts[i].ID })
	c.ids("plans", len(f.Plans), func(i int) string { return f.Plans[i].ID })
	c.ids("contests", len(f.Contests), func(i int) string { return f.Contests[i].ID })
	c.ids("keywordRules", len(f.KeywordRules), func(i int) string { return f.KeywordRules[i].AccountID + "/" + f.KeywordRules[i].ID })
	c.ids("checkinRules", len(f.CheckinRules), func(i int) string { return f.CheckinRules[i].AccountID + "/" + f.CheckinRules[i].ID })
	c.ids("moderation", len(f.Moderation), func(i int) string { return f.Moderation[i].AccountID })
	c.ids("texts", len(f.Texts), func(i int) string { return f.Texts[i].AccountID })

	c.timeZone(f.Defaults.TimeZone, "defaults", "timeZone")
	c.caps(f.Defaults.Caps, "defaults", "caps")
	robots := map[string]int{} // account/webhook → the group that has it
	for i, g := range f.Groups {
		c.group(g, "groups", strconv.Itoa(i))
		if g.Webhook == "" {
			continue
		}
		at := []string{"groups", strconv.Itoa(i), "webhook"}
		if k, ok := c.kinds[g.AccountID]; ok && k != qunyun.ChannelWeComBot {
			c.add(fmt.Sprintf("account %q is %s; a group robot's webhook belongs to a group of a wecom-bot account", g.AccountID, k), at...)
		}
		// A robot posts into the one group it was added to.
		key := g.AccountID + "/" + g.Webhook
		if first, dup := robots[key]; dup {
			c.add(fmt.Sprintf("webhook %q is already group %s's (groups[%d]); expected each group its own robot", g.Webhook, f.Groups[first].ID, first), at...)
			continue
		}
		robots[key] = i
	}
	for i, ct := range f.Contents {
		c.content(ct, "contents", strconv.Itoa(i))
	}
	for i, p := range f.Plans {
		c.plan(p, "plans", strconv.Itoa(i))
	}
	for i, h := range f.Hosts {
		c.host(h, "hosts", strconv.Itoa(i))
	}
	c.sessions(f.Sessions)
	for i, r := range f.KeywordRules {
		at := []string{"keywordRules", strconv.Itoa(i)}
		c.account(r.AccountID, append(at, "account")...)
		c.groupRefs(r.Groups, append(at, "groups")...)
	}
	for i, r := range f.CheckinRules {
		at := []string{"checkinRules", strconv.Itoa(i)}
		c.account(r.AccountID, append(at, "account")...)
		c.groupRefs(r.Groups, append(at, "groups")...)
		if r.RewardEvery > 0 && r.Reward == "" {
			c.add("rewardEvery is set but reward is empty; expected the reward text", append(at, "reward")...)
		}
	}
	for i, ct := range f.Contests {
		at := []string{"contests", strconv.Itoa(i)}
		c.account(ct.AccountID, append(at, "account")...)
		if k, ok := c.kinds[ct.AccountID]; ok && k != qunyun.ChannelOA {
			c.add(fmt.Sprintf("account %q is %s; contests run on Official Account comments, expected an oa account", ct.AccountID, k), append(at, "account")...)
		}
		c.timeRange(ct.Start, ct.End, at...)
	}
	for i, r := range f.Moderation {
		c.account(r.AccountID, "moderation", strconv.Itoa(i), "account")
	}
	for i, x := range f.Texts {
		c.texts(x, "texts", strconv.Itoa(i))
	}
	c.staff(f)
	c.membersFile(f)
	sortProblems(c.problems)
	return c.problems
}

func (c *checker) add(msg string, tokens ...string) {
	c.problems = append(c.problems, c.ix.problem(msg, tokens...))
}

// ids collects a section's ids, reporting duplicates at the second one.
func (c *checker) ids(section string, n int, id func(int) string) map[string]bool {
	seen := make(map[string]int, n)
	for i := 0; i < n; i++ {
		v := id(i)
		if first, dup := seen[v]; dup {
			c.add(fmt.Sprintf("duplicate id %q (first at %s[%d]); expected every id in %s to be unique", v, section, first, section),
				section, strconv.Itoa(i), "id")
			continue
		}
		seen[v] = i
	}
	out := make(map[string]bool, len(seen))
	for v := range seen {
		out[v] = true
	}
	return out
}

func (c *checker) account(id string, tokens ...string) {
	if id != "" && !c.accounts[id] {
		c.add(fmt.Sprintf("unknown account %q; expected one of the ids under accounts (%s)", id, keys(c.accounts)), tokens...)
	}
}

func (c *checker) groupRefs(ids []string, tokens ...string) {
	for i, id := range ids {
		if !c.groups[id] {
			c.add(fmt.Sprintf("unknown group %q; expected a group id defined under groups", id), append(tokens, strconv.Itoa(i))...)
		}
	}
}

func (c *checker) contentRef(id string, tokens ...string) {
	if !c.contents[id] {
		c.add(fmt.Sprintf("unknown content %q; expected a content id defined under contents", id), tokens...)
	}
}

func (c *checker) timeZone(tz string, tokens ...string) {
	if tz == "" {
		return
	}
	if _, err := time.LoadLocation(tz); err != nil {
		c.add(fmt.Sprintf("unknown time zone %q; expected an IANA name such as Asia/Shanghai", tz), tokens...)
	}
}

func (c *checker) caps(cp qunyun.Caps, tokens ...string) {
	if (cp.QuietStart == "") != (cp.QuietEnd == "") {
		c.add("quiet hours need both quietStart and quietEnd (e.g. 22:00 and 08:00)", tokens...)
	}
	if cp.QuietStart != "" && cp.QuietStart == cp.QuietEnd {
		c.add("quietStart equals quietEnd; expected a window such as 22:00 to 08:00", append(tokens, "quietEnd")...)
	}
}

func (c *checker) group(g GroupSpec, tokens ...string) {
	at := func(field string) []string { return append(append([]string(nil), tokens...), field) }
	c.account(g.AccountID, at("account")...)
	if k, ok := c.kinds[g.AccountID]; ok && k == qunyun.ChannelOA {
		c.add(fmt.Sprintf("account %q is an Official Account, which has no groups; expected a wecom, wecom-bot or relay account", g.AccountID), at("account")...)
	}
	c.timeZone(g.TimeZone, at("timeZone")...)
	c.caps(g.Caps, at("caps")...)
	switch lc := g.Lifecycle; lc.Kind {
	case "popup":
		if lc.PopupMinutes == 0 {
			c.add("a popup group needs popupMinutes (e.g. 10)", at("lifecycle")...)
		}
		if lc.RenewOn != "" {
			c.add("renewOn is for yearly groups; a popup group expires after popupMinutes", append(at("lifecycle"), "renewOn")...)
		}
	case "yearly":
		if lc.RenewOn == "" {
			c.add("a yearly group needs renewOn (MM-DD, e.g. 01-15)", at("lifecycle")...)
		} else if _, err := time.Parse("2006-01-02", "2024-"+lc.RenewOn); err != nil {
			c.add(fmt.Sprintf("renewOn %q is not a calendar day; expected MM-DD", lc.RenewOn), append(at("lifecycle"), "renewOn")...)
		}
		if lc.PopupMinutes != 0 {
			c.add("popupMinutes is for popup groups", append(at("lifecycle"), "popupMinutes")...)
		}
	case "created":
		if lc.PopupMinutes != 0 || lc.RenewOn != "" {
			c.add("a created group takes neither renewOn nor popupMinutes; expected kind yearly or popup", at("lifecycle")...)
		}
	}
	if g.Purpose == qunyun.PurposeResourcePopup && g.Lifecycle.Kind != "popup" {
		c.add("a resource-popup group dissolves after minutes; expected lifecycle {kind: popup, popupMinutes: N}", at("purpose")...)
	}
}

func (c *checker) content(ct qunyun.Content, tokens ...string) {
	need := func(field, v string) {
		if v == "" {
			c.add(fmt.Sprintf("a %s content needs %s", ct.Kind, field), tokens...)
		}
	}
	switch ct.Kind {
	case qunyun.ContentText:
		need("text", ct.Text)
	case qunyun.ContentLink:
		need("title", ct.Title)
		need("url", ct.URL)
	case qunyun.ContentImage:
		if ct.MediaID == "" && ct.PicURL == "" {
			c.add("an image content needs mediaId or picUrl", tokens...)
		}
	case qunyun.ContentMiniProgram:
		need("appId", ct.AppID)
		need("pagePath", ct.PagePath)
		need("title", ct.Title)
	}
}

func (c *checker) plan(p PlanSpec, tokens ...string) {
	at := func(field ...string) []string { return append(append([]string(nil), tokens...), field...) }
	if p.Cron == "" && len(p.Journey) == 0 {
		c.add("a plan needs a cron schedule or journey steps", tokens...)
	}
	if p.Cron != "" {
		if e, err := awscron.Parse(cronExpr(p.Cron)); err != nil {
			c.add(fmt.Sprintf("bad cron: %v", err), at("cron")...)
		} else if e.IsRate() {
			c.add("plans take cron(...), not rate(...): slots are local times in each group's time zone", at("cron")...)
		}
		if len(p.Contents) == 0 && len(p.ContentTags) == 0 {
			c.add("a scheduled plan needs contents or contentTags (rotated one per slot)", tokens...)
		}
	}
	for i, id := range p.Contents {
		c.contentRef(id, at("contents", strconv.Itoa(i))...)
	}
	for i, s := range p.Journey {
		c.contentRef(s.Content, at("journey", strconv.Itoa(i), "content")...)
	}
	c.groupRefs(p.Select.Groups, at("select", "groups")...)
	if p.Select.MaxSize > 0 && p.Select.MinSize > p.Select.MaxSize {
		c.add("minSize is above maxSize", at("select", "minSize")...)
	}
	if p.Select.MaxAgeDays > 0 && p.Select.MinAgeDays > p.Select.MaxAgeDays {
		c.add("minAgeDays is above maxAgeDays", at("select", "minAgeDays")...)
	}
	c.timeRange(p.Start, p.End, tokens...)
}

// timeRange checks optional RFC 3339 start and end fields of the object at
// tokens and that start comes before end.
func (c *checker) timeRange(start, end string, tokens ...string) {
	at := func(field string) []string { return append(append([]string(nil), tokens...), field) }
	s, errS := parseTime(start)
	if errS != nil {
		c.add(fmt.Sprintf("%q is not an RFC 3339 time; expected e.g. 2026-11-23T20:00:00+08:00", start), at("start")...)
	}
	e, errE := parseTime(end)
	if errE != nil {
		c.add(fmt.Sprintf("%q is not an RFC 3339 time; expected e.g. 2026-12-31T23:59:00+08:00", end), at("end")...)
	}
	if errS == nil && errE == nil && !s.IsZero() && !e.IsZero() && !s.Before(e) {
		c.add("end is not after start", at("end")...)
	}
}

func (c *checker) host(h qunyun.Host, tokens ...string) {
	at := func(field ...string) []string { return append(append([]string(nil), tokens...), field...) }
	c.timeZone(h.TimeZone, at("timeZone")...)
	for i, w := range h.Availability {
		if w.Start >= w.End {
			c.add(fmt.Sprintf("window %s %s-%s ends before it starts; expected start < end on the same day", w.Day, w.Start, w.End),
				at("availability", strconv.Itoa(i), "end")...)
		}
	}
	for i, e := range h.Exceptions {
		from, err1 := time.Parse(time.DateOnly, e.From)
		to, err2 := time.Parse(time.DateOnly, e.To)
		switch {
		case err1 != nil:
			c.add(fmt.Sprintf("%q is not a date; expected YYYY-MM-DD", e.From), at("exceptions", strconv.Itoa(i), "from")...)
		case err2 != nil:
			c.add(fmt.Sprintf("%q is not a date; expected YYYY-MM-DD", e.To), at("exceptions", strconv.Itoa(i), "to")...)
		case to.Before(from):
			c.add("to is before from", at("exceptions", strconv.Itoa(i), "to")...)
		}
	}
	c.groupRefs(h.Groups, at("groups")...)
}

func (c *checker) sessions(s SessionsSpec) {
	seen := map[string]int{}
	for i, t := range s.Targets {
		at := []string{"sessions", "targets", strconv.Itoa(i)}
		if (t.GroupID == "") == (t.Tier == "") {
			c.add("a session target names exactly one of group and tier", at...)
			continue
		}
		if t.GroupID != "" && !c.groups[t.GroupID] {
			c.add(fmt.Sprintf("unknown group %q; expected a group id defined under groups", t.GroupID), append(at, "group")...)
		}
		if first, dup := seen[t.Key()]; dup {
			c.add(fmt.Sprintf("a second target for %s (first at sessions.targets[%d])", t.Key(), first), at...)
		}
		seen[t.Key()] = i
	}
	lo, hi := s.minutes()
	if lo > hi {
		c.add(fmt.Sprintf("minMinutes %d is above maxMinutes %d", lo, hi), "sessions", "minMinutes")
	}
	for i, t := range s.Targets {
		if m := t.SessionMinutes(); m < lo || m > hi {
			c.add(fmt.Sprintf("%d-minute sessions; expected %d–%d (sessions.minMinutes/maxMinutes widen it)", m, lo, hi), "sessions", "targets", strconv.Itoa(i), "minutes")
		}
	}
	ids := map[string]int{}
	for i, m := range s.Manual {
		at := []string{"sessions", "manual", strconv.Itoa(i)}
		if first, dup := ids[m.ID]; dup {
			c.add(fmt.Sprintf("duplicate id %q (first at sessions.manual[%d])", m.ID, first), append(at, "id")...)
		}
		ids[m.ID] = i
		if !c.groups[m.Group] {
			c.add(fmt.Sprintf("unknown group %q; expected a group id defined under groups", m.Group), append(at, "group")...)
		}
		if !c.hosts[m.Host] {
			c.add(fmt.Sprintf("unknown host %q; expected a host id defined under hosts", m.Host), append(at, "host")...)
		}
		if _, err := parseTime(m.Start); err != nil {
			c.add(fmt.Sprintf("%q is not an RFC 3339 time; expected e.g. 2026-11-23T20:00:00+08:00", m.Start), append(at, "start")...)
		}
	}
}

func keys(m map[string]bool) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	if len(out) == 0 {
		return "none declared"
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
