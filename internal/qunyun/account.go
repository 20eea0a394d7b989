package qunyun

import (
	"log/slog"
	"time"
)

// Channel is how an Account talks to WeChat (DESIGN.md §2).
type Channel string

const (
	ChannelOA       Channel = "oa"        // Official Account 公众号
	ChannelWeCom    Channel = "wecom"     // WeCom self-built app
	ChannelWeComBot Channel = "wecom-bot" // WeCom smart bot
	ChannelRelay    Channel = "relay"     // signed JSON bridge
)

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	switch c {
	case ChannelOA, ChannelWeCom, ChannelWeComBot, ChannelRelay:
		return true
	}
	return false
}

// Account is one OA, WeCom app, bot or bridge with its secrets. It is loaded
// from SSM (one SecureString JSON object per account under the stage prefix)
// or, locally, from the QUNYUN_ACCOUNTS file; it is never stored in the table
// and its secrets never appear in logs (see LogValue).
type Account struct {
	ID             string  `json:"id"`
	Kind           Channel `json:"kind"`
	AppID          string  `json:"appId,omitempty"`  // OA
	CorpID         string  `json:"corpId,omitempty"` // WeCom
	Token          string  `json:"token,omitempty"`
	EncodingAESKey string  `json:"encodingAESKey,omitempty"`
	Secret         string  `json:"secret,omitempty"`
	AgentID        string  `json:"agentId,omitempty"`
	HMACKey        string  `json:"hmacKey,omitempty"` // relay
	// Webhook is where a relay account's outbound messages go: the
	// bridge's webhook. (A wecom-bot account's single webhook, from before
	// robots belonged to groups, is no longer used: see Webhooks.)
	Webhook string `json:"webhook,omitempty"`
	// Webhooks are a wecom-bot account's group robots by name: each URL
	// (which holds the robot's key) posts into the one group the robot was
	// added to, the group whose community.yaml `webhook` names it. They are
	// sending secrets, kept with the account's sending half.
	Webhooks map[string]string `json:"webhooks,omitempty"`
}

// ReceiveID is the id WeChat appends to every encrypted message for this
// account: the OA appid, the WeCom corpid, "" for the smart bot.
func (a Account) ReceiveID() string {
	switch a.Kind {
	case ChannelOA:
		return a.AppID
	case ChannelWeCom:
		return a.CorpID
	}
	return ""
}

// Validate checks that the fields the account's kind needs are present.
func (a Account) Validate() error {
	if a.ID == "" {
		return Errorf(EINVALID, "account: id is required")
	}
	need := func(field, v string) error {
		if v == "" {
			return Errorf(EINVALID, "account %s (%s): %s is required", a.ID, a.Kind, field)
		}
		return nil
	}
	var errs []error
	switch a.Kind {
	case ChannelOA:
		errs = append(errs, need("appId", a.AppID), need("token", a.Token))
	case ChannelWeCom:
		errs = append(errs, need("corpId", a.CorpID), need("token", a.Token), need("encodingAESKey", a.EncodingAESKey))
	case ChannelWeComBot:
		errs = append(errs, need("token", a.Token), need("encodingAESKey", a.EncodingAESKey))
	case ChannelRelay:
		errs = append(errs, need("hmacKey", a.HMACKey))
	default:
		return Errorf(EINVALID, "account %s: kind %q is not one of oa, wecom, wecom-bot, relay", a.ID, a.Kind)
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// LogValue keeps secrets out of logs: only the id and kind are printed.
func (a Account) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", a.ID), slog.String("kind", string(a.Kind)))
}

// AccessToken is a platform access token as the containers share it.
type AccessToken struct {
	Token     string
	ExpiresAt time.Time // zero when there is none
}
