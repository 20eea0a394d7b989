package scoring

import (
	"math"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// The noise rules (reference/community-anchors.md §4.1, §5).
const (
	// A chat group of 50 is healthy at 30–80 messages a day
	// (community-anchors.md §5): above 80 it is noise.
	baseMessages = 80.0
	baseMembers  = 50.0
	// concentrationShare is Discourse's "dominating" threshold.
	concentrationShare = 0.40
	minSample          = 10   // messages before a share means anything
	adsShare           = 0.10 // ads and spam above a tenth of the messages
	minAds             = 3
	pushLeavesMin      = 2
	pushLeavesShare    = 0.02
	dormantDays        = 14
	dormantValue       = 5.0 // below this a day gave members nothing
	renewalNoticeDays  = 30
)

// VolumeFactor stretches the message limit by purpose: a fan group may be
// lively, a shelf group should be quiet.
var VolumeFactor = map[qunyun.Purpose]float64{
	qunyun.PurposeShelf:         0.5,
	qunyun.PurposeResourcePopup: 2,
	qunyun.PurposeFan:           1.5,
	qunyun.PurposeLearning:      1,
	qunyun.PurposePunchCard:     1,
	qunyun.PurposeIndustry:      1,
	qunyun.PurposeVIP:           1,
	qunyun.PurposeGeneral:       1,
}

// MessageLimit is how many messages a day a group of this size and purpose
// carries before it is noise: the top of the healthy 30–80 for a chat
// group of 50, growing with the square root of size, because in a bigger
// group a smaller share speaks (500 members: 253, where 100 is "normal"
// and over 200 with most members speaking is flooding). Groups smaller
// than 10 count as 10.
func MessageLimit(p qunyun.Purpose, members int) float64 {
	m := math.Max(10, float64(members))
	factor := VolumeFactor[p]
	if factor == 0 {
		factor = 1
	}
	return math.Round(baseMessages * math.Sqrt(m/baseMembers) * factor)
}

func (s *Scorer) flags(d GroupDay, f *facts, value float64) []qunyun.Flag {
	var out []qunyun.Flag
	add := func(kind string, numbers map[string]float64, strs map[string]string) {
		out = append(out, qunyun.Flag{Kind: kind, Numbers: numbers, Why: render(s.texts.flags[kind], numbers, strs)})
	}
	p := purposeOf(d.Group)
	msgs := float64(f.activity.Messages)
	if limit := MessageLimit(p, f.members); msgs > limit {
		add(qunyun.FlagVolume, map[string]float64{"messages": msgs, "members": float64(f.members),
			"perMember": round1(msgs / float64(f.members)), "limit": limit}, nil)
	}
	if f.activity.Messages >= minSample {
		if share := float64(f.topSpeaker) / msgs; share >= concentrationShare {
			add(qunyun.FlagConcentration, map[string]float64{"top": float64(f.topSpeaker), "messages": msgs, "share": round3(share)}, nil)
		}
	}
	if f.activity.Messages > 0 && f.ads >= minAds {
		if share := float64(f.ads) / msgs; share >= adsShare {
			add(qunyun.FlagAds, map[string]float64{"ads": float64(f.ads), "messages": msgs, "share": round3(share)}, nil)
		}
	}
	if f.pushLeaves >= pushLeavesMin && float64(f.pushLeaves) >= pushLeavesShare*float64(f.members) {
		add(qunyun.FlagPushLeaves, map[string]float64{"leaves": float64(f.pushLeaves), "pushes": float64(f.pushes), "members": float64(f.members)}, nil)
	}
	if n, top, ok := dormant(d.History, d.Date, value); ok {
		add(qunyun.FlagDormant, map[string]float64{"days": float64(n), "threshold": dormantValue, "max": top}, nil)
	}
	lc := d.Group.Lifecycle
	switch lc.Kind {
	case "yearly":
		if days, ok := daysToRenewal(lc.RenewOn, d.Date); ok && days <= renewalNoticeDays {
			add(qunyun.FlagRenewal, map[string]float64{"days": float64(days)}, map[string]string{"renewOn": lc.RenewOn})
		}
	case "popup":
		if lc.PopupMinutes > 0 && !d.Group.CreatedAt.IsZero() && d.Group.State != qunyun.GroupDismissed {
			over := d.End.Sub(d.Group.CreatedAt.Add(time.Duration(lc.PopupMinutes) * time.Minute)).Minutes()
			if over > 0 {
				add(qunyun.FlagPopupExpired, map[string]float64{"popupMinutes": float64(lc.PopupMinutes), "overMinutes": math.Round(over)}, nil)
			}
		}
	}
	return out
}

// dormant reports whether today and the 13 days before it all gave less
// than dormantValue; a group younger than 14 scored days is not judged.
func dormant(history []qunyun.GroupScore, date string, today float64) (days int, top float64, ok bool) {
	if today >= dormantValue {
		return 0, 0, false
	}
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return 0, 0, false
	}
	seen := map[string]bool{}
	top = today
	for _, h := range history {
		hd, err := time.Parse(time.DateOnly, h.Date)
		if err != nil || !hd.Before(day) || day.Sub(hd) >= dormantDays*24*time.Hour {
			continue
		}
		if h.Value >= dormantValue {
			return 0, 0, false
		}
		seen[h.Date] = true
		top = math.Max(top, h.Value)
	}
	if len(seen) < dormantDays-1 {
		return 0, 0, false
	}
	return dormantDays, top, true
}

// daysToRenewal counts the days from date to the next MM-DD.
func daysToRenewal(renewOn, date string) (int, bool) {
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return 0, false
	}
	next, err := time.Parse(time.DateOnly, day.Format("2006")+"-"+renewOn)
	if err != nil {
		return 0, false
	}
	if next.Before(day) {
		next = next.AddDate(1, 0, 0)
	}
	return int(next.Sub(day).Hours() / 24), true
}
