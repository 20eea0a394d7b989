package community

import (
	"context"
	"fmt"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// diffSessions compares the manual sessions of the file with the session
// store. A session that has opened is history: the file can no longer move
// or cancel it, and a note says so. Sessions are never pruned; the file
// cancels one with cancelled: true.
func diffSessions(ctx context.Context, t *dynamo.Table, want []qunyun.Session) ([]Change, []string, error) {
	var changes []Change
	var notes []string
	for _, w := range want {
		have, found, err := dynamo.Sessions{Table: t}.Session(ctx, w.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("read session %s: %w", w.ID, err)
		}
		if !found {
			s := w
			changes = append(changes, Change{Op: Create, Kind: KindSession, ID: w.ID,
				write: func(ctx context.Context, t *dynamo.Table) error {
					_, err := dynamo.Sessions{Table: t}.CreateSession(ctx, s)
					return err
				}})
			continue
		}
		next := have
		next.GroupID, next.HostID, next.Topic, next.Start, next.End, next.Manual = w.GroupID, w.HostID, w.Topic, w.Start, w.End, true
		switch {
		case w.State == qunyun.SessionCancelled:
			next.State = qunyun.SessionCancelled
		case have.State == qunyun.SessionCancelled:
			next.State = qunyun.SessionScheduled // the file books it again
		}
		ch := edits(have, next)
		fields := ch.Fields
		if len(fields) == 0 {
			continue
		}
		if have.State != qunyun.SessionScheduled && have.State != qunyun.SessionReminded && have.State != qunyun.SessionCancelled {
			notes = append(notes, fmt.Sprintf("session %s is already %s: changes to %s not applied", w.ID, have.State, joinFields(fields)))
			continue
		}
		id := w.ID
		ch.Op, ch.Kind, ch.ID = Update, KindSession, id
		ch.write = func(ctx context.Context, t *dynamo.Table) error {
			_, _, err := dynamo.Sessions{Table: t}.UpdateSession(ctx, id, func(s *qunyun.Session) error {
				switch s.State {
				case qunyun.SessionScheduled, qunyun.SessionReminded, qunyun.SessionCancelled:
				default:
					return qunyun.Errorf(qunyun.ECONFLICT, "session %s opened meanwhile (%s)", id, s.State)
				}
				state := s.State
				*s = next
				if next.State != qunyun.SessionCancelled && state != qunyun.SessionCancelled {
					s.State = state // keep reminded
				}
				return nil
			})
			return err
		}
		changes = append(changes, ch)
	}
	return changes, notes, nil
}
