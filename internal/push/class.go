package push

import (
	"strings"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// The delivery model (docs/deliveries.md): every delivery has a class,
// which says what it is for, and a deadline, which says until when it is
// worth sending. The class picks the budget the delivery draws from and
// whether a group's health flags may hold it back; the deadline decides
// whether quiet hours defer it or end it, and when an unconfirmed WeCom
// task is withdrawn.

// Deadlines of the classes whose sender gives none.
const (
	// SessionDeadline: a session message whose request names no deadline
	// (the session function names the session's end).
	SessionDeadline = 3 * time.Hour
	// WelcomeDeadline outlasts a night's quiet hours (default 22:00–08:00),
	// so a member who joins at night is welcomed in the morning.
	WelcomeDeadline = 12 * time.Hour
	// ReplyDeadline: an answer to a member's message is worth posting only
	// while the conversation it answers is still on screen.
	ReplyDeadline = 10 * time.Minute
)

// journeySlot is the slot prefix of welcome and journey steps.
const journeySlot = "journey:"

// welcome reports whether d is a welcome: a journey step of the day the
// member joined (later steps are the rest of the journey).
func welcome(d qunyun.Delivery) bool {
	return strings.HasPrefix(d.Slot, journeySlot+"day0:")
}

// ClassOf derives what a delivery is for from its source, target and
// slot: the one place where these strings mean a class.
func ClassOf(d qunyun.Delivery) qunyun.DeliveryClass {
	switch {
	case d.Class != "":
		return d.Class
	case d.Source == SourceModeration || d.Source == SourceAlert:
		return qunyun.ClassAlert
	case d.TargetKind == qunyun.TargetStaff:
		return qunyun.ClassStaff
	case d.Source == qunyun.SourceReply:
		return qunyun.ClassReply
	case d.Source == qunyun.SourceSession:
		return qunyun.ClassSession
	case strings.HasPrefix(d.Slot, journeySlot):
		return qunyun.ClassWelcome
	}
	return qunyun.ClassContent
}

// prepare fixes a new delivery's class, deadline and account before its
// claim, so every later run of it (a resumed claim, a deferred one, the
// sweep following its task) judges and reaches it the same way.
func (s *Service) prepare(d *qunyun.Delivery, g *qunyun.Group) {
	if d.AccountID == "" && g != nil {
		// A request may leave the account to the group; the task it becomes
		// is followed and withdrawn through it.
		d.AccountID = g.AccountID
	}
	d.Class = ClassOf(*d)
	if d.Deadline.IsZero() {
		d.Deadline = s.defaultDeadline(*d, g)
	}
	if edge := followEdge(*d); d.Deadline.After(edge) {
		// Past its follow edge the sweep no longer reads the delivery: it
		// could be neither resumed nor withdrawn.
		d.Deadline = edge
	}
}

// defaultDeadline is what a delivery of d's class is worth for when its
// sender did not say.
func (s *Service) defaultDeadline(d qunyun.Delivery, g *qunyun.Group) time.Time {
	switch d.Class {
	case qunyun.ClassSession:
		return d.At.Add(SessionDeadline)
	case qunyun.ClassWelcome:
		return d.At.Add(WelcomeDeadline)
	case qunyun.ClassReply:
		return d.At.Add(ReplyDeadline)
	case qunyun.ClassContent:
		// A daily slot is about its day: lunch tips are stale at dinner.
		loc := qunyun.LoadLocation("")
		if g != nil {
			loc = g.Location()
		}
		local := d.At.In(loc)
		return time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, loc)
	}
	// Alerts and staff messages: as long as a failed send is retried.
	return d.At.Add(s.retryWindow())
}

// expired reports whether d's deadline has passed at now. A delivery
// stored before deadlines existed has none and never expires this way.
func expired(d qunyun.Delivery, now time.Time) bool {
	return !d.Deadline.IsZero() && !now.Before(d.Deadline)
}

// budget lists the counters a delivery of its class draws from, each with
// its limit. Alerts and staff messages draw from none of the operator's;
// the platform's limits (the monthly tasks of a WeCom customer group) bind
// every class, and SOP content leaves a share of them to the others.
func budget(d qunyun.Delivery, g *qunyun.Group, caps qunyun.Caps, local time.Time, customerGroup bool) []capWant {
	if d.TargetKind != qunyun.TargetGroup || g == nil {
		return nil // 1:1 limits are the person's (checkPolicies)
	}
	class := ClassOf(d)
	date := local.Format(time.DateOnly)
	var want []capWant
	switch class {
	case qunyun.ClassContent:
		want = append(want, capWant{qunyun.GroupDayCap(g.ID, date), caps.DailyMax, 48 * time.Hour, qunyun.ReasonDailyCap})
	case qunyun.ClassSession:
		want = append(want, capWant{qunyun.GroupSessionDayCap(g.ID, date), caps.SessionMax, 48 * time.Hour, qunyun.ReasonSessionCap})
	case qunyun.ClassReply:
		want = append(want, capWant{qunyun.GroupReplyDayCap(g.ID, date), qunyun.DefaultReplyMax, 48 * time.Hour, qunyun.ReasonReplyCap})
	}
	if customerGroup {
		max := DaysIn(local)
		if class == qunyun.ClassContent {
			max -= MonthReserve(local)
		}
		want = append(want, capWant{qunyun.GroupMonthCap(g.ID, local.Format("2006-01")), max, 62 * 24 * time.Hour, qunyun.ReasonMonthlyCap})
	}
	return want
}

// MonthReserve is the share of a customer group's monthly tasks (days in
// the month) that SOP content leaves to sessions and alerts: a third. The
// counter is shared, so together they never pass the platform's cap.
func MonthReserve(t time.Time) int { return DaysIn(t) / 3 }

// quietHolds reports whether a group's quiet hours may hold delivery d
// back: not an urgent one (a moderation alert), and not a reply, which
// answers a member who has just written in the group.
func quietHolds(d qunyun.Delivery) bool {
	return !d.Urgent && ClassOf(d) != qunyun.ClassReply
}

// healthHolds says whether a group's health flags hold back delivery d.
// Flags advise: only SOP content is thinned, as the group's OnNoisy says
// ("halve": every other local day, counted from the Unix epoch so that
// every group and every run agree), and never a session message, an alert,
// a staff message or a welcome.
func healthHolds(d qunyun.Delivery, g qunyun.Group, now time.Time) string {
	if !g.Noisy || ClassOf(d) != qunyun.ClassContent {
		return ""
	}
	switch g.NoisyAction() {
	case qunyun.NoisyPause:
		return qunyun.ReasonNoisy
	case qunyun.NoisyHalve:
		local := now.In(g.Location())
		day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400
		if day%2 == 1 {
			return qunyun.ReasonNoisy
		}
	}
	return ""
}
