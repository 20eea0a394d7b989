package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/local/faultproxy"
	"github.com/qunyun/qunyun/internal/local/host"
)

// upHook runs once the local stack is up (e.g. to apply the demo
// community.yaml). An error is logged and the stack keeps running.
type upHook func(ctx context.Context, st *local.Stack) error

// newLocalCmd is `qunyun local`; `local up` runs hooks in order once the
// stack is up.
func newLocalCmd(hooks ...upHook) *cobra.Command {
	cmd := &cobra.Command{Use: "local", Short: "Run the system on this machine"}
	cmd.AddCommand(newLocalUpCmd(hooks), newLocalBridgeCmd())
	return cmd
}

// envOr returns the environment variable name, or def when it is unset.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newLocalUpCmd(hooks []upHook) *cobra.Command {
	var (
		addr, busAddr, dynamoAddr, accountsFile, templateFile, dataDir, clockStart, faults string
		clockSpeed                                                                         float64
		maxProcs                                                                           int
		prebuilt, showMetrics                                                              bool
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the local stack in the foreground (Ctrl-C stops it)",
		Long: `Start the local stack: dynalite with the table from template.yaml, every
function built and run the way Lambda runs it, the HTTP API gateway, the
event bus with the template's rules and schedules, and the WeChat/WeCom
API sandbox. Flags default to the environment variables in brackets.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, err := host.FindRoot(".")
			if err != nil {
				return err
			}
			cfg := local.Config{
				Root: root, Template: templateFile, Accounts: accountsFile, Addr: addr, BusAddr: busAddr,
				DynamoAddr: dynamoAddr, DataDir: dataDir, ClockSpeed: clockSpeed, Faults: faults,
				MaxProcs: maxProcs, Prebuilt: prebuilt, WarmEngine: true, Log: os.Stderr,
			}
			if !showMetrics {
				cfg.Log = dropMetrics{os.Stderr}
			}
			if clockStart != "" {
				// QUNYUN_CLOCK_START may carry "@<real time>" (clock.EnvValue);
				// the stack starts its clock at the virtual part.
				virt, _, _ := strings.Cut(clockStart, "@")
				if cfg.ClockStart, err = time.Parse(time.RFC3339, virt); err != nil {
					return fmt.Errorf("clock start %q: want an RFC 3339 time such as 2026-11-23T07:55:00+08:00", clockStart)
				}
			}
			if clockSpeed <= 0 {
				return fmt.Errorf("clock speed %v: want a positive number", clockSpeed)
			}
			return runLocalUp(cmd, cfg, hooks)
		},
	}
	f := cmd.Flags()
	speed, err := strconv.ParseFloat(envOr(clock.EnvSpeed, "1"), 64)
	if err != nil {
		speed = -1 // reported by RunE as a bad speed
	}
	f.StringVar(&addr, "addr", envOr("QUNYUN_ADDR", local.DefaultAddr), "gateway and developer endpoints [QUNYUN_ADDR]")
	f.StringVar(&busAddr, "bus-addr", envOr("QUNYUN_BUS_ADDR", local.DefaultBusAddr), "EventBridge PutEvents endpoint [QUNYUN_BUS_ADDR]")
	f.StringVar(&dynamoAddr, "dynamodb-addr", envOr("QUNYUN_DYNAMODB_ADDR", local.DefaultDynamoAddr), "dynalite [QUNYUN_DYNAMODB_ADDR]")
	f.StringVar(&accountsFile, "accounts", os.Getenv("QUNYUN_ACCOUNTS"), "accounts JSON file (default infra/local/accounts.json) [QUNYUN_ACCOUNTS]")
	f.StringVar(&templateFile, "template", "", "SAM template (default template.yaml)")
	f.StringVar(&dataDir, "data-dir", os.Getenv("QUNYUN_DATA_DIR"), `dynalite data folder (default .local/dynalite; "-" keeps it in memory) [QUNYUN_DATA_DIR]`)
	f.Float64Var(&clockSpeed, "clock-speed", speed, "virtual seconds per real second; 1 is real time [QUNYUN_CLOCK_SPEED]")
	f.StringVar(&faults, "faults", os.Getenv(faultproxy.EnvFaults), `inject DynamoDB faults for the functions: a rate ("0.05") and optionally kinds ("0.05:throttle,5xx,timeout,lost") [QUNYUN_FAULTS]`)
	procs, _ := strconv.Atoi(os.Getenv("QUNYUN_MAX_PROCS"))
	f.IntVar(&maxProcs, "max-procs", procs, "processes per function, Lambda's concurrency (default 32) [QUNYUN_MAX_PROCS]")
	f.BoolVar(&noDemo, "no-demo", os.Getenv("QUNYUN_NO_DEMO") != "", "apply the demo community but run no demo simulation [QUNYUN_NO_DEMO]")
	f.BoolVar(&showMetrics, "metrics", os.Getenv("QUNYUN_METRICS") != "", "show the functions' CloudWatch metric (EMF) lines [QUNYUN_METRICS]")
	f.BoolVar(&prebuilt, "prebuilt", false, "the functions are already in .local/bin, built with this CLI (make run does that): skip go build's check")
	f.StringVar(&clockStart, "clock-start", os.Getenv(clock.EnvStart), "virtual time at start, RFC 3339 (default now) [QUNYUN_CLOCK_START]")
	return cmd
}

func runLocalUp(cmd *cobra.Command, cfg local.Config, hooks []upHook) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := local.New(cfg)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintln(out, "qunyun local stack: starting (building functions, starting dynalite)...")
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, context.Canceled) {
			return nil // stopped (Ctrl-C) before it was up
		}
		return err
	case <-st.Ready():
	}
	e := st.Endpoints()
	fmt.Fprintf(out, `qunyun local stack is up (Ctrl-C stops it)
  gateway           %[1]s   (HttpApi routes, e.g. %[1]s/wechat/{account})
  health            %[1]s/healthz
  developer         %[1]s/_local/bus  %[1]s/_local/invocations  %[1]s/_local/inflight  %[1]s/_local/sandbox/calls
  relay bridge      %[1]s/_local/bridge   (what push posted to the relay groups; qunyun local bridge)
  DynamoDB          %[2]s   (table %[3]s)
  event bus         %[4]s   (bus %[5]s)
  WeChat OA API     %[6]s
  WeCom API         %[7]s
  accounts          %[8]s
  clock             %[9]s
`, e.Gateway, e.DynamoDB, e.TableName, e.EventBus, e.EventBusName, e.SandboxOA, e.SandboxWeCom, e.Accounts, clockLine(e, st))
	for _, hook := range hooks {
		if err := hook(ctx, st); err != nil {
			slog.Error("local stack: start-up hook failed; the stack keeps running", "err", err)
		}
	}
	err = <-done
	fmt.Fprintln(out, "qunyun local stack stopped")
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// dropMetrics keeps the functions' CloudWatch Embedded Metric Format lines
// off the console: raw JSON that says again what the log lines beside it
// say. The runner writes each prefixed line in one Write.
type dropMetrics struct{ w io.Writer }

func (d dropMetrics) Write(line []byte) (int, error) {
	if bytes.Contains(line, []byte(`"_aws":{"CloudWatchMetrics"`)) {
		return len(line), nil
	}
	return d.w.Write(line)
}

func clockLine(e local.Endpoints, st *local.Stack) string {
	if e.ClockSpeed == "" {
		return "real time"
	}
	return fmt.Sprintf("%s, %s× real time", st.Clock().Now().Format(time.RFC3339), e.ClockSpeed)
}
