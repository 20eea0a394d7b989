package community_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/qunyun/qunyun/internal/clock"
	"github.com/qunyun/qunyun/internal/community"
	"github.com/qunyun/qunyun/internal/dynamo/dynamotest"
)

// BenchmarkParseDemo measures loading and validating the demo file.
func BenchmarkParseDemo(b *testing.B) {
	// The real path: the members file it names is read relative to it.
	file := filepath.Join("..", "..", "infra", "local", "community.yaml")
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := community.Parse(file, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSplit500 splits seed 000's 500 users into 10 groups.
func BenchmarkSplit500(b *testing.B) {
	people := seedPeople(500, 100)
	for b.Loop() {
		if _, err := community.Split(people, community.SplitOptions{Groups: 10}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNoOpApplyDemo measures the diff of an already applied demo
// community against dynalite (the reads apply does every time).
func BenchmarkNoOpApplyDemo(b *testing.B) {
	tb := dynamotest.NewTable(b, clock.NewManual(applyNow))
	c, err := community.Load(filepath.Join("..", "..", "infra", "local", "community.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	d, err := community.Compute(ctx, tb, c, false)
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Apply(ctx, tb, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		d, err := community.Compute(ctx, tb, c, true)
		if err != nil || !d.Empty() {
			b.Fatalf("%v %v", err, d.Changes)
		}
	}
}

// BenchmarkApplyDemoFresh measures the first apply of the demo community
// (every record created) against dynalite; table creation is not timed.
func BenchmarkApplyDemoFresh(b *testing.B) {
	c, err := community.Load(filepath.Join("..", "..", "infra", "local", "community.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		tb := dynamotest.NewTable(b, clock.NewManual(applyNow))
		b.StartTimer()
		d, err := community.Compute(ctx, tb, c, false)
		if err != nil {
			b.Fatal(err)
		}
		if err := d.Apply(ctx, tb, nil); err != nil {
			b.Fatal(err)
		}
	}
}
