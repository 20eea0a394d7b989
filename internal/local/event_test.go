package local_test

import (
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/local"
)

func TestEventTime(t *testing.T) {
	tests := []struct {
		event string
		want  time.Time
		ok    bool
	}{
		{`{"kind":"tick","scheduledTime":"2026-11-22T01:00:00Z"}`, time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC), true},
		{`{"detail-type":"X","time":"2026-11-22T11:55:00Z","detail":{}}`, time.Date(2026, 11, 22, 11, 55, 0, 0, time.UTC), true},
		{`{"rawQueryString":"signature=x&timestamp=1795348800&nonce=1"}`, time.Unix(1795348800, 0).UTC(), true},
		{`{"rawQueryString":"","headers":{"x-qunyun-timestamp":"1795348800"}}`, time.Unix(1795348800, 0).UTC(), true},
		{`{"rawQueryString":"nonce=1"}`, time.Time{}, false},
		{`not json`, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := local.EventTime([]byte(tt.event))
		if ok != tt.ok || !got.Equal(tt.want) {
			t.Errorf("%s: got %v %v, want %v %v", tt.event, got, ok, tt.want, tt.ok)
		}
	}
}
