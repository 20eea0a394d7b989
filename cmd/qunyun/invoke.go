package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/local/host"
	"github.com/qunyun/qunyun/internal/local/runner"
	"github.com/qunyun/qunyun/internal/sam"
)

func newInvokeCmd() *cobra.Command {
	var eventFile, templateFile, stateFile, pkg, dynamoDB, bus, gateway, clockStart string
	cmd := &cobra.Command{
		Use:   "invoke <LogicalId> -e events/<file>.json",
		Short: "Run one function once on one event, like sam local invoke, against the local stack",
		Long: `Build the function for this machine and run it once the way Lambda does
(its bootstrap polling a Runtime API), with the environment template.yaml
gives it, pointed at the running local stack (read from .local/stack.json,
or the default local endpoints). Prints the response; a function error is
printed as Lambda's error JSON and exits with status 1.

The function's clock starts at the event's own time (a schedule's
scheduledTime, an EventBridge event's time, a callback's signed timestamp),
so a stored sample replays as it was sent; --clock-start (QUNYUN_CLOCK_START)
sets another, and an event without a time runs on the stack's clock.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, err := host.FindRoot(".")
			if err != nil {
				return err
			}
			if templateFile == "" {
				templateFile = filepath.Join(root, "template.yaml")
			}
			if stateFile == "" {
				stateFile = filepath.Join(root, ".local", "stack.json")
			}
			tpl, err := sam.Load(templateFile)
			if err != nil {
				return err
			}
			fn, ok := tpl.Function(args[0])
			if !ok {
				return fmt.Errorf("no function %q in %s; the functions are %s", args[0], templateFile, strings.Join(local.FunctionNames(tpl), ", "))
			}
			event, err := readEvent(cmd.InOrStdin(), eventFile)
			if err != nil {
				return err
			}
			e, err := local.ReadState(stateFile)
			running := err == nil
			if errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(cmd.ErrOrStderr(), "no running local stack found (%s): using the default local endpoints\n", stateFile)
				e = defaultEndpoints(root)
			} else if err != nil {
				return err
			}
			if err := replayClock(cmd.ErrOrStderr(), &e, event, clockStart, running); err != nil {
				return err
			}
			for _, o := range []struct {
				dst *string
				v   string
			}{{&e.DynamoDB, dynamoDB}, {&e.EventBus, bus}} {
				if o.v != "" {
					*o.dst = o.v
				}
			}
			if gateway != "" {
				e.Gateway, e.SandboxOA, e.SandboxWeCom = gateway, gateway+"/_sandbox/oa", gateway+"/_sandbox/wecom"
			}
			if pkg == "" {
				pkg = local.FunctionPackage(fn.LogicalID)
			}
			return invokeOnce(cmd, root, tpl, fn, pkg, e, event)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&eventFile, "event", "e", "", "event JSON file, or - for standard input (default {})")
	f.StringVar(&templateFile, "template", "", "SAM template (default template.yaml)")
	f.StringVar(&stateFile, "stack", "", "the running stack's endpoints (default .local/stack.json)")
	f.StringVar(&dynamoDB, "dynamodb", "", "DynamoDB endpoint (default: the running stack's)")
	f.StringVar(&bus, "bus", "", "EventBridge endpoint (default: the running stack's)")
	f.StringVar(&gateway, "gateway", "", "gateway URL, also the sandbox base (default: the running stack's)")
	f.StringVar(&clockStart, "clock-start", os.Getenv(clock.EnvStart), "the function's clock at the start, RFC 3339 (default: the event's own time) [QUNYUN_CLOCK_START]")
	f.StringVar(&pkg, "package", "", "Go package to build instead of functions/<name>")
	f.MarkHidden("package")
	return cmd
}

// defaultEndpoints are where `qunyun local up` listens without flags.
func defaultEndpoints(root string) local.Endpoints {
	gw := "http://" + local.DefaultAddr
	return local.Endpoints{
		Gateway: gw, DynamoDB: "http://" + local.DefaultDynamoAddr, EventBus: "http://" + local.DefaultBusAddr,
		SandboxOA: gw + "/_sandbox/oa", SandboxWeCom: gw + "/_sandbox/wecom",
		Accounts:  filepath.Join(root, "infra", "local", "accounts.json"),
		TableName: "qunyun-" + local.Stage, EventBusName: "qunyun-" + local.Stage, Region: local.Region, Stage: local.Stage,
	}
}

// replayClock sets the function's clock in e: explicit (--clock-start), else
// the event's own time, else the stack's clock as e has it. A callback
// signed at its time is refused five minutes off it, and a tick expands the
// minutes up to its scheduledTime. It warns when the stack's own schedule
// has already run past a tick, which then finds its minutes done.
func replayClock(w io.Writer, e *local.Endpoints, event []byte, explicit string, running bool) error {
	at, hasTime := local.EventTime(event)
	if running && hasTime && local.IsSchedule(event) {
		stack, err := clock.FromEnv(envOf(map[string]string{clock.EnvStart: e.ClockStart, clock.EnvSpeed: e.ClockSpeed, clock.EnvFile: e.ClockFile}))
		if err == nil && stack.Now().After(at.Add(time.Minute)) {
			fmt.Fprintf(w, `invoke: the running stack's clock (%s) is past this tick (%s): its own schedule has run
  those minutes, so the tick may find them done. To replay it, start the stack before it:
  qunyun local up --clock-start %s
`, stack.Now().UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339), at.Add(-time.Hour).UTC().Format(time.RFC3339))
		}
	}
	switch {
	case explicit != "":
		if _, err := clock.FromEnv(envOf(map[string]string{clock.EnvStart: explicit})); err != nil {
			return fmt.Errorf("--clock-start: %w", err)
		}
		e.ClockStart = explicit
	case hasTime:
		e.ClockStart = at.UTC().Format(time.RFC3339)
		fmt.Fprintf(w, "invoke: the function's clock starts at %s, the event's own time\n", e.ClockStart)
	default:
		return nil // the stack's clock
	}
	e.ClockSpeed, e.ClockFile = "", ""
	return nil
}

// envOf looks variables up in vars, for clock.FromEnv.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func readEvent(stdin io.Reader, file string) ([]byte, error) {
	var data []byte
	var err error
	switch file {
	case "":
		return []byte("{}"), nil
	case "-":
		data, err = io.ReadAll(stdin)
	default:
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("event %s is not valid JSON", file)
	}
	return data, nil
}

func invokeOnce(cmd *cobra.Command, root string, tpl *sam.Template, fn sam.Function, pkg string, e local.Endpoints, event []byte) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	bin := filepath.Join(root, ".local", "invoke", fn.LogicalID, "bootstrap")
	if err := runner.Build(ctx, root, pkg, bin); err != nil {
		return err
	}
	env, err := local.FunctionEnv(tpl, fn, e)
	if err != nil {
		return err
	}
	pool := runner.NewPool(runner.Function{
		Name: fn.LogicalID, Binary: bin, Env: env, MaxProcs: 1, Log: cmd.ErrOrStderr(),
		Timeout: time.Duration(fn.Timeout) * time.Second,
	})
	defer pool.Close()
	resp, fnErr, err := pool.Invoke(ctx, event)
	if err != nil {
		return fmt.Errorf("invoke %s: %w", fn.LogicalID, err)
	}
	out := cmd.OutOrStdout()
	if fnErr != nil {
		b, _ := json.Marshal(fnErr)
		fmt.Fprintln(out, string(b))
		return fmt.Errorf("%s failed: %s", fn.LogicalID, fnErr.Error())
	}
	fmt.Fprintln(out, string(resp))
	return nil
}
