package moderation

import (
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Message is what moderation looks at: the kind, the text and any URL,
// and the group (for its allow-list).
type Message struct {
	Group string
	Kind  qunyun.MessageKind
	Text  string
	URL   string
}

// Checker turns a message into moderation signals (qunyun.Signal*).
type Checker struct {
	Sensitive *Matcher
	// QRWords and MiniProgramWords mark text that invites a scan or opens
	// a mini program; they come from the same config as the sensitive list.
	QRWords          *Matcher
	MiniProgramWords *Matcher
	// Allowed are the domains and phrases moderators marked fine: a link
	// whose every domain is allowed is no signal, nor is an allowed word.
	Allowed map[Allowance]bool
}

// Allowance lets one domain or phrase pass in a group, or in every group
// of the account (Group "").
type Allowance struct {
	Group string
	Kind  string // AllowDomain or AllowPhrase
	Value string
}

// Kinds of Allowance.
const (
	AllowDomain = "domain"
	AllowPhrase = "phrase"
)

// NewChecker builds the checker of an account's rules and allow-list.
func NewChecker(r qunyun.ModerationRules, allowed []Allowance) *Checker {
	c := &Checker{
		Sensitive:        NewMatcher(r.SensitiveWords),
		QRWords:          NewMatcher(r.QRWords),
		MiniProgramWords: NewMatcher(r.MiniProgramWords),
		Allowed:          map[Allowance]bool{},
	}
	for _, d := range r.AllowDomains {
		c.Allowed[Allowance{Kind: AllowDomain, Value: strings.ToLower(d)}] = true
	}
	for _, p := range r.AllowPhrases {
		c.Allowed[Allowance{Kind: AllowPhrase, Value: p}] = true
	}
	for _, a := range allowed {
		c.Allowed[a] = true
	}
	return c
}

// allows reports whether kind/value passes in group.
func (c *Checker) allows(group, kind, value string) bool {
	return c.Allowed[Allowance{Group: group, Kind: kind, Value: value}] || c.Allowed[Allowance{Kind: kind, Value: value}]
}

// find returns the words of m in text that are not allowed in group.
func (c *Checker) find(m *Matcher, group, text string) []string {
	words := m.Find(text)
	return slices.DeleteFunc(words, func(w string) bool { return c.allows(group, AllowPhrase, w) })
}

var (
	// urlPattern finds explicit links and bare domains with a common TLD;
	// members paste "xx.com/abc" without a scheme to slip past filters.
	urlPattern = regexp.MustCompile(`(?i)(https?://|www\.)\S+|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|cn|net|org|cc|top|xyz|io|me|vip|link|site|shop)\b`)
	// qrURLPattern finds WeChat QR and group-invite links.
	qrURLPattern = regexp.MustCompile(`(?i)(weixin\.qq\.com/(q|g)/|u\.wechat\.com/|work\.weixin\.qq\.com/(ca|gm)/)`)
)

// Signals returns the signals of m, sorted as the qunyun.Signal* constants
// are listed, without flood (see Flood). Sensitive words found are returned
// separately so the alert can quote them.
func (c *Checker) Signals(m Message) (signals []string, words []string) {
	text := m.Text + " " + m.URL
	add := func(s string) {
		for _, have := range signals {
			if have == s {
				return
			}
		}
		signals = append(signals, s)
	}
	// Links to domains the moderators allowed are no signal: neither as a
	// link nor as a QR invite (the moderator saw that domain and chose).
	domains := Domains(text)
	allowedLinks := len(domains) > 0 && !slices.ContainsFunc(domains, func(d string) bool { return !c.allows(m.Group, AllowDomain, d) })
	switch m.Kind {
	case qunyun.KindLink:
		if !allowedLinks {
			add(qunyun.SignalLink)
		}
	case qunyun.KindMiniProgram:
		add(qunyun.SignalMiniProgram)
	case qunyun.KindCard:
		add(qunyun.SignalCard)
	}
	if urlPattern.MatchString(text) && !allowedLinks {
		add(qunyun.SignalLink)
	}
	if (qrURLPattern.MatchString(text) && !allowedLinks) || len(c.find(c.QRWords, m.Group, text)) > 0 {
		add(qunyun.SignalQRCode)
	}
	if len(c.find(c.MiniProgramWords, m.Group, text)) > 0 {
		add(qunyun.SignalMiniProgram)
	}
	if words = c.find(c.Sensitive, m.Group, m.Text); len(words) > 0 {
		add(qunyun.SignalSensitive)
	}
	return signals, words
}

// Flood counts each member's messages in a sliding window and reports a
// burst: more than Max messages within Window. The zero value is unusable;
// use NewFlood.
type Flood struct {
	Max    int
	Window time.Duration

	mu     sync.Mutex
	recent map[string][]sent
	swept  time.Time
}

type sent struct {
	id string
	at time.Time
}

// NewFlood returns a counter that flags more than max messages in window.
func NewFlood(max int, window time.Duration) *Flood {
	return &Flood{Max: max, Window: window, recent: map[string][]sent{}}
}

// Add records message id of member in group at t and reports whether it is
// part of a flood. Only the burst's messages beyond Max are flagged, so one
// alert names the burst rather than every normal message before it. A
// message id seen before (a retry) is not counted again.
func (f *Flood) Add(group, member, id string, t time.Time) bool {
	key := group + "\x00" + member
	f.mu.Lock()
	defer f.mu.Unlock()
	cut := t.Add(-f.Window)
	times := f.recent[key]
	i := 0
	for i < len(times) && !times[i].at.After(cut) {
		i++
	}
	times = times[i:]
	seen := false
	for _, s := range times {
		if s.id == id {
			seen = true
		}
	}
	if !seen {
		times = append(times, sent{id, t})
	}
	f.recent[key] = times
	// Forget quiet members now and then, so memory follows the active set.
	if t.Sub(f.swept) > f.Window*10 {
		for k, ts := range f.recent {
			if len(ts) == 0 || !ts[len(ts)-1].at.After(cut) {
				delete(f.recent, k)
			}
		}
		f.swept = t
	}
	return len(times) > f.Max
}

// schemePattern is the scheme Defang breaks.
var schemePattern = regexp.MustCompile(`(?i)^http(s?)://`)

// Defang breaks every link in text (what Signals counts as one: a URL, or a
// bare domain with a common TLD) so WeChat shows it as text rather than a
// link, while the reader still sees the real domain: "https://spam.example/x"
// becomes "hxxps://spam[.]example/x" and "spam.com/x" "spam[.]com/x".
// WeChat links only a dotted host, and "[.]" is not one. Use it wherever
// Qunyun quotes what a member wrote or chose (a message, a nickname, a
// group name) in a message of its own: members' links must not be made
// clickable by us, nor turned into our tracked links.
func Defang(text string) string {
	return urlPattern.ReplaceAllStringFunc(text, func(link string) string {
		return strings.ReplaceAll(schemePattern.ReplaceAllString(link, "hxxp$1://"), ".", "[.]")
	})
}

// Excerpt shortens text for an alert: at most n runes, on one line.
func Excerpt(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	return string(r[:n]) + "…"
}
