package simulate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// The opening's pace: the first act a few seconds after start, a newcomer
// joining every few seconds.
const (
	openingFirst    = 15 * time.Second
	openingJoins    = 20 * time.Second
	openingJoinStep = 3 * time.Second
	openingGreeting = 15 * time.Second
)

// Opening is what the members do in the demo's first minutes, besides the
// chat Live keeps up, so that each part of the product answers within
// about three minutes of start:
//
//   - a member asks the smart bot (texts.yaml botAsks) and checks in with
//     it, in the first group the bot alone hears (a keyword reply and a
//     check-in reply, passive);
//   - a member checks in through the bridge in the first punch-card group,
//     and one asks the first general group what botAsks ask (the relay
//     rules answer through push and the bridge);
//   - the newcomers join the groups whose joins a channel reports (a WeCom
//     app or the bridge; not pop-up groups), one every few seconds, and
//     greet where the bridge hears them.
//
// Every event reaches the stack as its platform's callback. Ids carry the
// start, so another start's opening is recorded anew.
func Opening(w *World, start time.Time) []Event {
	var out []Event
	seq := 0
	add := func(e Event) {
		seq++
		e.ID = fmt.Sprintf("open-%d-%d", start.Unix(), seq)
		e.seq = seq
		out = append(out, e)
	}
	var botGroup, punch, general *Group
	for _, g := range w.Groups {
		switch {
		case botGroup == nil && g.Chat.ID == "" && g.Bot.ID != "" && len(g.Members) > 0:
			botGroup = g
		case punch == nil && g.Profile.checkins && g.Chat.ID != "" && len(g.Members) > 0:
			punch = g
		case general == nil && g.Purpose == qunyun.PurposeGeneral && g.Chat.ID != "" && len(g.Members) > 1:
			general = g
		}
	}
	at := start.Add(openingFirst)
	if botGroup != nil {
		add(Event{At: at, Kind: KindBot, Group: botGroup, Member: botGroup.Members[0], Text: texts.BotAsks[0]})
		add(Event{At: at.Add(20 * time.Second), Kind: KindBot, Group: botGroup, Member: botGroup.Members[0], Text: texts.Checkin[0]})
	}
	if punch != nil {
		add(Event{At: at.Add(10 * time.Second), Kind: KindCheckin, Group: punch, Member: punch.Members[0], Text: texts.Checkin[0]})
	}
	if general != nil {
		add(Event{At: at.Add(30 * time.Second), Kind: KindMessage, Group: general, Member: general.Members[1], Text: texts.BotAsks[0]})
	}
	n := 0
	for _, g := range w.Groups {
		if g.Membership.ID == "" || g.Purpose == qunyun.PurposeResourcePopup {
			continue
		}
		for _, m := range g.Members {
			if m.Persona != Newcomer {
				continue
			}
			joined := start.Add(openingJoins + time.Duration(n)*openingJoinStep)
			add(Event{At: joined, Kind: KindJoin, Group: g, Member: m, Scene: wechat.JoinByQRCode})
			if g.Chat.ID != "" {
				add(Event{At: joined.Add(openingGreeting), Kind: KindMessage, Group: g, Member: m,
					Text: texts.Greetings[n%len(texts.Greetings)]})
			}
			n++
		}
	}
	return out
}

// Play plays events (Opening's, say) on a stepped stack, in time order, as
// Run does: the clock moves to each event's time, firing the schedules on
// the way, the event's callback is sent, and what it set off settles. Then
// the clock moves on to until. The stack's Step, Settle and NextFire must
// be set. Sent tells how many were sent and accepted.
func (s *Simulation) Play(ctx context.Context, events []Event, until time.Time) error {
	if s.Stack.Step == nil || s.Stack.Settle == nil || s.Stack.NextFire == nil {
		return errors.New("simulate: Play needs a stepped stack (Step, Settle and NextFire)")
	}
	s.prepare()
	sorted := slices.Clone(events)
	slices.SortStableFunc(sorted, func(a, b Event) int { return a.At.Compare(b.At) })
	for _, e := range sorted {
		if err := s.stepTo(ctx, e.At); err != nil {
			return err
		}
		j, err := s.jobFor(e)
		if err != nil {
			return err
		}
		s.do(ctx, s.builder, j)
		if err := s.Stack.Settle(ctx); err != nil {
			return err
		}
	}
	return s.stepTo(ctx, until)
}
