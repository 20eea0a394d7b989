package syncbuf_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/qunyun/qunyun/internal/syncbuf"
)

func TestBufferKeepsEveryConcurrentWrite(t *testing.T) {
	var b syncbuf.Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				fmt.Fprintf(&b, "%d-%d\n", i, j)
				_ = b.String()
			}
		}()
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Fatalf("got %d lines, want 800", n)
	}
}
