// Command firsthour checks what a newcomer should see within five minutes
// of `make run` (package internal/firsthour) against the running local
// stack, through the built CLI's --json: it runs the checks every few
// seconds until all pass or the time is up, says when each first passed,
// then prints PASS or FAIL for each and exits 1 unless all passed.
// infra/local/first-hour.sh starts the stack, runs it and stops the stack.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/qunyun/qunyun/internal/firsthour"
)

func main() {
	cli := flag.String("qunyun", ".local/bin/qunyun", "the operator CLI `make run` builds")
	within := flag.Duration("within", 5*time.Minute, "how long after --since everything must be there")
	since := flag.Int64("since", 0, "when `make run` started, Unix seconds (default now)")
	every := flag.Duration("every", 10*time.Second, "how often to check again")
	pid := flag.Int("pid", 0, "the process running the stack (`make run`): stop early if it ends")
	flag.Parse()

	start := time.Now() // wallclock: the newcomer's five minutes are real ones
	if *since > 0 {
		start = time.Unix(*since, 0)
	}
	deadline := start.Add(*within)
	run := func(ctx context.Context, args ...string) ([]byte, error) {
		var out, errOut bytes.Buffer
		c := exec.CommandContext(ctx, *cli, args...)
		c.Stdout, c.Stderr = &out, &errOut
		if err := c.Run(); err != nil {
			msg := strings.TrimSpace(errOut.String())
			if msg == "" {
				msg = err.Error()
			}
			return nil, errors.New(msg)
		}
		return out.Bytes(), nil
	}
	passedAt := map[string]time.Duration{}
	var results []firsthour.Result
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		results = firsthour.RunAll(ctx, run)
		cancel()
		for _, r := range results {
			if _, seen := passedAt[r.Name]; r.OK && !seen {
				passedAt[r.Name] = time.Since(start).Round(time.Second) // wallclock: elapsed, for the newcomer
				fmt.Printf("first hour: [%v] %s: %s\n", passedAt[r.Name], r.Name, r.Detail)
			}
		}
		if firsthour.Passed(results) || !time.Now().Add(*every).Before(deadline) { // wallclock: the deadline is real time
			break
		}
		if *pid > 0 && !alive(*pid) {
			fmt.Printf("first hour: the stack's process (%d) has ended\n", *pid)
			break
		}
		time.Sleep(*every)
	}
	failed := 0
	fmt.Println()
	for _, r := range results {
		verdict := "PASS"
		if at, ok := passedAt[r.Name]; ok && !r.OK {
			verdict = fmt.Sprintf("FAIL (passed at %v, then not)", at)
		} else if ok {
			verdict = fmt.Sprintf("PASS (%v)", at)
		}
		if !r.OK {
			failed++
			if _, ok := passedAt[r.Name]; !ok {
				verdict = "FAIL"
			}
		}
		fmt.Printf("%-24s %-15s %s\n", verdict, r.Name, r.Detail)
	}
	if failed > 0 {
		fmt.Printf("\nfirst hour: %d of %d checks failed within %v of make run\n", failed, len(results), *within)
		os.Exit(1)
	}
	fmt.Printf("\nfirst hour: all %d checks passed within %v of make run\n", len(results), time.Since(start).Round(time.Second)) // wallclock: elapsed, for the newcomer
}

// alive reports whether process pid still runs (signal 0 checks only).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}
