package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/moderation"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// newModerationCmd answers a moderation alert by its code, as a moderator's
// reply 「无误 <code>」 to the WeCom app does.
func newModerationCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "moderation",
		Short: "Answer a moderation alert by its code (fine, hide, mute, remove)",
		Long: `Every moderation alert carries a six-character code. "fine" marks it a
false alarm and allows what it flagged (its link domains and words) in that
group from then on; hide, mute and remove are recorded for the moderator to
carry out by hand, since no channel lets Qunyun do them. Each decision is
recorded with who (--by, default $USER) and when.`,
	}
	for _, a := range []struct {
		action qunyun.ModerationAction
		short  string
	}{
		{qunyun.ActionFine, "Mark an alert a false alarm and allow what it flagged in its group"},
		{qunyun.ActionHide, "Record that the flagged message is to be recalled"},
		{qunyun.ActionMute, "Record that the member is to be muted"},
		{qunyun.ActionRemove, "Record that the member is to be removed from the group"},
	} {
		cmd.AddCommand(decisionCmd(a.action, a.short))
	}
	return cmd
}

func decisionCmd(action qunyun.ModerationAction, short string) *cobra.Command {
	var by string
	cmd := &cobra.Command{
		Use: string(action) + " <code>", Short: short,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if by == "" {
				return fmt.Errorf("--by is empty and $USER is not set: say who decides")
			}
			ctx := cmd.Context()
			t, err := openTable(ctx, cmd)
			if err != nil {
				return err
			}
			code := moderation.NormaliseCode(args[0])
			c, err := dynamo.Moderation{Table: t}.Decide(ctx, code, qunyun.ModerationDecision{
				Action: action, By: by, At: t.Now().UTC(), Done: action == qunyun.ActionFine,
			})
			if err != nil {
				return tableError(cmd, err)
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), c)
			}
			d := c.Decisions[len(c.Decisions)-1]
			for _, got := range c.Decisions {
				if got.Action == action && got.By == by {
					d = got
				}
			}
			line := fmt.Sprintf("%s in %s: %s by %s", c.Code, c.GroupID, d.Action, d.By)
			if len(d.Allowed) > 0 {
				line += "; allowed " + strings.Join(d.Allowed, ", ")
			}
			if !d.Done {
				line += "; recorded, to be done by hand in the group"
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), line)
			return err
		},
	}
	cmd.Flags().StringVar(&by, "by", os.Getenv("USER"), "who decides, for the record (default $USER)")
	jsonFlag(cmd)
	tableFlags(cmd)
	return cmd
}
