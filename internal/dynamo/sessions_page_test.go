package dynamo_test

import (
	"context"
	"testing"

	"github.com/qunyun/qunyun/internal/dynamo"
	"github.com/qunyun/qunyun/internal/qunyun"
)

func TestSessionPageKey(t *testing.T) {
	ctx := context.Background()
	tb := newTable(t)
	if _, found, err := (dynamo.Sessions{Table: tb}).SessionPageKey(ctx, "s1"); err != nil || found {
		t.Fatalf("before any link: found=%v err=%v", found, err)
	}
	got, err := dynamo.Sessions{Table: tb}.EnsureSessionPageKey(ctx, "s1", "FIRST")
	if err != nil || got != "FIRST" {
		t.Fatalf("first: %q %v", got, err)
	}
	// The first key wins: a retried reminder carries the same link.
	got, err = dynamo.Sessions{Table: tb}.EnsureSessionPageKey(ctx, "s1", "SECOND")
	if err != nil || got != "FIRST" {
		t.Fatalf("second: %q %v", got, err)
	}
	key, found, err := dynamo.Sessions{Table: tb}.SessionPageKey(ctx, "s1")
	if err != nil || !found || key != "FIRST" {
		t.Fatalf("read: %q %v %v", key, found, err)
	}
	if _, found, _ := (dynamo.Sessions{Table: tb}).SessionPageKey(ctx, "s2"); found {
		t.Fatal("s1's key is s2's")
	}
	if _, err := (dynamo.Sessions{Table: tb}).EnsureSessionPageKey(ctx, "s1", ""); qunyun.ErrorCode(err) != qunyun.EINVALID {
		t.Fatalf("empty key: %v", err)
	}
}
