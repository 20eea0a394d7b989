package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"golang.org/x/text/width"
)

// Output helpers shared by the operator commands: tables or --json, and
// progress that is a bar on a terminal and plain lines otherwise (logs and
// CI keep a readable record).

// jsonFlag gives cmd --json. Only commands that print a result have it, so
// a program never gets prose from a flag that was silently ignored.
func jsonFlag(cmd *cobra.Command) {
	cmd.Flags().Bool("json", false, "print JSON (camelCase keys, durations in ms) instead of text")
}

// wantJSON reports whether cmd's --json flag is set.
func wantJSON(cmd *cobra.Command) bool {
	v, err := cmd.Flags().GetBool("json")
	return err == nil && v
}

// printJSON writes v as indented JSON. Every --json follows one style, so
// a program can read any of them the same way: camelCase keys, durations
// in milliseconds (keys ending in Ms), lists as [] and never null, and no
// zero times (a time not yet known is left out, `omitzero`).
func printJSON(w io.Writer, v any) error {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.IsNil() {
		v = []any{} // nothing found is an empty list
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printTable writes an aligned table. Columns are padded by display
// width, so Chinese names (two cells per character) line up in a terminal,
// which text/tabwriter, counting runes, does not do.
func printTable(w io.Writer, header []string, rows [][]string) error {
	all := append([][]string{header}, rows...)
	widths := make([]int, len(header))
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	for _, r := range all {
		for i := range r {
			r[i] = clean.Replace(r[i])
			if i < len(widths) {
				widths[i] = max(widths[i], displayWidth(r[i]))
			}
		}
	}
	var b strings.Builder
	for _, r := range all {
		for i, cell := range r {
			b.WriteString(cell)
			if i < len(r)-1 && i < len(widths) {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(cell)+2))
			}
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, strings.ReplaceAll(b.String(), " \n", "\n"))
	return err
}

// displayWidth counts the terminal cells s takes: East Asian wide and
// full-width characters take two.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
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
