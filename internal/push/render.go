package push

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"regexp"
	"strings"
	"text/template"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechatapi"
)

// TemplateData is what a content template sees: {{.Member.Name}},
// {{.Group.Name}}, {{.Date}}, {{index .Data "key"}}.
type TemplateData struct {
	Group  GroupVars
	Member MemberVars
	Date   string // the slot's local date, YYYY-MM-DD
	Data   map[string]string
}

// GroupVars are a group's template variables.
type GroupVars struct {
	ID, Name string
	Purpose  qunyun.Purpose
	Tags     []string
}

// MemberVars are a member's template variables ("" in group pushes).
type MemberVars struct{ ID, Name string }

func execute(t *template.Template, data any) (string, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func renderString(name, src string, data TemplateData) (string, error) {
	if !strings.Contains(src, "{{") {
		return src, nil
	}
	t, err := template.New(name).Option("missingkey=zero").Parse(src)
	if err != nil {
		return "", err
	}
	return execute(t, data)
}

// urlPattern finds links in text; it stops at whitespace and at Chinese
// punctuation, which often follows a link without a space.
var urlPattern = regexp.MustCompile(`https?://[^\s<>"'，。；！？、）】」]+`)

// render turns content into a message for one delivery. Operator content
// (from the catalog) is a template: filled in, and every link rewritten to
// a tracked link (written before the send, so the redirect works the moment
// the message lands); the template data has its links broken beforehand
// (templateData), so only the operator's own links are tracked. Content
// that is not the operator's (inline: text another function rendered,
// which quotes members: alerts, session queues and recaps) is sent as it
// is: parsing it would run members' words as template source, and
// tracking it would make their links redirects on our domain.
func (s *Service) render(ctx context.Context, d qunyun.Delivery, c qunyun.Content, operator bool, data TemplateData) (wechatapi.Message, error) {
	if !operator {
		return wechatapi.Message{Kind: c.Kind, Title: c.Title, Text: c.Text, URL: c.URL,
			PicURL: c.PicURL, MediaID: c.MediaID, AppID: c.AppID, PagePath: c.PagePath}, nil
	}
	text, err := renderString("text", c.Text, data)
	if err != nil {
		return wechatapi.Message{}, err
	}
	title, err := renderString("title", c.Title, data)
	if err != nil {
		return wechatapi.Message{}, err
	}
	var links []qunyun.Link
	track := func(u string) string {
		if s.PublicBaseURL == "" {
			return u
		}
		l := qunyun.Link{
			Code: linkCode(d.ID, u), URL: u, GroupID: d.GroupID, ContentID: c.ID, DeliveryID: d.ID,
			Source: d.Source, AccountID: d.AccountID, CreatedAt: s.now(),
		}
		if d.TargetKind == qunyun.TargetMember {
			l.MemberID = d.TargetID
		}
		links = append(links, l)
		return strings.TrimRight(s.PublicBaseURL, "/") + "/r/" + l.Code
	}
	m := wechatapi.Message{
		Kind: c.Kind, Title: title, Text: urlPattern.ReplaceAllStringFunc(text, track),
		PicURL: c.PicURL, MediaID: c.MediaID, AppID: c.AppID, PagePath: c.PagePath,
	}
	if c.URL != "" {
		m.URL = track(c.URL)
	}
	for _, l := range links {
		if err := s.Store.Links.PutLink(ctx, l); err != nil {
			return wechatapi.Message{}, err
		}
	}
	return m, nil
}

// linkCode is derived from the delivery and the URL, so a retried render
// writes the same link; 16 base32 characters (80 bits) cannot be guessed.
func linkCode(deliveryID, url string) string {
	sum := sha256.Sum256([]byte(deliveryID + "\n" + url))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:10]))
}
