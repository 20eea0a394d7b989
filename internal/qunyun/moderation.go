package qunyun

import "time"

// ModerationBatch is every moderation hit of one group in one alert window
// (e.g. ten minutes): a burst of thirty messages is one batch, so the
// moderators get one alert with counts and samples rather than one alert
// per message, and a follow-up if the burst goes on.
type ModerationBatch struct {
	GroupID string    `json:"group" dynamodbav:"group"`
	Window  time.Time `json:"window" dynamodbav:"window"` // start of the window, UTC
	Hits    int       `json:"hits" dynamodbav:"hits"`
	// Signals counts the hits per signal (qunyun.Signal*).
	Signals map[string]int `json:"signals,omitempty" dynamodbav:"-"`
	// Members are the senders.
	Members []string `json:"members,omitempty" dynamodbav:"members,stringset,omitempty"`
	// First and Latest are the hits an alert quotes.
	First  ModerationSample `json:"first" dynamodbav:"first"`
	Latest ModerationSample `json:"latest" dynamodbav:"latest"`
	// AlertHit and FollowUpHit are the hits that raised the window's alert
	// and its follow-up: the cases moderators answer are theirs
	// (moderation.CaseCode).
	AlertHit    string `json:"alertHit,omitempty" dynamodbav:"alert1,omitempty"`
	FollowUpHit string `json:"followUpHit,omitempty" dynamodbav:"alert2,omitempty"`
}

// ModerationSample is one hit as an alert quotes it.
type ModerationSample struct {
	HitID      string   `json:"hit" dynamodbav:"hit"`
	MemberID   string   `json:"member" dynamodbav:"member"`
	MemberName string   `json:"memberName,omitempty" dynamodbav:"memberName,omitempty"`
	Signals    []string `json:"signals" dynamodbav:"signals"`
	Text       string   `json:"text,omitempty" dynamodbav:"text,omitempty"`
}

// ModerationCase is a hit a moderator was alerted to, under the short code
// the alert carries, so the moderator can answer it (「无误 <code>」) and the
// decision is recorded with who and when.
type ModerationCase struct {
	Code      string    `json:"code" dynamodbav:"code"`
	HitID     string    `json:"hit" dynamodbav:"hit"`
	AccountID string    `json:"account" dynamodbav:"account"`
	Channel   Channel   `json:"channel,omitempty" dynamodbav:"channel,omitempty"` // the group's, for what a decision can do
	GroupID   string    `json:"group" dynamodbav:"group"`
	MemberID  string    `json:"member" dynamodbav:"member"`
	Signals   []string  `json:"signals" dynamodbav:"signals"`
	Words     []string  `json:"words,omitempty" dynamodbav:"words,omitempty"`     // sensitive words found
	Domains   []string  `json:"domains,omitempty" dynamodbav:"domains,omitempty"` // link domains found
	Text      string    `json:"text,omitempty" dynamodbav:"text,omitempty"`
	At        time.Time `json:"at" dynamodbav:"at"`
	// Decisions are what moderators did about it, oldest first.
	Decisions []ModerationDecision `json:"decisions,omitempty" dynamodbav:"decisions,omitempty"`
}

// ModerationAction is what a moderator decides about a case.
type ModerationAction string

const (
	ActionFine   ModerationAction = "fine"   // a false alarm: allow what was flagged
	ActionHide   ModerationAction = "hide"   // hide / recall the message
	ActionMute   ModerationAction = "mute"   // mute the member
	ActionRemove ModerationAction = "remove" // remove the member from the group
)

// ModerationDecision is one moderator's decision on a case. Done says
// whether Qunyun could carry it out on the group's channel; when it could
// not, the decision is recorded for the moderator to carry out by hand.
type ModerationDecision struct {
	Action ModerationAction `json:"action" dynamodbav:"action"`
	By     string           `json:"by" dynamodbav:"by"`
	At     time.Time        `json:"at" dynamodbav:"at"`
	Done   bool             `json:"done,omitempty" dynamodbav:"done,omitempty"`
	// Allowed lists what "fine" added to the allow-list ("domain:x.com").
	Allowed []string `json:"allowed,omitempty" dynamodbav:"allowed,omitempty"`
}

// ModerationRules are an account's moderation lists (community.yaml
// moderation): words that flag a message, words that invite a QR scan or
// open a mini program, and domains and phrases that always pass. A list
// left empty takes the built-in default.
type ModerationRules struct {
	AccountID        string   `json:"account" yaml:"account" dynamodbav:"account"`
	SensitiveWords   []string `json:"sensitiveWords,omitempty" yaml:"sensitiveWords,omitempty" dynamodbav:"sensitiveWords,omitempty"`
	QRWords          []string `json:"qrWords,omitempty" yaml:"qrWords,omitempty" dynamodbav:"qrWords,omitempty"`
	MiniProgramWords []string `json:"miniProgramWords,omitempty" yaml:"miniProgramWords,omitempty" dynamodbav:"miniProgramWords,omitempty"`
	AllowDomains     []string `json:"allowDomains,omitempty" yaml:"allowDomains,omitempty" dynamodbav:"allowDomains,omitempty"`
	AllowPhrases     []string `json:"allowPhrases,omitempty" yaml:"allowPhrases,omitempty" dynamodbav:"allowPhrases,omitempty"`
}

// WithDefaults fills each empty word list from def.
func (r ModerationRules) WithDefaults(def ModerationRules) ModerationRules {
	fill := func(have, d []string) []string {
		if len(have) == 0 {
			return d
		}
		return have
	}
	r.SensitiveWords = fill(r.SensitiveWords, def.SensitiveWords)
	r.QRWords = fill(r.QRWords, def.QRWords)
	r.MiniProgramWords = fill(r.MiniProgramWords, def.MiniProgramWords)
	return r
}

// Allow is one allow-list entry: a domain or phrase moderation lets pass in
// a group (or every group of the account, Scope "*").
type Allow struct {
	AccountID string    `dynamodbav:"account"`
	Scope     string    `dynamodbav:"scope"`
	Kind      string    `dynamodbav:"kind"` // "domain" or "phrase"
	Value     string    `dynamodbav:"value"`
	By        string    `dynamodbav:"by"`
	At        time.Time `dynamodbav:"at"`
	Case      string    `dynamodbav:"case,omitempty"` // the code whose "fine" added it
}

// AllowScopeAccount is the scope of an entry that holds in every group.
const AllowScopeAccount = "*"
