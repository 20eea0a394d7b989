package sandbox

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Task is a customer-group (or customer) mass-message task.
type Task struct {
	MsgID     string    `json:"msgid"`
	Sender    string    `json:"sender"`
	ChatIDs   []string  `json:"chatIds,omitempty"`
	Customers []string  `json:"customers,omitempty"`
	Created   time.Time `json:"created"`
	SentAt    time.Time `json:"sentAt,omitzero"`
	Cancelled bool      `json:"cancelled,omitempty"`
	Reminds   []time.Time
	Body      json.RawMessage `json:"body"`
}

// Confirm plays the owner who confirms task msgid in WeCom: from now on
// get_groupmsg_send_result reports it sent. It reports whether the task
// exists and could be confirmed (not cancelled, and its sender still owns
// its groups).
func (s *Server) Confirm(msgID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[msgID]
	if t == nil || t.Cancelled || !s.ownsAll(t.Sender, t.ChatIDs) {
		return false
	}
	if t.SentAt.IsZero() {
		t.SentAt = s.clk.Now()
	}
	return true
}

// Tasks returns the tasks created so far, by msgid.
func (s *Server) Tasks() []Task {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Task, 0, len(s.tasks))
	for _, t := range s.tasks {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].MsgID < out[j].MsgID })
	return out
}

func (s *Server) addMsgTemplate(req request) (map[string]any, int) {
	var in struct {
		ChatType   string   `json:"chat_type"`
		ChatIDs    []string `json:"chat_id_list"`
		ExternalID []string `json:"external_userid"`
		Sender     string   `json:"sender"`
	}
	if json.Unmarshal(req.body, &in) != nil {
		return nil, codeInvalidParam
	}
	if in.ChatType == "group" && (in.Sender == "" || len(in.ChatIDs) == 0 || len(in.ChatIDs) > 2000) {
		return nil, codeInvalidParam
	}
	s.taskSeq++
	id := fmt.Sprintf("msgSBX%06d", s.taskSeq)
	s.tasks[id] = &Task{MsgID: id, Sender: in.Sender, ChatIDs: in.ChatIDs, Customers: in.ExternalID, Created: s.clk.Now(), Body: req.body}
	failed := []string{} // groups the sender does not own
	for _, c := range in.ChatIDs {
		if !s.ownsAll(in.Sender, []string{c}) {
			failed = append(failed, c)
		}
	}
	return map[string]any{"msgid": id, "fail_list": failed}, 0
}

func (s *Server) task(body []byte) (*Task, int) {
	var in struct {
		MsgID string `json:"msgid"`
	}
	if json.Unmarshal(body, &in) != nil || s.tasks[in.MsgID] == nil {
		return nil, codeInvalidParam
	}
	return s.tasks[in.MsgID], 0
}

func (s *Server) sendResult(req request) (map[string]any, int) {
	t, code := s.task(req.body)
	if code != 0 {
		return nil, code
	}
	status, sendTime := 0, int64(0)
	if !t.SentAt.IsZero() {
		status, sendTime = 1, t.SentAt.Unix()
	}
	var who struct {
		UserID string `json:"userid"`
	}
	json.Unmarshal(req.body, &who)
	if who.UserID != t.Sender {
		// Asked for another member's sends: none of this task's.
		return map[string]any{"send_list": []any{}, "next_cursor": ""}, 0
	}
	list := []map[string]any{}
	for _, c := range t.ChatIDs {
		list = append(list, map[string]any{"chat_id": c, "userid": t.Sender, "status": status, "send_time": sendTime})
	}
	for _, c := range t.Customers {
		list = append(list, map[string]any{"external_userid": c, "userid": t.Sender, "status": status, "send_time": sendTime})
	}
	return map[string]any{"send_list": list, "next_cursor": ""}, 0
}

func (s *Server) remind(req request) (map[string]any, int) {
	t, code := s.task(req.body)
	if code != 0 {
		return nil, code
	}
	now := s.clk.Now()
	recent := 0
	for _, at := range t.Reminds {
		if now.Sub(at) < 24*time.Hour {
			recent++
		}
	}
	if recent >= 3 {
		return nil, codeRemindLimit
	}
	t.Reminds = append(t.Reminds, now)
	return nil, 0
}

func (s *Server) cancel(req request) (map[string]any, int) {
	t, code := s.task(req.body)
	if code != 0 {
		return nil, code
	}
	if t.SentAt.IsZero() {
		t.Cancelled = true
	}
	return nil, 0
}
