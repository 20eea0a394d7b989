package callback

import (
	"context"

	"github.com/qunyun/qunyun/internal/contribution"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// ContributionStore is where submissions become drafts
// (dynamo.Contributions).
type ContributionStore interface {
	Submit(ctx context.Context, c qunyun.Content) (created bool, err error)
}

// stepSubmit turns an editor's submission into a draft and answers them.
const stepSubmit = "submit"

// isSubmission reports whether m submits content: 「投稿 …」 anywhere, or a
// link shared 1:1 with the app, the bot or the Official Account.
func (s *Service) isSubmission(m qunyun.Message) bool {
	if s.Contributions == nil {
		return false
	}
	if _, ok := s.Submitting.Body(stripMention(m.Text)); ok && m.Kind == qunyun.KindText {
		return true
	}
	return m.GroupID == "" && m.Kind == qunyun.KindLink && m.URL != ""
}

// submit checks a submission and files it as a draft credited to the
// editor; bad input (not an editor, empty, too long, a link that fails the
// checks) gets a reply saying so and no draft. The draft's id comes from
// the message, so a retry files nothing twice.
func (s *Service) submit(ctx context.Context, m qunyun.Message) (string, error) {
	group, member, editor, err := s.editorGroup(ctx, m)
	if err != nil {
		return "", err
	}
	if !editor {
		if _, marked := s.Submitting.Body(stripMention(m.Text)); !marked {
			// A member sharing a link 1:1 did not ask to submit anything:
			// only one who wrote 「投稿」 is told that editors submit.
			return "", nil
		}
		reply, err := s.Submitting.Render(s.Submitting.Replies.NotEditor, "", "")
		if err != nil {
			return "", err
		}
		return s.answerMember(ctx, m, reply)
	}
	sub := contribution.Submission{MessageID: m.ID, AccountID: m.AccountID, Channel: m.Channel, GroupID: group,
		MemberID: member, MemberName: m.MemberName, Text: m.Text, URL: m.URL, At: m.At}
	if member != m.MemberID {
		sub.From = m.MemberID
	}
	if body, ok := s.Submitting.Body(stripMention(m.Text)); ok {
		sub.Text = body
	}
	c, reply, ok, err := s.Submitting.Draft(sub, s.checker(ctx, m.AccountID))
	if err != nil {
		return "", err
	}
	if ok {
		if _, err := s.Contributions.Submit(ctx, c); err != nil {
			return "", err
		}
	}
	return s.answerMember(ctx, m, reply)
}

// editorGroup finds where the sender is an editor, and their id there: the
// group the message came from, or for a 1:1 message the first group they
// edit under the same id, else (staffEditor) under the id community.yaml
// gives them in the group's account.
func (s *Service) editorGroup(ctx context.Context, m qunyun.Message) (group, member string, ok bool, err error) {
	if m.GroupID != "" {
		mem, found, err := s.Store.Catalog.Member(ctx, m.GroupID, m.MemberID)
		return m.GroupID, m.MemberID, err == nil && found && mem.Active() && mem.Role == qunyun.RoleEditor, err
	}
	groups, err := s.Store.Catalog.MemberGroups(ctx, m.MemberID)
	if err != nil {
		return "", "", false, err
	}
	for _, mem := range groups {
		if mem.Active() && mem.Role == qunyun.RoleEditor {
			return mem.GroupID, m.MemberID, true, nil
		}
	}
	return s.staffEditor(ctx, m)
}

// staffEditor finds a 1:1 sender among community.yaml's editors: by their
// id in the account they wrote to (an Official Account openid, a smart
// bot's userid) or, on the WeCom app, their WeCom userid. WeChat gives one
// person a different id per account, so an editor of relay groups writing
// to the app is not a member under the id they wrote with. Their first
// group where they are still editor (a demotion since is respected) is
// where they are credited, under their id there.
func (s *Service) staffEditor(ctx context.Context, m qunyun.Message) (group, member string, ok bool, err error) {
	if s.Staff == nil {
		return "", "", false, nil
	}
	staff, err := s.Staff(ctx)
	if err != nil {
		return "", "", false, err
	}
	for _, st := range staff {
		if st.Role != qunyun.RoleEditor || st.IDs[m.AccountID] != m.MemberID && (m.Channel != qunyun.ChannelWeCom || st.WeComUserID != m.MemberID) {
			continue
		}
		for _, gid := range st.Groups {
			g, found, err := s.group(ctx, gid)
			if err != nil {
				return "", "", false, err
			}
			id := st.IDs[g.AccountID]
			if !found || id == "" {
				continue
			}
			mem, found, err := s.Store.Catalog.Member(ctx, gid, id)
			if err != nil {
				return "", "", false, err
			}
			if found && mem.Active() && mem.Role == qunyun.RoleEditor {
				return gid, id, true, nil
			}
		}
	}
	return "", "", false, nil
}

// answerMember replies to a member: passively where the channel answers
// (OA, smart bot), else through push, keyed by their message so a retry
// asks for the same delivery: in the group they wrote in, or 1:1 (an
// app message to a WeCom user).
func (s *Service) answerMember(ctx context.Context, m qunyun.Message, text string) (string, error) {
	if canReply(m.Channel) {
		return text, nil
	}
	req := qunyun.DeliveryRequest{ID: "contribution-reply/" + m.ID, Source: "contribution", AccountID: m.AccountID,
		Content: &qunyun.Content{ID: "contribution-reply", Kind: qunyun.ContentText, Text: text}}
	switch {
	case m.GroupID != "":
		req.TargetKind, req.TargetID, req.GroupID = qunyun.TargetGroup, m.GroupID, m.GroupID
	case m.Channel == qunyun.ChannelWeCom:
		req.TargetKind, req.TargetID = qunyun.TargetStaff, m.MemberID
	default:
		req.TargetKind, req.TargetID = qunyun.TargetMember, m.MemberID
	}
	return "", s.publish(ctx, qunyun.EventDeliveryRequested, m.At, req)
}
