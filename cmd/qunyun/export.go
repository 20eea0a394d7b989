package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/dynamo"
)

// exportKinds lists what export writes, in this order; each reads one kind
// and hands every record to emit.
var exportKinds = []struct {
	name string
	read func(ctx context.Context, t *dynamo.Table, scope exportScope, emit func(v any) error) error
}{
	{"group", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		return emitAll(ctx, dynamo.Catalog{Table: t}.Groups, emit)
	}},
	{"member", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		groups, err := dynamo.Catalog{Table: t}.Groups(ctx)
		if err != nil {
			return err
		}
		for _, g := range groups {
			members, err := dynamo.Catalog{Table: t}.Members(ctx, g.ID)
			if err != nil {
				return err
			}
			for _, m := range members {
				if err := emit(m); err != nil {
					return err
				}
			}
		}
		return nil
	}},
	{"staff", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		return emitAll(ctx, dynamo.People{Table: t}.Staff, emit)
	}},
	{"content", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		return emitAll(ctx, dynamo.Catalog{Table: t}.Contents, emit)
	}},
	{"plan", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		return emitAll(ctx, dynamo.Catalog{Table: t}.Plans, emit)
	}},
	{"host", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		return emitAll(ctx, dynamo.Catalog{Table: t}.Hosts, emit)
	}},
	{"keyword-rule", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		keywords, _, err := dynamo.Catalog{Table: t}.AllRules(ctx)
		if err != nil {
			return err
		}
		return emitEach(keywords, emit)
	}},
	{"checkin-rule", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		_, checkins, err := dynamo.Catalog{Table: t}.AllRules(ctx)
		if err != nil {
			return err
		}
		return emitEach(checkins, emit)
	}},
	{"contest", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		return emitAll(ctx, dynamo.Catalog{Table: t}.Contests, emit)
	}},
	{"moderation", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		return emitAll(ctx, dynamo.Moderation{Table: t}.AllRules, emit)
	}},
	{"texts", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		return emitAll(ctx, dynamo.Texts{Table: t}.AllTexts, emit)
	}},
	{"session-target", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		return emitAll(ctx, dynamo.Catalog{Table: t}.SessionTargets, emit)
	}},
	{"session", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		// Every session, through the start-time index.
		sessions, err := dynamo.Sessions{Table: t}.SessionsStarting(ctx, time.Unix(0, 0), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			return err
		}
		return emitEach(sessions, emit)
	}},
	{"score", func(ctx context.Context, t *dynamo.Table, _ exportScope, emit func(any) error) error {
		groups, err := dynamo.Catalog{Table: t}.Groups(ctx)
		if err != nil {
			return err
		}
		for _, g := range groups {
			scores, err := dynamo.Scores{Table: t}.GroupScores(ctx, g.ID, "0000-00-00", "9999-99-99")
			if err != nil {
				return err
			}
			if err := emitEach(scores, emit); err != nil {
				return err
			}
		}
		return nil
	}},
	{"delivery", func(ctx context.Context, t *dynamo.Table, scope exportScope, emit func(any) error) error {
		// Deliveries are keyed by day: the last --days UTC dates.
		for _, date := range scope.deliveryDates {
			items, err := dynamo.Deliveries{Table: t}.DayDeliveries(ctx, date, "")
			if err != nil {
				return err
			}
			for _, it := range items {
				if err := emit(it.Delivery); err != nil {
					return err
				}
			}
		}
		return nil
	}},
}

// exportScope bounds the kinds that grow every day.
type exportScope struct {
	deliveryDates []string // UTC dates, oldest first
}

func emitAll[T any](ctx context.Context, list func(context.Context) ([]T, error), emit func(any) error) error {
	values, err := list(ctx)
	if err != nil {
		return err
	}
	return emitEach(values, emit)
}

func emitEach[T any](values []T, emit func(any) error) error {
	for _, v := range values {
		if err := emit(v); err != nil {
			return err
		}
	}
	return nil
}

// exportLine is one line of the export: the kind and the record as the
// domain type marshals it.
type exportLine struct {
	Kind  string `json:"kind"`
	Value any    `json:"value"`
}

func newExportCmd() *cobra.Command {
	var kinds []string
	var output string
	var days int
	names := make([]string, len(exportKinds))
	for i, k := range exportKinds {
		names[i] = k.name
	}
	cmd := &cobra.Command{
		Use:   "export [--kind group,plan,...] [-o file]",
		Short: "Write what the table holds as JSON lines",
		Long: `Export writes one JSON object per line, {"kind": ..., "value": ...}, for every
record of the chosen kinds (default all): ` + strings.Join(names, ", ") + `.
Deliveries are kept per day: --days says how many days back to export.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runExport(cmd, names, kinds, days, output)
		},
	}
	cmd.Flags().StringSliceVar(&kinds, "kind", nil, "only these kinds (comma-separated)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of stdout")
	cmd.Flags().IntVar(&days, "days", 7, "deliveries: how many UTC days back from today (0: none)")
	tableFlags(cmd)
	return cmd
}

// runExport writes the records of the kinds asked for (all when none
// is) to output, or stdout when it is "" or "-".
func runExport(cmd *cobra.Command, names, kinds []string, days int, output string) error {
	ctx := cmd.Context()
	want, scope, err := exportWanted(names, kinds, days)
	if err != nil {
		return err
	}
	t, err := openTable(ctx, cmd)
	if err != nil {
		return err
	}
	var w io.Writer = cmd.OutOrStdout()
	var file *os.File
	if output != "" && output != "-" {
		if file, err = os.Create(output); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer file.Close()
		w = file
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	selected := exportKinds
	if len(want) > 0 {
		selected = nil
		for _, k := range exportKinds {
			if want[k.name] {
				selected = append(selected, k)
			}
		}
	}
	p := newProgress(cmd.ErrOrStderr(), "exporting", len(selected))
	total := 0
	for i, k := range selected {
		n := 0
		err := k.read(ctx, t, scope, func(v any) error {
			n++
			return enc.Encode(exportLine{Kind: k.name, Value: v})
		})
		if err != nil {
			return tableError(cmd, fmt.Errorf("export %s: %w", k.name, err))
		}
		total += n
		p.step(i+1, fmt.Sprintf("%d %s", n, k.name))
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "wrote %d record(s) to %s\n", total, output)
	}
	return nil
}

// exportWanted checks --kind (one of names) and --days, and returns the
// kinds wanted and the days of deliveries to export, back from today.
func exportWanted(names, kinds []string, days int) (map[string]bool, exportScope, error) {
	var scope exportScope
	want := map[string]bool{}
	for _, k := range kinds {
		if !contains(names, k) {
			return nil, scope, fmt.Errorf("--kind %q: expected one of %s", k, strings.Join(names, ", "))
		}
		want[k] = true
	}
	if days < 0 {
		return nil, scope, fmt.Errorf("--days %d: expected 0 or more", days)
	}
	clk, err := operatorClock()
	if err != nil {
		return nil, scope, err
	}
	today := clk.Now().UTC()
	for d := days - 1; d >= 0; d-- {
		scope.deliveryDates = append(scope.deliveryDates, today.AddDate(0, 0, -d).Format(time.DateOnly))
	}
	return want, scope, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
