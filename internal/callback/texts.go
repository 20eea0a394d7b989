package callback

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed texts.yaml
var textsYAML []byte

// Texts is the callback's user-facing Chinese text and its detection word
// lists, loaded from the embedded texts.yaml so none of it is scattered
// through the code.
type Texts struct {
	CheckinKeywords   []string `yaml:"checkinKeywords"`
	CheckinReply      string   `yaml:"checkinReply"`
	CheckinAgainReply string   `yaml:"checkinAgainReply"`
	// CheckinRewardReply follows the check-in reply of a streak that earns
	// the rule's reward (rewardEvery days): the reward goes with it.
	CheckinRewardReply string        `yaml:"checkinRewardReply"`
	WelcomeReply       string        `yaml:"welcomeReply"`
	BotWelcomeReply    string        `yaml:"botWelcomeReply"`
	LinkNotFoundPage   string        `yaml:"linkNotFoundPage"`
	QuestionMarkers    []string      `yaml:"questionMarkers"`
	QuestionWords      []string      `yaml:"questionWords"`
	QuestionEndings    []string      `yaml:"questionEndings"`
	SmallTalk          []string      `yaml:"smallTalk"`
	VoteMarkers        []string      `yaml:"voteMarkers"`
	SensitiveWords     []string      `yaml:"sensitiveWords"`
	QRWords            []string      `yaml:"qrWords"`
	MiniProgramWords   []string      `yaml:"miniProgramWords"`
	FloodMax           int           `yaml:"floodMax"`
	FloodWindow        time.Duration `yaml:"floodWindow"`
	// ModerationActions are the words of each decision (qunyun.Action*).
	ModerationActions map[string][]string `yaml:"moderationActions"`
	ModerationReplies struct {
		Fine       string `yaml:"fine"`
		Recorded   string `yaml:"recorded"`
		NotFound   string `yaml:"notFound"`
		NotAllowed string `yaml:"notAllowed"`
	} `yaml:"moderationReplies"`
	ChannelLimits map[string]string `yaml:"channelLimits"`
}

// DefaultTexts returns the embedded texts.
func DefaultTexts() (Texts, error) {
	var t Texts
	if err := yaml.Unmarshal(textsYAML, &t); err != nil {
		return Texts{}, fmt.Errorf("callback texts.yaml: %w", err)
	}
	return t, nil
}

// replyData is what reply templates can use.
type replyData struct {
	Name   string
	Group  string
	Streak int
	Total  int
	Reward string // a check-in rule's reward
	// A moderator's decision: the case, their word, what it allowed, and
	// what the channel lets us do.
	Code, Action, Allowed, Limit string
}

// templates parses each distinct template text once; rule replies come from
// the table, so they are parsed on first use and kept.
type templates struct {
	mu     sync.Mutex
	parsed map[string]*template.Template
}

// render fills a template; a broken template is reported, never sent raw.
func (ts *templates) render(text string, d replyData) (string, error) {
	ts.mu.Lock()
	tpl, ok := ts.parsed[text]
	if !ok {
		var err error
		tpl, err = template.New("reply").Option("missingkey=zero").Parse(text)
		if err != nil {
			ts.mu.Unlock()
			return "", fmt.Errorf("parse reply template: %w", err)
		}
		if ts.parsed == nil || len(ts.parsed) > 1000 {
			ts.parsed = map[string]*template.Template{}
		}
		ts.parsed[text] = tpl
	}
	ts.mu.Unlock()
	var b strings.Builder
	if err := tpl.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render reply template: %w", err)
	}
	return b.String(), nil
}
