package main

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/session"
)

func newPlanCmd() *cobra.Command {
	var week string
	var apply bool
	cmd := &cobra.Command{
		Use:   "plan [--week this|next|YYYY-MM-DD] [--apply]",
		Short: "Preview (or with --apply, book) a week's host rotation",
		Long: `Plan runs the session planner for a week (Monday to Monday, Asia/Shanghai)
on the table's groups, hosts, targets and booked sessions, as the session tick
does: --week is "next" (the default: what Sunday evening's tick will plan),
"this" (the rest of the current week) or any date in the week. It shows the
sessions the plan would add, every group's unmet demand with the reason, and
each host's load against their limit. Nothing is written unless --apply is
given; then the sessions are created and the week is marked planned, so the
tick does not plan it again. Planning a week twice adds nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			clk, err := operatorClock()
			if err != nil {
				return err
			}
			start, err := planWeekStart(week, clk.Now())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			t, err := openTable(ctx, cmd)
			if err != nil {
				return err
			}
			svc := &session.Service{Sessions: dynamo.Sessions{Table: t}, Catalog: dynamo.Catalog{Table: t}, Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			var plan session.Plan
			if apply {
				plan, err = svc.PlanAndMark(ctx, start)
			} else {
				plan, err = svc.PlanWeek(ctx, start, true)
			}
			if err != nil {
				return tableError(cmd, err)
			}
			hosts, err := dynamo.Catalog{Table: t}.Hosts(ctx)
			if err != nil {
				return tableError(cmd, err)
			}
			out := newPlanOutput(plan, hosts, apply)
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), out)
			}
			return printPlan(cmd.OutOrStdout(), out)
		},
	}
	cmd.Flags().StringVar(&week, "week", "next", `the week: "this", "next" or a date in it (YYYY-MM-DD)`)
	cmd.Flags().BoolVar(&apply, "apply", false, "create the sessions and mark the week planned")
	jsonFlag(cmd)
	tableFlags(cmd)
	return cmd
}

// planWeekStart turns --week into the Monday 00:00 Asia/Shanghai it names.
func planWeekStart(week string, now time.Time) (time.Time, error) {
	switch week {
	case "this":
		return session.WeekStart(now), nil
	case "next", "":
		return session.NextWeekStart(now), nil
	}
	d, err := time.ParseInLocation(time.DateOnly, week, qunyun.LoadLocation(""))
	if err != nil {
		return time.Time{}, fmt.Errorf(`--week %q: expected "this", "next" or a date YYYY-MM-DD`, week)
	}
	return session.WeekStart(d), nil
}

// planOutput is the plan as --json prints it: camelCase, lists never null.
type planOutput struct {
	Week     string          `json:"week"` // the Monday, YYYY-MM-DD
	Applied  bool            `json:"applied"`
	Sessions []plannedOutput `json:"sessions"`
	Unmet    []session.Unmet `json:"unmet"`
	Hosts    []hostLoadOut   `json:"hosts"`
	Notes    []string        `json:"notes"`
}

type plannedOutput struct {
	ID      string    `json:"id"`
	GroupID string    `json:"group"`
	HostID  string    `json:"host"`
	Topic   string    `json:"topic"`
	Start   time.Time `json:"start"`
	Minutes int       `json:"minutes"`
}

type hostLoadOut struct {
	session.HostLoad
	Name string `json:"name"`
}

func newPlanOutput(p session.Plan, hosts []qunyun.Host, applied bool) planOutput {
	out := planOutput{Week: p.WeekStart.Format(time.DateOnly), Applied: applied,
		Sessions: []plannedOutput{}, Unmet: []session.Unmet{}, Hosts: []hostLoadOut{}, Notes: []string{}}
	for _, s := range p.Sessions {
		out.Sessions = append(out.Sessions, plannedOutput{ID: s.ID, GroupID: s.GroupID, HostID: s.HostID, Topic: s.Topic,
			Start: s.Start.In(qunyun.LoadLocation("")), Minutes: int(s.End.Sub(s.Start) / time.Minute)})
	}
	out.Unmet = append(out.Unmet, p.Unmet...)
	out.Notes = append(out.Notes, p.Notes...)
	names := map[string]string{}
	for _, h := range hosts {
		names[h.ID] = h.Name
	}
	for _, l := range p.Loads {
		out.Hosts = append(out.Hosts, hostLoadOut{HostLoad: l, Name: names[l.HostID]})
	}
	return out
}

func printPlan(w io.Writer, p planOutput) error {
	verb := "would add"
	if p.Applied {
		verb = "added"
	}
	fmt.Fprintf(w, "week of %s: the plan %s %d session(s)\n\n", p.Week, verb, len(p.Sessions))
	if len(p.Sessions) > 0 {
		var rows [][]string
		for _, s := range p.Sessions {
			rows = append(rows, []string{s.Start.Format("Mon 01-02 15:04"), strconv.Itoa(s.Minutes), s.GroupID, s.HostID, s.Topic, s.ID})
		}
		if err := printTable(w, []string{"START (Asia/Shanghai)", "MIN", "GROUP", "HOST", "TOPIC", "ID"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	if len(p.Unmet) > 0 {
		var rows [][]string
		for _, u := range p.Unmet {
			rows = append(rows, []string{u.GroupID, fmt.Sprintf("%d/%d", u.Planned, u.Wanted), u.Reason})
		}
		fmt.Fprintln(w, "unmet demand:")
		if err := printTable(w, []string{"GROUP", "PLANNED", "WHY"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	var rows [][]string
	for _, h := range p.Hosts {
		rows = append(rows, []string{h.HostID, h.Name, strconv.Itoa(h.Booked), strconv.Itoa(h.Planned), fmt.Sprintf("%d/%d", h.Booked+h.Planned, h.Limit)})
	}
	fmt.Fprintln(w, "host load:")
	if err := printTable(w, []string{"HOST", "NAME", "BOOKED", "PLANNED", "WEEK/LIMIT"}, rows); err != nil {
		return err
	}
	for _, n := range p.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	return nil
}
