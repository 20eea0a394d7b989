package session

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// HandleEvent reacts to the bus events the function's rule routes to it.
// QuestionAsked: forward the question queue to the host (rate-limited).
// DeliveryFinished of a 1:1 recap that was not sent: the member goes on
// the recap's digest list. Anything else is ignored.
func (s *Service) HandleEvent(ctx context.Context, detailType string, detail json.RawMessage) error {
	switch detailType {
	case qunyun.EventQuestionAsked:
		var q qunyun.QuestionAsked
		if err := json.Unmarshal(detail, &q); err != nil || q.SessionID == "" {
			return qunyun.Errorf(qunyun.EINVALID, "QuestionAsked: detail without a session: %s", detail)
		}
		sess, found, err := s.Sessions.Session(ctx, q.SessionID)
		if err != nil || !found {
			return err
		}
		if sess.State != qunyun.SessionOpen && sess.State != qunyun.SessionClosing {
			return nil
		}
		qs, err := s.Sessions.Questions(ctx, sess.ID)
		if err != nil {
			return err
		}
		return s.forwardQueue(ctx, sess, qs, s.Clock.Now())
	case qunyun.EventDeliveryFinished:
		var d qunyun.DeliveryFinished
		if err := json.Unmarshal(detail, &d); err != nil {
			return qunyun.Errorf(qunyun.EINVALID, "DeliveryFinished: bad detail: %v", err)
		}
		sessionID, step, ok := parseDeliveryID(d.ID)
		if d.Source != "session" || !ok || step != "recap-dm" || d.State == qunyun.DeliverySent {
			return nil
		}
		if !d.State.Final() {
			return nil
		}
		s.log().Info("session: recap not delivered 1:1; goes to the group digest", "session", sessionID, "member", d.TargetID, "reason", d.Reason)
		err := s.Sessions.AddRecapDigestMember(ctx, sessionID, d.TargetID)
		if qunyun.ErrorCode(err) == qunyun.ENOTFOUND {
			// No recap to attach to (deleted, or a forged id): a retry cannot help.
			s.log().Warn("session: no recap for an undelivered 1:1 recap", "session", sessionID, "member", d.TargetID)
			return nil
		}
		return err
	}
	s.log().Debug("session: ignoring event", "detailType", detailType)
	return nil
}

// parseDeliveryID splits an id made by DeliveryID.
func parseDeliveryID(id string) (sessionID, step string, ok bool) {
	parts := strings.SplitN(id, "/", 4)
	if len(parts) != 4 || parts[0] != "session" {
		return "", "", false
	}
	return parts[1], parts[2], true
}
