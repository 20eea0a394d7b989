package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// newPromoteCmd makes a leader candidate a moderator or editor of a group.
func newPromoteCmd() *cobra.Command {
	var to string
	cmd := roleCmd("promote <member> --group <g> --to moderator|editor [--reason ...]",
		"Make a member a moderator or editor of a group (audited)",
		`Promote gives a member of a group the role scoring found them fit for
(the report lists each leader candidate with this command). The change is
recorded with who made it (--by, default $USER), when and why (--reason).
Owners and hosts come from community.yaml's staff: change them there.`,
		func() qunyun.Role { return qunyun.Role(to) })
	cmd.Flags().StringVar(&to, "to", "", "the new role: moderator or editor")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

// newDemoteCmd makes a moderator or editor a plain member again.
func newDemoteCmd() *cobra.Command {
	return roleCmd("demote <member> --group <g> [--reason ...]",
		"Make a moderator or editor of a group a plain member again (audited)",
		`Demote takes back a role given with promote; the change is recorded with
who made it (--by, default $USER), when and why (--reason). A role that
community.yaml's staff gives comes back at the next apply: remove the group
from that staff entry instead.`,
		func() qunyun.Role { return qunyun.RoleMember })
}

func roleCmd(use, short, long string, to func() qunyun.Role) *cobra.Command {
	var group, by, reason string
	cmd := &cobra.Command{
		Use: use, Short: short, Long: long,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if group == "" {
				return fmt.Errorf("--group is required: the group the role is for")
			}
			if by == "" {
				return fmt.Errorf("--by is empty and $USER is not set: say who makes the change")
			}
			ctx := cmd.Context()
			t, err := openTable(ctx, cmd)
			if err != nil {
				return err
			}
			rc, err := dynamo.People{Table: t}.ChangeRole(ctx, qunyun.RoleChange{
				GroupID: group, MemberID: args[0], To: to(), By: by, At: t.Now().UTC(), Reason: reason,
			})
			if err != nil {
				return tableError(cmd, err)
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), rc)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s in %s: %s → %s (by %s)\n", rc.MemberID, rc.GroupID, rc.From, rc.To, rc.By)
			return err
		},
	}
	cmd.Flags().StringVar(&group, "group", "", "the group")
	cmd.Flags().StringVar(&by, "by", os.Getenv("USER"), "who makes the change, for the audit record (default $USER)")
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit record")
	jsonFlag(cmd)
	tableFlags(cmd)
	return cmd
}
