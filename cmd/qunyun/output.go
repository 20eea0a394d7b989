package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Output helpers shared by the operator commands: tables or --json, and
// progress that is a bar on a terminal and plain lines otherwise (logs and
// CI keep a readable record).

// wantJSON reports whether the root's persistent --json flag is set.
func wantJSON(cmd *cobra.Command) bool {
	v, err := cmd.Flags().GetBool("json")
	return err == nil && v
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printTable writes an aligned table; cells must not contain tabs.
func printTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		for i := range r {
			r[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(r[i])
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// isTerminal reports whether v is an *os.File attached to a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress reports long work on w: a redrawn bar on a terminal, a line per
// tenth of the work (and the last step) otherwise.
type progress struct {
	w     io.Writer
	label string
	total int
	tty   bool
	shown int // plain mode: the last tenth printed
}

func newProgress(w io.Writer, label string, total int) *progress {
	return &progress{w: w, label: label, total: total, tty: isTerminal(w)}
}

// step reports that done of total units are finished; detail names the
// last one.
func (p *progress) step(done int, detail string) {
	if p.total == 0 {
		return
	}
	if p.tty {
		const width = 30
		filled := done * width / p.total
		fmt.Fprintf(p.w, "\r\033[K%s [%s%s] %d/%d %s", p.label,
			strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, p.total, truncate(detail, 40))
		if done == p.total {
			fmt.Fprintln(p.w)
		}
		return
	}
	tenth := done * 10 / p.total
	if tenth > p.shown || done == p.total {
		p.shown = tenth
		fmt.Fprintf(p.w, "%s: %d/%d (%s)\n", p.label, done, p.total, detail)
	}
}

// truncate shortens s to n runes with an ellipsis.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
