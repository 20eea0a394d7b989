package callback_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// relayCard is a relay message of another kind than text.
func relayCard(id, group, member, kind, text, link string, at time.Time) string {
	b, _ := json.Marshal(map[string]any{"id": id, "type": "message", "group_id": group, "member_id": member,
		"kind": kind, "text": text, "url": link, "time": at.Unix()})
	return string(b)
}

// hits returns the ModerationHit details published, by message id.
func (f *fixture) hits() map[string]callback.ModerationHit {
	f.t.Helper()
	out := map[string]callback.ModerationHit{}
	f.bus.mu.Lock()
	defer f.bus.mu.Unlock()
	for _, e := range f.bus.events {
		if e.DetailType == qunyun.EventModerationHit {
			h := e.Detail.(callback.ModerationHit)
			out[h.ID] = h
		}
	}
	return out
}

// Cards a member shares are flagged like text: a mini program and a contact
// card by their kind, a link card by the QR and ads rules on its title and
// URL. Before, a bridge's mini programs and cards fell into "other".
func TestCardsAndMiniProgramsAreFlagged(t *testing.T) {
	f := newFixture(t, nil)
	applyStaff(t, f)
	at := f.clock.Now()
	cases := []struct {
		id, member, kind, text, url string
		want                        []string // nil: not flagged
	}{
		{"mp", "u1", "miniprogram", "限时秒杀", "pages/shop/index", []string{qunyun.SignalMiniProgram}},
		{"weapp", "u1", "weapp", "拼团", "", []string{qunyun.SignalMiniProgram}},
		{"card", "u2", "card", "代购小王", "", []string{qunyun.SignalCard}},
		{"invite", "u3", "link", "进群领资料", "https://weixin.qq.com/g/AbCdEf", []string{qunyun.SignalLink, qunyun.SignalQRCode}},
		{"ads", "u3", "link", "兼职日结 点这里", "https://jobs.example.com/a", []string{qunyun.SignalLink, qunyun.SignalSensitive}},
		{"staff", "mod", "miniprogram", "本周课程报名", "pages/course", nil},
	}
	for _, c := range cases {
		if r := f.relay(relayCard(c.id, "g1", c.member, c.kind, c.text, c.url, at)); r.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.id, r.StatusCode, r.Body)
		}
	}
	hits := f.hits()
	for _, c := range cases {
		h, flagged := hits[c.id]
		switch {
		case c.want == nil && flagged:
			t.Errorf("%s: flagged %v, staff are exempt", c.id, h.Signals)
		case c.want != nil && !slices.Equal(h.Signals, c.want):
			t.Errorf("%s: signals %v, want %v", c.id, h.Signals, c.want)
		}
	}
	if d := hits["ads"].Domains; !slices.Equal(d, []string{"jobs.example.com"}) {
		t.Errorf("ads hit names domains %v, want the link card's", d)
	}
	if w := hits["ads"].Words; !slices.Contains(w, "兼职日结") {
		t.Errorf("ads hit names words %v", w)
	}
}

// moderationYAML gives the relay account its own lists in community.yaml.
const moderationYAML = staffYAML + `
moderation:
  - account: relay
    sensitiveWords: [代购]
    allowDomains: [docs.example.com]
`

// An account moderates by its community.yaml lists, which replace the
// built-in ones (texts.yaml); once the file drops them, by the defaults.
func TestAccountModeratesByItsOwnLists(t *testing.T) {
	f := newFixture(t, nil)
	applyYAML(t, f, moderationYAML, false)
	at := f.clock.Now()
	for _, m := range [][2]string{
		{"own", "海外代购找我"},                                    // the account's word
		{"default", "刷单返现"},                                  // a default word the account's list replaced
		{"allowed", "课件在 https://docs.example.com/a"},        // an allowed domain
		{"other", "课件在 https://elsewhere.example.com/a 快来看"}, // any other link
	} {
		f.relay(relayMessage(m[0], "g1", "u1", m[1], at))
	}
	hits := f.hits()
	if _, ok := hits["own"]; !ok || !slices.Equal(hits["own"].Words, []string{"代购"}) {
		t.Errorf("the account's own word is not flagged: %+v", hits["own"])
	}
	for _, id := range []string{"default", "allowed"} {
		if h, ok := hits[id]; ok {
			t.Errorf("%s flagged %v", id, h.Signals)
		}
	}
	if _, ok := hits["other"]; !ok {
		t.Error("a link to another domain is not flagged")
	}

	// Without lists in the file, the account takes the defaults (once the
	// callback's minute cache has passed).
	applyYAML(t, f, staffYAML, true)
	f.clock.Set(at.Add(2 * time.Minute))
	f.relay(relayMessage("default-again", "g1", "u1", "刷单返现", f.clock.Now()))
	if _, ok := f.hits()["default-again"]; !ok {
		t.Error("an account without lists does not moderate by the defaults")
	}
}
