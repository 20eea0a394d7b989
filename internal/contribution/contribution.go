// Package contribution is what members submit as content (投稿): reading a
// submission, the checks it must pass, the draft it becomes, and the
// replies members get (texts.yaml). Editors submit from WeChat; staff
// approve or reject with `qunyun content review`.
//
// It must not store, send or decide who is an editor: the callback and the
// CLI do, with their stores; this package only judges and words.
package contribution

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

//go:embed texts.yaml
var textsYAML []byte

// Texts are the markers, limits and replies of texts.yaml.
type Texts struct {
	Markers  []string `yaml:"markers"`
	MaxRunes int      `yaml:"maxRunes"`
	Tag      string   `yaml:"tag"`
	Replies  struct {
		Received  string `yaml:"received"`
		Empty     string `yaml:"empty"`
		TooLong   string `yaml:"tooLong"`
		Refused   string `yaml:"refused"`
		NotEditor string `yaml:"notEditor"`
		Approved  string `yaml:"approved"`
		Rejected  string `yaml:"rejected"`
	} `yaml:"replies"`
	RefusedSignals map[string]string `yaml:"refusedSignals"`
}

// DefaultTexts returns the embedded texts.
func DefaultTexts() (Texts, error) {
	var t Texts
	if err := yaml.Unmarshal(textsYAML, &t); err != nil {
		return Texts{}, fmt.Errorf("contribution texts.yaml: %w", err)
	}
	return t, nil
}

// Body returns what follows a submission marker ("投稿 …"), and whether
// text is a submission at all.
func (t Texts) Body(text string) (string, bool) {
	text = strings.TrimSpace(text)
	for _, m := range t.Markers {
		if rest, ok := strings.CutPrefix(text, m); ok {
			return strings.TrimSpace(strings.TrimLeft(rest, ":：")), true
		}
	}
	return "", false
}

// Submission is what a member sent to become content.
type Submission struct {
	MessageID  string
	AccountID  string
	Channel    qunyun.Channel
	GroupID    string // where they are editor
	MemberID   string // their id in GroupID
	From       string // the id they wrote under, when not MemberID (qunyun.Contribution.From)
	MemberName string
	Text, URL  string
	At         time.Time
}

// Draft checks s and returns the draft content it becomes and the reply
// to the member; ok is false when s is refused, the reply saying why.
// checker flags what no contribution may carry (a QR invite, sensitive
// words, a mini program); a plain link is what contributions are for.
func (t Texts) Draft(s Submission, checker *moderation.Checker) (c qunyun.Content, reply string, ok bool, err error) {
	body := strings.TrimSpace(s.Text)
	refuse := func(tpl, why string) (qunyun.Content, string, bool, error) {
		r, err := t.Render(tpl, "", why)
		return qunyun.Content{}, r, false, err
	}
	if body == "" && s.URL == "" {
		return refuse(t.Replies.Empty, "")
	}
	if utf8.RuneCountInString(body) > t.MaxRunes {
		return refuse(t.Replies.TooLong, "")
	}
	signals, _ := checker.Signals(moderation.Message{Group: s.GroupID, Kind: qunyun.KindText, Text: body, URL: s.URL})
	var why []string
	for _, sig := range signals {
		if name, refused := t.RefusedSignals[sig]; refused {
			why = append(why, name)
		}
	}
	if len(why) > 0 {
		slices.Sort(why)
		return refuse(t.Replies.Refused, strings.Join(why, "、"))
	}
	c = qunyun.Content{
		ID: ID(s.MessageID), Kind: qunyun.ContentText, Text: body, Tags: []string{t.Tag},
		Contribution: &qunyun.Contribution{
			State: qunyun.ContentDraft, MemberID: s.MemberID, From: s.From, MemberName: s.MemberName, GroupID: s.GroupID,
			AccountID: s.AccountID, Channel: s.Channel, MessageID: s.MessageID, SubmittedAt: s.At.UTC(),
		},
	}
	if s.URL != "" {
		c.Kind, c.URL, c.Title = qunyun.ContentLink, s.URL, moderation.Excerpt(body, 30)
	}
	reply, err = t.Render(t.Replies.Received, c.ID, "")
	return c, reply, true, err
}

// ID is a contribution's id, from the message that submitted it: a retry
// of the message names the same draft. Short, so staff can type it.
func ID(messageID string) string {
	sum := sha256.Sum256([]byte(messageID))
	return "tg-" + hex.EncodeToString(sum[:4])
}

// Render fills one of the replies.
func (t Texts) Render(tpl string, id, why string) (string, error) {
	p, err := template.New("reply").Option("missingkey=zero").Parse(tpl)
	if err != nil {
		return "", fmt.Errorf("contribution reply: %w", err)
	}
	var b strings.Builder
	err = p.Execute(&b, map[string]any{"ID": id, "Why": why, "Max": t.MaxRunes})
	return b.String(), err
}
