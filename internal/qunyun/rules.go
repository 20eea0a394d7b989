package qunyun

// KeywordRule answers a message at once (a passive reply) when it matches.
type KeywordRule struct {
	ID        string   `json:"id" yaml:"id" dynamodbav:"id"`
	AccountID string   `json:"account" yaml:"account" dynamodbav:"account"`
	Groups    []string `json:"groups,omitempty" yaml:"groups,omitempty" dynamodbav:"groups,omitempty"` // empty: every group and 1:1
	Match     string   `json:"match" yaml:"match" dynamodbav:"match"`                                  // "exact" or "contains"
	Keywords  []string `json:"keywords" yaml:"keywords" dynamodbav:"keywords"`
	Reply     string   `json:"reply" yaml:"reply" dynamodbav:"reply"`                         // template
	Tag       string   `json:"tag,omitempty" yaml:"tag,omitempty" dynamodbav:"tag,omitempty"` // keyword→tag for scoring
}

// CheckinRule turns a keyword into a daily check-in 打卡 with streaks.
type CheckinRule struct {
	ID        string   `json:"id" yaml:"id" dynamodbav:"id"`
	AccountID string   `json:"account" yaml:"account" dynamodbav:"account"`
	Groups    []string `json:"groups,omitempty" yaml:"groups,omitempty" dynamodbav:"groups,omitempty"`
	Keywords  []string `json:"keywords" yaml:"keywords" dynamodbav:"keywords"`                      // default ["打卡"]
	Reply     string   `json:"reply,omitempty" yaml:"reply,omitempty" dynamodbav:"reply,omitempty"` // template with {{.Streak}}
	// Reward is a benefit given at streak milestones (scoring counts it).
	RewardEvery int    `json:"rewardEvery,omitempty" yaml:"rewardEvery,omitempty" dynamodbav:"rewardEvery,omitempty"`
	Reward      string `json:"reward,omitempty" yaml:"reward,omitempty" dynamodbav:"reward,omitempty"`
}

// Contest is an Official Account comment contest 留言活动 (seed 003).
type Contest struct {
	ID        string `json:"id" yaml:"id" dynamodbav:"id"`
	AccountID string `json:"account" yaml:"account" dynamodbav:"account"`
	Title     string `json:"title,omitempty" yaml:"title,omitempty" dynamodbav:"title,omitempty"`
	// The article whose comments are the entries.
	MsgDataID string `json:"msgDataId" yaml:"msgDataId" dynamodbav:"msgDataId"`
	Index     int    `json:"index,omitempty" yaml:"index,omitempty" dynamodbav:"index,omitempty"`
	Start     string `json:"start" yaml:"start" dynamodbav:"start"` // RFC 3339
	End       string `json:"end" yaml:"end" dynamodbav:"end"`
	MinLength int    `json:"minLength,omitempty" yaml:"minLength,omitempty" dynamodbav:"minLength,omitempty"`
	Winners   int    `json:"winners,omitempty" yaml:"winners,omitempty" dynamodbav:"winners,omitempty"`
}
