package sandbox

import (
	"encoding/json"
	"fmt"
	"time"
)

// Chat is a WeCom customer group as the sandbox knows it (PutChat):
// groupchat/get describes it, and only its owner can post its tasks.
// Groups it was never told about are unknown to groupchat/get (40050) and
// take tasks from anyone.
type Chat struct {
	ID      string       `json:"chat_id"`
	Name    string       `json:"name"`
	Owner   string       `json:"owner"`
	Created time.Time    `json:"created"`
	Members []ChatMember `json:"members"`
}

// ChatMember is one member of a Chat.
type ChatMember struct {
	UserID string    `json:"userid"`
	Name   string    `json:"name"`
	Type   int       `json:"type"` // 1 staff, 2 external contact
	Joined time.Time `json:"joined"`
}

// PutChat makes a customer group known (or replaces what is known of it).
func (s *Server) PutChat(c Chat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Members = append([]ChatMember(nil), c.Members...)
	s.chats[c.ID] = &c
}

// TransferChat plays WeCom's transfer of a group to a new owner: from now
// on only they can post its tasks, and the old owner can no longer confirm
// a task made for them. It reports whether the group is known.
func (s *Server) TransferChat(id, owner string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[id]
	if c == nil {
		return false
	}
	c.Owner = owner
	return true
}

// ownsAll reports whether sender owns every known group of chatIDs.
func (s *Server) ownsAll(sender string, chatIDs []string) bool {
	for _, id := range chatIDs {
		if c := s.chats[id]; c != nil && c.Owner != sender {
			return false
		}
	}
	return true
}

// groupChat serves groupchat/get from the groups PutChat made known.
func (s *Server) groupChat(req request) (map[string]any, int) {
	var in struct {
		ChatID   string `json:"chat_id"`
		NeedName int    `json:"need_name"`
	}
	if json.Unmarshal(req.body, &in) != nil || in.ChatID == "" {
		return nil, codeInvalidParam
	}
	c := s.chats[in.ChatID]
	if c == nil {
		return nil, codeInvalidChatID
	}
	members := []map[string]any{}
	for _, m := range c.Members {
		e := map[string]any{"userid": m.UserID, "type": m.Type, "join_time": m.Joined.Unix(), "join_scene": 1}
		if in.NeedName == 1 {
			e["name"] = m.Name
		}
		members = append(members, e)
	}
	return map[string]any{"group_chat": map[string]any{
		"chat_id": c.ID, "name": c.Name, "owner": c.Owner, "create_time": c.Created.Unix(),
		"member_list": members, "admin_list": []any{}, "member_version": fmt.Sprint(len(c.Members)),
	}}, 0
}
