package runtimetest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/qunyun/qunyun/internal/local"
	"github.com/qunyun/qunyun/internal/runtimetest"
	"github.com/qunyun/qunyun/internal/sam"
)

// BenchmarkColdStart measures what Lambda calls a cold start, locally: a
// fresh bootstrap process reading its configuration, connecting, and
// answering its first event (the schedule tick, or URL verification for
// the callback), from process start to the answer. Every binary is built
// as `make build` builds it (LambdaFlags, for this machine).
//
// Besides ns/op it reports medians: "ms/start", to the first answer, and
// "init-ms", to the runtime's first request for work (what Lambda reports
// as Init Duration: loading, package init and main). "x-hello" and
// "init-x-hello" are the same as multiples of a hello-world aws-lambda-go
// function's ("hello-ms" to its answer), the two started turn about in the
// same loop: on a shared machine whose load comes and goes, the ratios hold
// where the absolute times do not. The first answer includes the first
// event's own work: a tick's DynamoDB calls to the local engine, ten of
// them for push's, are most of push's and scoring's.
// Run with: go test -run '^$' -bench ColdStart ./internal/runtimetest
func BenchmarkColdStart(b *testing.B) {
	tpl, err := sam.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	first := map[string]string{
		"CallbackFunction": "callback-verify.json",
		"PushFunction":     "push-tick.json",
		"SessionFunction":  "session-tick.json",
		"ScoringFunction":  "scoring-nightly.json",
	}
	const hello = "./internal/runtimetest/testdata/hello"
	pkgs := []string{hello}
	for _, f := range tpl.Functions {
		pkgs = append(pkgs, local.FunctionPackage(f.LogicalID))
	}
	bins, err := runtimetest.BuildLambda(context.Background(), root, runtime.GOOS, runtime.GOARCH, b.TempDir(), pkgs...)
	if err != nil {
		b.Fatal(err)
	}
	st := runtimetest.NewStack(b, root, tpl)
	for _, f := range tpl.Functions {
		b.Run(f.LogicalID, func(b *testing.B) {
			event, err := os.ReadFile(filepath.Join(root, "events", first[f.LogicalID]))
			if err != nil {
				b.Fatal(err)
			}
			at, _ := local.EventTime(event)
			env := st.Env(b, tpl, f, at.Format(time.RFC3339))
			check := responseCheck[first[f.LogicalID]]
			// The baseline runs with the function's settings and
			// environment, and reads neither, as a hello world reads nothing.
			var fn, inits, base, baseInits []time.Duration
			for b.Loop() {
				b.StopTimer()
				ready, answered := coldStart(b, bins[hello], f, env, []byte(`{}`), nil)
				base, baseInits = append(base, answered), append(baseInits, ready)
				b.StartTimer()
				ready, answered = coldStart(b, bins[local.FunctionPackage(f.LogicalID)], f, env, event, check)
				fn, inits = append(fn, answered), append(inits, ready)
			}
			b.ReportMetric(float64(median(fn))/1e6, "ms/start")
			b.ReportMetric(float64(median(inits))/1e6, "init-ms")
			b.ReportMetric(float64(median(base))/1e6, "hello-ms")
			b.ReportMetric(float64(median(fn))/float64(median(base)), "x-hello")
			b.ReportMetric(float64(median(inits))/float64(median(baseInits)), "init-x-hello")
		})
	}
}

// coldStart starts a fresh process of bin and returns the time from its
// start to its first request for work (ready) and to its answer to event.
// The benchmark's own timer (ns/op) also counts killing the process, under
// a millisecond; the medians do not.
func coldStart(b *testing.B, bin string, f sam.Function, env []string, event []byte, check func(req, resp []byte) error) (ready, answered time.Duration) {
	start := time.Now() // wallclock: benchmark timing
	rt, err := runtimetest.Start(bin, f, env)
	if err != nil {
		b.Fatal(err)
	}
	readyAt := make(chan time.Duration, 1)
	go func() {
		<-rt.Server.Ready()
		readyAt <- time.Since(start) // wallclock: benchmark timing
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(f.Timeout)*time.Second+20*time.Second)
	defer cancel()
	resp, fnErr, err := rt.Invoke(ctx, event)
	answered = time.Since(start) // wallclock: benchmark timing
	if err == nil && fnErr != nil {
		err = fmt.Errorf("the function failed: %v", fnErr)
	}
	if err == nil && check != nil {
		err = check(event, resp)
	}
	rt.Stop()
	if err != nil {
		b.Fatalf("%s: %v\noutput:\n%s", filepath.Base(bin), err, rt.Output())
	}
	return <-readyAt, answered
}

func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2]
}
