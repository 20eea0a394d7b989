package scoring_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/scoring"
)

// TestNewLoadingLoadsOnFirstScore: the segmenter (a second of dictionary
// loading in the scoring function) loads when a group is first scored,
// once, even when groups are scored concurrently, never at New.
func TestNewLoadingLoadsOnFirstScore(t *testing.T) {
	var loads atomic.Int32
	s, err := scoring.NewLoading(func() (scoring.Segmenter, error) {
		loads.Add(1)
		return scoring.Bigrams{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := loads.Load(); n != 0 {
		t.Fatalf("NewLoading loaded the segmenter %d times; want it loaded on first use", n)
	}
	d := day(qunyun.PurposeGeneral, 3)
	msg(&d, "m1", "alice", 10, "供应链管理的库存周转，供应链管理", "")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := s.Ready(); err != nil {
				t.Error(err)
			}
			s.Score(d)
		})
	}
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Errorf("loaded %d times, want once", n)
	}
}

func TestReadyReportsAFailedLoad(t *testing.T) {
	boom := errors.New("dictionary corrupt")
	s, err := scoring.NewLoading(func() (scoring.Segmenter, error) { return nil, boom })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(); !errors.Is(err, boom) {
		t.Fatalf("Ready() = %v, want %v", err, boom)
	}
}
