package local

import (
	"encoding/json"
	"net/url"
	"strconv"
	"time"
)

// EventTime is the time a sample event happened: a schedule's scheduledTime,
// an EventBridge event's time, a WeChat callback's timestamp query
// parameter or a relay bridge's timestamp header. Running a function on a
// clock set to it (QUNYUN_CLOCK_START) makes a stored sample current, as
// the callbacks' 5-minute timestamp window and the ticks' catch-up require;
// `qunyun invoke` does that. ok is false for events that carry no time (a
// tracked-link click).
func EventTime(event []byte) (at time.Time, ok bool) {
	var e struct {
		ScheduledTime  time.Time         `json:"scheduledTime"`
		Time           time.Time         `json:"time"`
		RawQueryString string            `json:"rawQueryString"`
		Headers        map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(event, &e); err != nil {
		return time.Time{}, false
	}
	switch {
	case !e.ScheduledTime.IsZero():
		return e.ScheduledTime, true
	case !e.Time.IsZero():
		return e.Time, true
	}
	unix := func(s string) (time.Time, bool) {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(sec, 0).UTC(), true
	}
	if q, err := url.ParseQuery(e.RawQueryString); err == nil && q.Get("timestamp") != "" {
		return unix(q.Get("timestamp"))
	}
	return unix(e.Headers["x-qunyun-timestamp"]) // wechat.RelayTimestampHeader, lower-cased as API Gateway sends it
}

// IsSchedule reports whether event is a schedule's input (it carries a
// scheduledTime): a tick whose minutes the stack's own schedule already
// ran finds its work done.
func IsSchedule(event []byte) bool {
	var e struct {
		ScheduledTime time.Time `json:"scheduledTime"`
	}
	return json.Unmarshal(event, &e) == nil && !e.ScheduledTime.IsZero()
}
