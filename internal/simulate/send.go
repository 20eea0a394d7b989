package simulate

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"strings"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
	"github.com/qunyun/qunyun/internal/wechat"
)

type job struct {
	e   Event
	req callbacks.Request
}

// jobFor makes the job for an action: a confirmation or a link open as it
// is, anything else as its callback request, built in timeline order (a
// WeCom join or leave carries its group's next change version).
func (s *Simulation) jobFor(e Event) (job, error) {
	if e.Kind == kindConfirm || e.Kind == kindOpen {
		return job{e: e}, nil
	}
	if (e.Kind == KindJoin || e.Kind == KindLeave) && e.Group.Membership.Kind == qunyun.ChannelWeCom {
		s.version[e.Group.ID]++
		e.version = s.version[e.Group.ID]
	}
	req, err := s.buildWith(s.builder, e)
	if err != nil {
		return job{}, fmt.Errorf("simulate: %w", err)
	}
	return job{e: e, req: req}, nil
}

// buildWith turns an event into the callback WeChat, WeCom or the bridge
// sends, stamped with b's clock. It changes nothing, so a worker can
// rebuild a request the stack found stale.
func (s *Simulation) buildWith(b *callbacks.Builder, e Event) (callbacks.Request, error) {
	g, m := e.Group, e.Member
	switch e.Kind {
	case KindMessage, KindCheckin, KindVote:
		return b.Relay(g.Chat, wechat.RelayEvent{
			ID: e.ID, Type: wechat.RelayMessage, GroupID: g.ID, GroupName: g.Name, MemberID: m.ID, MemberName: m.Name,
			Kind: "text", Text: e.Text, Mentions: e.Mentions, ReplyTo: e.ReplyTo, Time: e.At.Unix(),
		}, b.Now())
	case KindBot:
		return b.BotMention(g.Bot, g.ID, m.ID, e.ID, texts.BotMention+" "+e.Text, e.At)
	case KindOA:
		return b.OAText(s.World.OA, m.ID, e.Text, msgID(e.ID), e.At)
	case KindJoin, KindLeave:
		if g.Membership.Kind == qunyun.ChannelWeCom {
			return b.WeComMembership(g.Membership, callbacks.Membership{
				ChatID: g.ID, Joined: e.Kind == KindJoin, Members: []string{m.ID}, Scene: e.Scene, MemberVersion: e.version,
			}, e.At)
		}
		typ := wechat.RelayMemberJoined
		if e.Kind == KindLeave {
			typ = wechat.RelayMemberLeft
		}
		return b.Relay(g.Membership, wechat.RelayEvent{
			ID: e.ID, Type: typ, GroupID: g.ID, GroupName: g.Name, MemberID: m.ID, MemberName: m.Name, Time: e.At.Unix(),
		}, b.Now())
	case KindDismiss:
		return b.WeComGroup(g.Membership, g.ID, wechat.ChatDismiss, e.At)
	}
	return callbacks.Request{}, fmt.Errorf("event kind %q cannot be sent", e.Kind)
}

// msgID is a positive 63-bit OA MsgId derived from the event id.
func msgID(id string) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return int64(h.Sum64() >> 1)
}

// do sends one job; it runs on a worker.
func (s *Simulation) do(ctx context.Context, b *callbacks.Builder, j job) {
	switch j.e.Kind {
	case kindConfirm:
		s.confirm(ctx, j.e.ID)
		return
	case kindOpen:
		s.open(ctx, j.e.ID, j.e.Member.ID)
		return
	}
	req := j.req
	for attempt := 0; ; attempt++ {
		res, err := s.sender.Send(ctx, req)
		if err != nil {
			if ctx.Err() == nil {
				s.stats.add(j.e.Kind, false, err.Error())
			}
			return // stopped: a request cut short is not counted
		}
		if res.Accepted {
			s.stats.add(j.e.Kind, true, "")
			return
		}
		// The callback refuses a request stamped more than five minutes
		// from its clock; on a fast clock that is a fraction of a real
		// second, so a request that queued is re-stamped and re-signed, as
		// a sender whose first try was refused would. Nothing was recorded.
		if res.Status == http.StatusUnauthorized && attempt < 5 {
			if again, err := s.buildWith(b, j.e); err == nil {
				req = again
				continue
			}
		}
		// A relay event's own time must be within 10 minutes of the
		// callback's clock, which on a fast clock is a fraction of a real
		// second too. A bridge that queued an event that long can only
		// re-date it to when it sends it: so does the run (never on a
		// stepped clock, which waits for each event at its own time).
		if res.Status == http.StatusBadRequest && req.Channel == qunyun.ChannelRelay && attempt < 5 {
			if now := b.Now(); now.Sub(j.e.At).Abs() > wechat.RelayMaxTimeSkew {
				e := j.e
				e.At = now
				if again, err := s.buildWith(b, e); err == nil {
					req = again
					continue
				}
			}
		}
		why := fmt.Sprintf("status %d", res.Status)
		if res.LastErr != nil {
			why = res.LastErr.Error()
		} else if len(res.Body) > 0 {
			why += ": " + strings.TrimSpace(string(res.Body[:min(len(res.Body), 120)]))
		}
		s.stats.add(j.e.Kind, false, why)
		s.Log.Warn("simulate: callback not accepted", "kind", j.e.Kind, "id", j.e.ID, "why", why)
		return
	}
}
