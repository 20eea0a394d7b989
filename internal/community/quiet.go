package community

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/awscron"
	"github.com/qunyun/qunyun/internal/push"
)

// quietHorizon is how far ahead QuietSlots looks: a week covers every slot
// of a weekly cron, and one of every day.
const quietHorizon = 8 * 24 * time.Hour

// QuietSlots warns about plan slots inside the quiet hours of a group the
// plan selects (push.Selects, push.InQuietHours: the rules push applies):
// push holds such a slot back until the quiet hours end, or drops it when
// it expires first, so it never goes out at the time the plan says. It
// looks at the slots of the week from `from` and at journey steps with a
// time of day; one warning per plan, time of day and quiet hours, naming
// the groups. The file stays valid: this is a warning, not a problem.
func QuietSlots(c *Community, from time.Time) []string {
	type key struct{ plan, at, quiet, ends string }
	groups := map[key][]string{}
	var order []key
	note := func(k key, group string) {
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		if !slices.Contains(groups[k], group) {
			groups[k] = append(groups[k], group)
		}
	}
	for _, p := range c.Plans {
		if p.Paused {
			continue
		}
		var cron awscron.Expression
		hasCron := false
		if p.Cron != "" {
			e, err := awscron.Parse(cronExpr(p.Cron))
			hasCron = err == nil && !e.IsRate()
			cron = e
		}
		for _, g := range c.Groups {
			if !push.Selects(p.Select, g.Group, from) {
				continue
			}
			loc, caps := g.Location(), g.EffectiveCaps()
			quiet := caps.QuietStart + "–" + caps.QuietEnd
			for t := from; hasCron; {
				if t = cron.Next(t, loc); t.IsZero() || t.Sub(from) > quietHorizon {
					break
				}
				if local := t.In(loc); p.Active(t) && push.InQuietHours(local, caps) {
					note(key{p.ID, local.Format("15:04"), quiet, caps.QuietEnd}, g.ID)
				}
			}
			for _, st := range p.Journey {
				var h, m int
				if _, err := fmt.Sscanf(st.At, "%d:%d", &h, &m); err != nil {
					continue // at the member's join time
				}
				if push.InQuietHours(time.Date(2000, 1, 1, h, m, 0, 0, loc), caps) {
					note(key{p.ID, fmt.Sprintf("day %d %02d:%02d", st.Day, h, m), quiet, caps.QuietEnd}, g.ID)
				}
			}
		}
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, fmt.Sprintf("plan %s: its %s slot is inside the quiet hours (%s) of %s: push holds it back until %s, or drops it once it expires; move the slot",
			k.plan, k.at, k.quiet, strings.Join(groups[k], ", "), k.ends))
	}
	return out
}
