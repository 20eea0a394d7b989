package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/dynamo/localtable"
	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/qunyun"
)

// Where the operator commands find the table: the flags; else the
// environment the functions use (AWS_ENDPOINT_URL_DYNAMODB, TABLE_NAME);
// else the running local stack (its .local/stack.json); else the local
// stack's defaults. In AWS, pass --endpoint "" (the default credential
// chain and endpoint) and --table with the stack's table name.
const (
	localDynamoEndpoint = "http://" + local.DefaultDynamoAddr
	localTableName      = "qunyun-" + local.Stage // as internal/local names its table
)

// tableFlags adds --endpoint and --table to cmd.
func tableFlags(cmd *cobra.Command) {
	endpoint, ok := os.LookupEnv("AWS_ENDPOINT_URL_DYNAMODB")
	if !ok {
		endpoint = localDynamoEndpoint
	}
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		table = localTableName
	}
	cmd.Flags().String("endpoint", endpoint, `DynamoDB endpoint; "" for AWS with the default credential chain (env AWS_ENDPOINT_URL_DYNAMODB; else the running local stack's)`)
	cmd.Flags().String("table", table, "table name (env TABLE_NAME; else the running local stack's)")
}

// openTable connects to the table the flags name. Its Now is the operator's
// clock (operatorClock): what a command stamps or calls "today".
func openTable(ctx context.Context, cmd *cobra.Command) (*dynamo.Table, error) {
	if err := useLocalStack(cmd); err != nil {
		return nil, err
	}
	clk, err := operatorClock()
	if err != nil {
		return nil, err
	}
	endpoint, _ := cmd.Flags().GetString("endpoint")
	name, _ := cmd.Flags().GetString("table")
	if name == "" {
		return nil, errors.New("--table is empty: name the table (the stack's TableName output in AWS)")
	}
	if endpoint != "" {
		return &dynamo.Table{DB: localtable.Client(endpoint), Name: name, Now: clk.Now}, nil
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	return &dynamo.Table{DB: dynamodb.NewFromConfig(cfg), Name: name, Now: clk.Now}, nil
}

// useLocalStack takes the endpoint and table of a running local stack when
// neither the flags nor the environment name them, so apply finds the
// stack whatever port it picked.
func useLocalStack(cmd *cobra.Command) error {
	if _, set := os.LookupEnv("AWS_ENDPOINT_URL_DYNAMODB"); set || cmd.Flags().Changed("endpoint") {
		return nil
	}
	st, ok, err := readStack(localStackFile)
	if err != nil || !ok {
		return err
	}
	if st.DynamoDB != "" {
		_ = cmd.Flags().Set("endpoint", st.DynamoDB)
	}
	if st.TableName != "" && os.Getenv("TABLE_NAME") == "" && !cmd.Flags().Changed("table") {
		_ = cmd.Flags().Set("table", st.TableName)
	}
	return nil
}

// tableError adds what to do to a failure to reach a local table: the
// usual cause is a local stack that is not running.
func tableError(cmd *cobra.Command, err error) error {
	endpoint, _ := cmd.Flags().GetString("endpoint")
	if err == nil || qunyun.ErrorCode(err) != qunyun.EUNAVAILABLE ||
		!(strings.Contains(endpoint, "127.0.0.1") || strings.Contains(endpoint, "localhost")) {
		return err
	}
	return fmt.Errorf("%w\n(nothing answers at %s: is the local stack running? start it with `qunyun local up`, or pass --endpoint)", err, endpoint)
}

// operatorClock is the clock "today" comes from: the environment's
// (QUNYUN_CLOCK_START/SPEED), else the running local stack's, else real
// time, so `get` and `report` agree with a stack running a fast clock.
func operatorClock() (clock.Clock, error) {
	if os.Getenv(clock.EnvStart) != "" || os.Getenv(clock.EnvSpeed) != "" {
		return clock.FromEnv(os.Getenv)
	}
	st, ok, err := readStack(localStackFile)
	if err != nil || !ok {
		return clock.Real{}, err // wallclock: no local stack: the operator's own time
	}
	return stackClock(st)
}

func newApplyCmd() *cobra.Command {
	var file string
	var dryRun, prune, yes bool
	cmd := &cobra.Command{
		Use:   "apply -f community.yaml",
		Short: "Make the table hold what community.yaml describes",
		Long: `Apply validates community.yaml (schema and references; every problem is
reported as file:line:column and nothing is written when there is any), shows
the diff against the table (+ create, ~ change with the changed fields,
- delete) and upserts. Applying the same file twice changes nothing.

--prune also deletes what the file no longer names, after a y/N confirmation
(--yes skips it; without a terminal, --yes is required). Fields other parts
maintain (a group's member count, noise flag, WeChat state) are kept.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("-f is required: the community.yaml to apply")
			}
			c, err := community.Load(file)
			if err != nil {
				return problemsError(cmd, file, err)
			}
			ctx := cmd.Context()
			t, err := openTable(ctx, cmd)
			if err != nil {
				return err
			}
			d, err := community.Compute(ctx, t, c, prune)
			if err != nil {
				if errors.As(err, new(community.Problems)) {
					return problemsError(cmd, file, err)
				}
				return tableError(cmd, err)
			}
			out := cmd.OutOrStdout()
			if wantJSON(cmd) {
				if err := printJSON(out, d); err != nil {
					return err
				}
			} else {
				printDiff(out, file, d)
			}
			if dryRun || d.Empty() {
				return nil
			}
			if n := d.Count(community.Delete); n > 0 && !yes {
				if err := confirm(cmd.InOrStdin(), cmd.ErrOrStderr(), n, isTerminal(cmd.InOrStdin())); err != nil {
					return err
				}
			}
			p := newProgress(cmd.ErrOrStderr(), "applying", len(d.Changes))
			if err := d.Apply(ctx, t, func(done int, ch community.Change) { p.step(done, ch.String()) }); err != nil {
				return tableError(cmd, err)
			}
			if !wantJSON(cmd) {
				fmt.Fprintf(out, "applied: %d created, %d changed, %d deleted\n",
					d.Count(community.Create), d.Count(community.Update), d.Count(community.Delete))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the community.yaml to apply")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show the diff only")
	cmd.Flags().BoolVar(&prune, "prune", false, "delete what the file no longer names (asks first)")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask before pruning")
	tableFlags(cmd)
	jsonFlag(cmd)
	return cmd
}

func printDiff(w io.Writer, file string, d *community.Diff) {
	for _, n := range d.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	for _, n := range d.Warnings {
		fmt.Fprintln(w, "warning:", n)
	}
	if d.Empty() {
		fmt.Fprintf(w, "no changes: the table already matches %s\n", file)
	}
	for _, c := range d.Changes {
		fmt.Fprintln(w, c)
	}
	if d.Unnamed > 0 {
		fmt.Fprintf(w, "(%d record(s) in the table are not named in %s; --prune deletes them)\n", d.Unnamed, file)
	}
}

// confirm asks before deleting; with no terminal to ask it refuses, since
// a script that forgot --yes must not delete by accident.
func confirm(in io.Reader, prompt io.Writer, deletes int, terminal bool) error {
	if !terminal {
		return fmt.Errorf("--prune would delete %d record(s) and there is no terminal to confirm: re-run with --yes", deletes)
	}
	fmt.Fprintf(prompt, "Delete %d record(s)? [y/N] ", deletes)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return errors.New("not confirmed; nothing was written")
}

// problemsError prints a file's problems (as data with --json: editors and
// CI read them) and says nothing was written; other errors pass through.
func problemsError(cmd *cobra.Command, file string, err error) error {
	var ps community.Problems
	if !errors.As(err, &ps) {
		return err
	}
	if wantJSON(cmd) {
		if err := printJSON(cmd.OutOrStdout(), map[string]any{"problems": []community.Problem(ps)}); err != nil {
			return err
		}
	} else {
		for _, p := range ps {
			fmt.Fprintln(cmd.ErrOrStderr(), p)
		}
	}
	return fmt.Errorf("%s: %d problem(s); nothing was written", file, len(ps))
}
