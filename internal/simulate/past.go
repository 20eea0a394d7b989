package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/qunyun/qunyun/internal/accounts"
	"github.com/qunyun/qunyun/internal/callback"
	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/local/gateway"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/simulate/callbacks"
)

// Past records what the members of a World did on a day gone by, as the
// callback recorded it then: every event of a timeline (Plan's, for that
// day) goes, signed and encrypted as its platform sends it, through the
// callback's own handler behind the local gateway's request mapping, on a
// clock standing at the event's time. So the demo starts with a yesterday
// that the nightly scoring can score.
//
// Only the callback runs: nothing is published on the bus, so the pushes,
// sessions and moderation alerts that day would have set off do not
// happen. It writes into Table and must never be pointed at a production
// table.
type Past struct {
	Table    *dynamo.Table // the stack's table; Past uses a copy on its own clock
	Accounts []qunyun.Account
	World    *World
	Seed     uint64
	Log      *slog.Logger // nil discards
}

// Replay sends the timeline's events one at a time, in order. An event
// the callback does not accept is counted, not fatal; a callback that
// cannot be reached is. Replaying the same timeline again records nothing
// new: each event keeps its id, and the callback records an id once.
func (p Past) Replay(ctx context.Context, timeline []Event) (sent, accepted Counts, err error) {
	sent, accepted = Counts{}, Counts{}
	if len(timeline) == 0 {
		return sent, accepted, nil
	}
	log := p.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	clk := clock.NewManual(timeline[0].At)
	table := *p.Table
	table.Now = clk.Now
	t := &table
	stores := callback.Stores{Log: dynamo.Log{Table: t}, Followups: dynamo.Followups{Table: t}, Sessions: dynamo.Sessions{Table: t},
		Catalog: dynamo.Catalog{Table: t}, Membership: dynamo.Membership{Table: t}, Links: dynamo.Links{Table: t}, Texts: dynamo.Texts{Table: t}}
	svc, err := callback.NewService(stores, nil, clk.Now, nil, log)
	if err != nil {
		return sent, accepted, err
	}
	svc.Moderation, svc.Contributions = dynamo.Moderation{Table: t}, dynamo.Contributions{Table: t}
	dir, err := accounts.NewStatic(p.Accounts)
	if err != nil {
		return sent, accepted, err
	}
	gw := &gateway.Gateway{
		Routes:  []gateway.Route{{Method: http.MethodPost, Path: "/wechat/{account}", Function: "CallbackFunction"}},
		Invoker: handlerInvoker{callback.NewHandler(dir, svc, log)}, Now: clk.Now, Logger: log,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return sent, accepted, fmt.Errorf("past: %w", err)
	}
	srv := &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()

	s := &Simulation{World: p.World, Seed: p.Seed, version: map[string]int{},
		builder: &callbacks.Builder{Random: rand.NewChaCha8(seedBytes(p.Seed)), Now: clk.Now}}
	sender := &callbacks.Sender{Base: "http://" + ln.Addr().String(), Client: &http.Client{Timeout: 10 * time.Second}}
	for _, e := range timeline {
		if e.Kind == kindConfirm || e.Kind == kindOpen {
			continue // reactions to what the stack sent: nothing was sent
		}
		clk.Set(e.At)
		j, err := s.jobFor(e)
		if err != nil {
			return sent, accepted, err
		}
		sent[e.Kind]++
		res, err := sender.Send(ctx, j.req)
		switch {
		case err != nil:
			return sent, accepted, fmt.Errorf("past: %s %s: %w", e.Kind, e.ID, err)
		case res.Accepted:
			accepted[e.Kind]++
		default:
			log.Warn("past: callback not accepted", "kind", e.Kind, "id", e.ID, "status", res.Status, "body", string(res.Body))
		}
	}
	return sent, accepted, nil
}

// handlerInvoker runs the callback's Lambda handler in this process.
type handlerInvoker struct{ h *callback.Handler }

func (i handlerInvoker) InvokeSync(ctx context.Context, _ string, payload []byte) ([]byte, error) {
	out, err := i.h.Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errors.New("past: the callback answered nothing")
	}
	return json.Marshal(out)
}
