package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
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
	var asYAML, listMembers bool
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
--json, or --yaml for a community.yaml groups: section to complete.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("-f is required: the member list (CSV or JSON lines; - for stdin)")
			}
			var data []byte
			var err error
			if file == "-" {
				data, err = io.ReadAll(cmd.InOrStdin())
			} else {
				data, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("read member list: %w", err)
			}
			people, err := readPeople(file, data)
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
			}
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
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "member list: .csv, or JSON lines; - for stdin")
	cmd.Flags().IntVar(&opt.Groups, "groups", 0, "total number of groups (0: as few as the size cap allows)")
	cmd.Flags().IntVar(&opt.SizeCap, "size-cap", 50, "most members per group")
	cmd.Flags().StringVar(&prefix, "prefix", "g", "group id prefix")
	cmd.Flags().BoolVar(&asYAML, "yaml", false, "print a community.yaml groups: fragment")
	cmd.Flags().BoolVar(&listMembers, "members", false, "also list every member's group")
	return cmd
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

// readPeople parses JSON lines when the content starts with '{', CSV
// otherwise; errors name the line.
func readPeople(name string, data []byte) ([]community.Person, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if bytes.HasPrefix(trimmed, []byte("{")) {
		var people []community.Person
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for line := 1; sc.Scan(); line++ {
			text := strings.TrimSpace(sc.Text())
			if text == "" {
				continue
			}
			var p community.Person
			dec := json.NewDecoder(strings.NewReader(text))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&p); err != nil {
				return nil, fmt.Errorf("%s:%d: expected a JSON object with id, name, tier, tags: %v", name, line, err)
			}
			people = append(people, p)
		}
		return people, sc.Err()
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%s: empty; expected a header line id,name,tier,tags", name)
	}
	col := map[string]int{}
	for i, h := range records[0] {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	if _, ok := col["id"]; !ok {
		return nil, fmt.Errorf("%s:1: the header has no id column; expected id,name,tier,tags", name)
	}
	get := func(rec []string, field string) string {
		if i, ok := col[field]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var people []community.Person
	for i, rec := range records[1:] {
		p := community.Person{ID: get(rec, "id"), Name: get(rec, "name"), Tier: get(rec, "tier")}
		if p.ID == "" {
			return nil, fmt.Errorf("%s:%d: empty id", name, i+2)
		}
		for _, t := range strings.FieldsFunc(get(rec, "tags"), func(r rune) bool { return r == ';' || r == '|' }) {
			if t = strings.TrimSpace(t); t != "" {
				p.Tags = append(p.Tags, t)
			}
		}
		people = append(people, p)
	}
	return people, nil
}
