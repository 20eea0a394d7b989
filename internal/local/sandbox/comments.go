package sandbox

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Comment is an OA article comment (for the contest APIs).
type Comment struct {
	UserCommentID int64  `json:"user_comment_id"`
	OpenID        string `json:"openid"`
	CreateTime    int64  `json:"create_time"`
	Content       string `json:"content"`
	CommentType   int    `json:"comment_type"` // 0 normal, 1 elected
	Reply         *struct {
		Content    string `json:"content"`
		CreateTime int64  `json:"create_time"`
	} `json:"reply,omitempty"`
}

// AddComment adds a comment under an article (msg_data_id, index).
func (s *Server) AddComment(msgDataID string, index int, openID, content string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := msgDataID + "#" + strconv.Itoa(index)
	id := int64(len(s.comments[key]) + 1)
	s.comments[key] = append(s.comments[key], &Comment{UserCommentID: id, OpenID: openID, CreateTime: s.clk.Now().Unix(), Content: content})
	return id
}

func (s *Server) commentList(req request) (map[string]any, int) {
	var in struct {
		MsgDataID json.Number `json:"msg_data_id"`
		Index     int         `json:"index"`
		Begin     int         `json:"begin"`
		Count     int         `json:"count"`
		Type      int         `json:"type"`
	}
	if json.Unmarshal(req.body, &in) != nil || in.Count <= 0 || in.Count >= 50 || in.Begin < 0 {
		return nil, codeInvalidParam
	}
	all := s.comments[in.MsgDataID.String()+"#"+strconv.Itoa(in.Index)]
	var sel []*Comment
	for _, c := range all {
		if in.Type == 0 || (in.Type == 1 && c.CommentType == 0) || (in.Type == 2 && c.CommentType == 1) {
			sel = append(sel, c)
		}
	}
	page := []*Comment{}
	for i := in.Begin; i < len(sel) && i < in.Begin+in.Count; i++ {
		page = append(page, sel[i])
	}
	return map[string]any{"total": len(sel), "comment": page}, 0
}

func (s *Server) findComment(body []byte) (*Comment, string, int) {
	var in struct {
		MsgDataID     json.Number `json:"msg_data_id"`
		Index         int         `json:"index"`
		UserCommentID int64       `json:"user_comment_id"`
		Content       string      `json:"content"`
	}
	if json.Unmarshal(body, &in) != nil {
		return nil, "", codeInvalidParam
	}
	for _, c := range s.comments[in.MsgDataID.String()+"#"+strconv.Itoa(in.Index)] {
		if c.UserCommentID == in.UserCommentID {
			return c, in.Content, 0
		}
	}
	return nil, "", codeInvalidParam
}

func (s *Server) commentMark(req request) (map[string]any, int) {
	c, _, code := s.findComment(req.body)
	if code != 0 {
		return nil, code
	}
	c.CommentType = 1
	return nil, 0
}

func (s *Server) commentReply(req request) (map[string]any, int) {
	c, content, code := s.findComment(req.body)
	if code != 0 || strings.TrimSpace(content) == "" {
		return nil, codeInvalidParam
	}
	c.Reply = &struct {
		Content    string `json:"content"`
		CreateTime int64  `json:"create_time"`
	}{content, s.clk.Now().Unix()}
	return nil, 0
}
