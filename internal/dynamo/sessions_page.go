package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Session page key: PK SESSION#<sid>, SK PAGE, the random key that the
// link of the host's session page carries (docs/sessions.md, "The host's
// page"). It is its own item, not a field of the session, so the life-cycle
// updates of the session never touch it and a page view reads it with one
// GetItem.

const sessionPageSK = "PAGE"

type sessionPageItem struct {
	Keys
	Session   string    `dynamodbav:"session"`
	PageKey   string    `dynamodbav:"pageKey"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
}

// EnsureSessionPageKey stores key as the session's page key unless it has
// one already, and returns the stored key either way: the first key wins,
// so a retried reminder carries the same link.
func (s Sessions) EnsureSessionPageKey(ctx context.Context, sessionID, key string) (string, error) {
	if sessionID == "" || key == "" {
		return "", qunyun.Errorf(qunyun.EINVALID, "session page key: session id and key are required")
	}
	created, err := s.Table.PutNew(ctx, sessionPageItem{
		Keys:    Keys{PK: SessionPK(sessionID), SK: sessionPageSK, Type: "SessionPage"},
		Session: sessionID, PageKey: key, CreatedAt: s.Table.now(),
	})
	if err != nil {
		return "", fmt.Errorf("put page key of session %s: %w", sessionID, err)
	}
	if created {
		return key, nil
	}
	stored, found, err := s.SessionPageKey(ctx, sessionID)
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("page key of session %s: exists but cannot be read", sessionID)
	}
	return stored, nil
}

// SessionPageKey reads the session's page key; found is false when the
// session never had a link made.
func (s Sessions) SessionPageKey(ctx context.Context, sessionID string) (key string, found bool, err error) {
	var it sessionPageItem
	found, err = s.Table.Get(ctx, SessionPK(sessionID), sessionPageSK, &it)
	if err != nil {
		return "", false, fmt.Errorf("get page key of session %s: %w", sessionID, err)
	}
	return it.PageKey, found && it.PageKey != "", nil
}
