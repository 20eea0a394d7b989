package session

import (
	"fmt"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// candidate is a possible booking, with the scores that rank it.
type candidate struct {
	host     *hostState
	iv       interval
	tooClose bool  // nearer than half the ideal spacing to the group's other sessions
	again    int   // sessions the group already has with this host this week
	seen     int   // how often the group has had this host lately
	gap      int64 // seconds to the group's nearest session, capped at the ideal
	lastSaw  int64 // when the group last had this host (Unix seconds, 0 = never)
}

// better ranks candidates: a host new to the group this week first, then
// spread (no bunching), then rotation over time (the host the group has seen
// least, longest ago), then the larger gap, the less loaded host, the
// earlier start and the host id, so ties are deterministic.
func (c candidate) better(o candidate) bool {
	if c.again != o.again {
		return c.again < o.again
	}
	if c.tooClose != o.tooClose {
		return !c.tooClose
	}
	if c.seen != o.seen {
		return c.seen < o.seen
	}
	if c.gap != o.gap {
		return c.gap > o.gap
	}
	if c.lastSaw != o.lastSaw {
		return c.lastSaw < o.lastSaw
	}
	if c.host.load != o.host.load {
		return c.host.load < o.host.load
	}
	if c.iv.start != o.iv.start {
		return c.iv.start < o.iv.start
	}
	return c.host.host.ID < o.host.host.ID
}

// bestSlot finds the best booking for one more session in g, books it and
// returns it; or says why there is none.
func bestSlot(g *groupState, hosts []qunyun.Host, hs map[string]*hostState, step time.Duration, week interval, notBefore time.Time) (qunyun.Session, bool, string) {
	minutes := g.target.SessionMinutes()
	search := slotSearch{
		dur:       int64(minutes) * 60,
		step:      int64(step / time.Second),
		notBefore: notBefore.Unix(),
		ideal:     int64(7*24*3600) / int64(max(g.target.PerWeek, 1)),
	}
	var best candidate
	found := false
	var n hostCounts
	for _, h := range hosts {
		st := hs[h.ID]
		if !eligible(h, g.group) {
			continue
		}
		n.eligible++
		if st.load >= st.max {
			continue
		}
		n.capacity++
		if found && best.again < g.thisWeek[h.ID] {
			// Cannot beat the best: it is a host new to the group this week.
			continue
		}
		c, ok, hasWindow, notQuiet := search.host(g, st)
		if ok && (!found || c.better(best)) {
			best, found = c, true
		}
		if hasWindow {
			n.windows++
		}
		if hasWindow && !notQuiet {
			n.quietOnly++
		}
	}
	if !found {
		return qunyun.Session{}, false, n.reason(g.group, minutes)
	}
	return g.book(best, week), true, ""
}

// slotSearch is what bestSlot looks for, in seconds: a session of dur on
// the step grid, starting at notBefore or later, ideally ideal apart from
// the group's other sessions.
type slotSearch struct {
	dur, step, notBefore, ideal int64
}

// host returns the best candidate of one host for g, if any; hasWindow
// says whether the host has a long enough window at all, notQuiet whether
// one lies outside the group's quiet hours.
func (s slotSearch) host(g *groupState, st *hostState) (best candidate, found, hasWindow, notQuiet bool) {
	for _, av := range st.available {
		for start := av.start; start+s.dur <= av.end; start += s.step {
			if start < s.notBefore {
				continue
			}
			iv := interval{start, start + s.dur}
			hasWindow = true
			if g.quiet(iv) {
				continue
			}
			notQuiet = true
			if clashes(iv, st.busy) || clashes(iv, g.booked) {
				continue
			}
			id := st.host.ID
			c := candidate{host: st, iv: iv, again: g.thisWeek[id], seen: g.seen[id], lastSaw: g.lastSaw[id], gap: s.ideal}
			for _, b := range g.booked {
				d := min(abs(iv.start-b.start), s.ideal)
				c.gap = min(c.gap, d)
			}
			c.tooClose = c.gap < s.ideal/2
			if !found || c.better(best) {
				best, found = c, true
			}
		}
	}
	return best, found, hasWindow, notQuiet
}

// hostCounts narrows down, host by host, why a group found no slot.
type hostCounts struct {
	eligible  int // hosts that may serve the group
	capacity  int // of those, below their weekly limit
	windows   int // of those, with a window long enough
	quietOnly int // of those, whose windows all fall in the group's quiet hours
}

func (n hostCounts) reason(g qunyun.Group, minutes int) string {
	switch {
	case n.eligible == 0:
		return fmt.Sprintf("no host may serve this group (tier %s)", groupTier(g))
	case n.capacity == 0:
		return fmt.Sprintf("all %d eligible hosts are at their weekly limit", n.eligible)
	case n.windows == 0:
		return fmt.Sprintf("none of the %d eligible hosts with capacity has a %d-minute window this week", n.capacity, minutes)
	case n.quietOnly == n.windows:
		return "the eligible hosts are only available in the group's quiet hours"
	default:
		return "every free window of the eligible hosts clashes with their other sessions, their rest time or this group's sessions"
	}
}

// book books candidate c for g and returns the session.
func (g *groupState) book(c candidate, week interval) qunyun.Session {
	h := c.host
	h.busy = append(h.busy, h.widen(c.iv))
	h.load++
	g.booked = append(g.booked, c.iv)
	g.seen[h.host.ID]++
	g.thisWeek[h.host.ID]++
	g.lastSaw[h.host.ID] = c.iv.start
	topic := ""
	if n := len(h.host.Topics); n > 0 {
		topic = h.host.Topics[h.topicNext%n]
		h.topicNext++
	}
	return qunyun.Session{
		ID:        g.nextID(time.Unix(week.start, 0)),
		GroupID:   g.group.ID,
		HostID:    h.host.ID,
		Topic:     topic,
		Start:     time.Unix(c.iv.start, 0).UTC(),
		End:       time.Unix(c.iv.end, 0).UTC(),
		State:     qunyun.SessionScheduled,
		AccountID: g.group.AccountID,
	}
}

// clashes reports whether iv overlaps any of busy.
func clashes(iv interval, busy []interval) bool {
	for _, b := range busy {
		if iv.overlaps(b) {
			return true
		}
	}
	return false
}

func abs(d int64) int64 {
	if d < 0 {
		return -d
	}
	return d
}
