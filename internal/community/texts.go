package community

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// texts checks an account's own replies: each text given is not blank, fits
// a WeChat reply, and a template (checkinAgain) renders with the fields the
// callback fills. botWelcome belongs to a smart bot, the only channel that
// asks for one.
func (c *checker) texts(x qunyun.AccountTexts, at ...string) {
	c.account(x.AccountID, append(slices.Clone(at), "account")...)
	for _, t := range []struct {
		field, text string
		template    bool
	}{{"welcome", x.Welcome, false}, {"botWelcome", x.BotWelcome, false}, {"checkinAgain", x.CheckinAgain, true}} {
		tokens := append(slices.Clone(at), t.field)
		if _, given := c.ix.nodes[pointer(tokens)]; !given {
			continue
		}
		s := strings.TrimSpace(t.text)
		switch n := utf8.RuneCountInString(s); {
		case n == 0:
			c.add(fmt.Sprintf("%s is empty; expected the text to send, or leave %s out to use the default", t.field, t.field), tokens...)
		case n > qunyun.MaxTextRunes:
			c.add(fmt.Sprintf("%s is %d characters; expected at most %d (a WeChat reply carries 2048 bytes)", t.field, n, qunyun.MaxTextRunes), tokens...)
		case t.template:
			if err := checkReplyTemplate(s); err != nil {
				c.add(fmt.Sprintf("%s is not a valid template: %v; expected Go template fields .Name, .Streak, .Total", t.field, err), tokens...)
			}
		}
		if t.field == "botWelcome" {
			if k, ok := c.kinds[x.AccountID]; ok && k != qunyun.ChannelWeComBot {
				c.add(fmt.Sprintf("account %q is %s; only a wecom-bot account is asked for a bot welcome", x.AccountID, k), tokens...)
			}
		}
	}
}

// checkReplyTemplate renders text with the fields a check-in reply has
// (callback's replyData), so a typo fails at apply, not in a member's chat.
func checkReplyTemplate(text string) error {
	tpl, err := template.New("reply").Parse(text)
	if err != nil {
		return err
	}
	return tpl.Execute(io.Discard, struct {
		Name, Group, Reward string
		Streak, Total       int
	}{})
}

// trimTexts stores each text without the spaces and newlines around it
// (a YAML block scalar ends in one).
func trimTexts(in []qunyun.AccountTexts) []qunyun.AccountTexts {
	out := slices.Clone(in)
	for i := range out {
		out[i].Welcome = strings.TrimSpace(out[i].Welcome)
		out[i].BotWelcome = strings.TrimSpace(out[i].BotWelcome)
		out[i].CheckinAgain = strings.TrimSpace(out[i].CheckinAgain)
	}
	return out
}
