package session_test

import (
	"encoding/json"
	"os"
	"testing"
)

// TestSampleEvents runs the events/session-*.json samples (what `sam local
// invoke -e` sends) through the handler, so they stay valid.
func TestSampleEvents(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"session-tick.json", "session-question-asked.json", "session-delivery-finished.json"} {
		raw, err := os.ReadFile("../../events/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Handle(f.ctx, json.RawMessage(raw)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
