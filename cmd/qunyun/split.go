package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/community"
)

func newSplitCmd() *cobra.Command {
	var file, prefix string
	var opt community.SplitOptions
	var asYAML, asCSV, listMembers bool
	cmd := &cobra.Command{
		Use:   "split -f members.csv [--groups N] [--size-cap 50]",
		Short: "Distribute a member list over groups by size cap and tier",
		Long: `Split reads a member list — CSV with a header naming id, name, tier and tags
(tags separated by ';' or '|'), or JSON lines {"id","name","tier","tags"} —
and distributes it over groups: VIP members get VIP groups of their own, no
group exceeds the size cap, sizes within a tier differ by at most one, and
members sharing a tag are spread out. The same list always gives the same
split. -f - reads stdin.

It prints one line per group (--members adds every member's group), or
--json, or --yaml for a community.yaml groups: section to complete, or
--csv for the members file community.yaml imports (members: {file: ...}):
group,id,name,tier,tags, one line per member.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("-f is required: the member list (CSV or JSON lines; - for stdin)")
			}
			data, err := readMemberList(cmd, file)
			if err != nil {
				return err
			}
			people, err := community.ReadPeople(file, data)
			if err != nil {
				return err
			}
			opt.Prefix = prefix
			as, err := community.Split(people, opt)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case wantJSON(cmd):
				return printJSON(out, as)
			case asYAML:
				_, err := io.WriteString(out, community.GroupsFragment(as, opt.SizeCap))
				return err
			case asCSV:
				return community.MembersCSV(out, as)
			}
			return printSplit(out, as, listMembers)
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "member list: .csv, or JSON lines; - for stdin")
	cmd.Flags().IntVar(&opt.Groups, "groups", 0, "total number of groups (0: as few as the size cap allows)")
	cmd.Flags().IntVar(&opt.SizeCap, "size-cap", 50, "most members per group")
	cmd.Flags().StringVar(&prefix, "prefix", "g", "group id prefix")
	cmd.Flags().BoolVar(&asYAML, "yaml", false, "print a community.yaml groups: fragment")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print the members file community.yaml imports (group,id,name,tier,tags)")
	cmd.Flags().BoolVar(&listMembers, "members", false, "also list every member's group")
	jsonFlag(cmd)
	return cmd
}

// readMemberList reads the member list file, or stdin for "-".
func readMemberList(cmd *cobra.Command, file string) ([]byte, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(cmd.InOrStdin())
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("read member list: %w", err)
	}
	return data, nil
}

// printSplit prints one line per group and, with listMembers, every
// member's group.
func printSplit(out io.Writer, as []community.Assignment, listMembers bool) error {
	var rows [][]string
	for _, a := range as {
		rows = append(rows, []string{a.GroupID, a.Tier, strconv.Itoa(len(a.Members)), tagMix(a.Members)})
	}
	if err := printTable(out, []string{"GROUP", "TIER", "MEMBERS", "TAGS"}, rows); err != nil {
		return err
	}
	if listMembers {
		fmt.Fprintln(out)
		rows = rows[:0]
		for _, a := range as {
			for _, m := range a.Members {
				rows = append(rows, []string{m.ID, m.Name, m.Tier, a.GroupID})
			}
		}
		return printTable(out, []string{"MEMBER", "NAME", "TIER", "GROUP"}, rows)
	}
	return nil
}

// tagMix summarises the tags of a group's members: "餐饮 13, 健康 12".
func tagMix(members []community.Person) string {
	counts := map[string]int{}
	var order []string
	for _, m := range members {
		for _, t := range m.Tags {
			if counts[t] == 0 {
				order = append(order, t)
			}
			counts[t]++
		}
	}
	parts := make([]string, len(order))
	for i, t := range order {
		parts[i] = fmt.Sprintf("%s %d", t, counts[t])
	}
	return strings.Join(parts, ", ")
}
