package qunyun

// AccountTexts are an account's own replies (community.yaml `texts`); a
// text left empty uses the built-in default (internal/callback/texts.yaml).
type AccountTexts struct {
	AccountID string `json:"account" yaml:"account" dynamodbav:"account"`
	// Welcome answers a follow of the Official Account (or the WeCom app).
	Welcome string `json:"welcome,omitempty" yaml:"welcome,omitempty" dynamodbav:"welcome,omitempty"`
	// BotWelcome answers a member opening a chat with the smart bot.
	BotWelcome string `json:"botWelcome,omitempty" yaml:"botWelcome,omitempty" dynamodbav:"botWelcome,omitempty"`
	// CheckinAgain answers a second check-in on the same day; a template
	// with .Name, .Streak and .Total, like a check-in rule's reply.
	CheckinAgain string `json:"checkinAgain,omitempty" yaml:"checkinAgain,omitempty" dynamodbav:"checkinAgain,omitempty"`
}

// MaxTextRunes bounds an account text: a passive reply to WeChat carries
// at most 2048 bytes, about 680 Chinese characters.
const MaxTextRunes = 600
