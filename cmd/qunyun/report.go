package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/local/host"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/report"
)

func newReportCmd() *cobra.Command {
	var date, output, tz string
	var noOpen bool
	cmd := &cobra.Command{
		Use:   "report [--date YYYY-MM-DD] [-o file.html]",
		Short: "Write the HTML dashboard of a day's report and open it",
		Long: `Report reads the daily report scoring stored for --date (default yesterday,
the last night scoring ran for) and writes it as one self-contained HTML page
(charts embedded, no network needed) to -o (default
.local/reports/qunyun-report-<date>.html in the repository).
On a terminal it then opens the page with xdg-open (open on macOS) unless
--no-open or --json is given; --json prints {"date", "path"}.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			loc, err := time.LoadLocation(tz)
			if err != nil {
				return fmt.Errorf("--tz %q: expected an IANA time zone such as Asia/Shanghai", tz)
			}
			if date == "" {
				clk, err := operatorClock()
				if err != nil {
					return err
				}
				date = clk.Now().In(loc).AddDate(0, 0, -1).Format(time.DateOnly)
			} else if _, err := time.Parse(time.DateOnly, date); err != nil {
				return fmt.Errorf("--date %q: expected YYYY-MM-DD", date)
			}
			ctx := cmd.Context()
			t, err := openTable(ctx, cmd)
			if err != nil {
				return err
			}
			r, found, err := dynamo.Scores{Table: t}.Report(ctx, date)
			if err != nil {
				return tableError(cmd, err)
			}
			if !found {
				return fmt.Errorf("no report for %s: scoring has not run for that date (see qunyun get scores --date %s)", date, date)
			}
			dash, err := report.New()
			if err != nil {
				return err
			}
			if output == "" {
				if output, err = reportPath("qunyun-report-" + date + ".html"); err != nil {
					return err
				}
			}
			if err := writeReport(output, dash, r); err != nil {
				return err
			}
			if wantJSON(cmd) {
				return printJSON(cmd.OutOrStdout(), map[string]string{"date": date, "path": output})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", output)
			if noOpen || !isTerminal(cmd.OutOrStdout()) {
				return nil
			}
			return openInBrowser(output)
		},
	}
	cmd.Flags().StringVar(&date, "date", "", "local date of the report (default yesterday)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "HTML file to write (default .local/reports/qunyun-report-<date>.html)")
	cmd.Flags().StringVar(&tz, "tz", qunyun.DefaultTimeZone, "time zone that decides what yesterday is")
	cmd.Flags().BoolVar(&noOpen, "no-open", false, "write the file without opening it")
	tableFlags(cmd)
	jsonFlag(cmd)
	return cmd
}

// reportPath is where a report goes unless -o says otherwise: the
// repository's git-ignored .local/reports/, so pages never land among the
// sources; outside a repository, the working directory.
func reportPath(name string) (string, error) {
	root, err := host.FindRoot(".")
	if err != nil {
		return name, nil
	}
	dir := filepath.Join(root, ".local", "reports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("reports folder: %w", err)
	}
	return filepath.Join(dir, name), nil
}

// writeReport renders into a temporary file next to path and renames it,
// so a failed render never leaves half a page behind.
func writeReport(path string, dash *report.Dashboard, r qunyun.Report) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".qunyun-report-*.html")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := dash.Write(tmp, r); err != nil {
		tmp.Close()
		return fmt.Errorf("render report %s: %w", r.Date, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// openInBrowser hands the file to the desktop's opener and does not wait
// for the browser.
func openInBrowser(path string) error {
	opener := "xdg-open"
	if runtime.GOOS == "darwin" {
		opener = "open"
	}
	c := exec.Command(opener, path)
	if err := c.Start(); err != nil {
		return fmt.Errorf("open %s with %s: %w (the file is written; open it yourself)", path, opener, err)
	}
	return c.Process.Release()
}
