package wechat

// Channel names an inbound channel, as in DESIGN.md §2.
type Channel string

// The channels.
const (
	ChannelOA       Channel = "oa"
	ChannelWeCom    Channel = "wecom"
	ChannelWeComBot Channel = "wecom-bot"
	ChannelRelay    Channel = "relay"
)

// Inbound is any decoded callback. The concrete types are pointers to the
// structs of this package (*OAText, *OASubscribe, *WeComExternalChat,
// *BotMessage, *RelayEvent, …); switch on them:
//
//	switch m := in.(type) {
//	case *wechat.OAText:
//		reply(m.Content)
//	case *wechat.WeComExternalChat:
//		if m.UpdateDetail == wechat.DetailAddMember { … }
//	}
type Inbound interface {
	// Channel tells which channel the value came from.
	Channel() Channel
}
