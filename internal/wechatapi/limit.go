package wechatapi

import (
	"context"
	"sync"
	"time"
)

// Bucket is a token bucket: Burst calls at once, then Rate per second. It
// runs on real time, because the limits it respects are WeChat's. It is per
// process: the fleet-wide limits are WeChat's to enforce, and its 45009 is
// handled by back-off.
type Bucket struct {
	Rate  float64
	Burst float64
	Now   func() time.Time // nil: real time; a test may stand it still

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// Wait blocks until a call may go (or ctx ends).
func (b *Bucket) Wait(ctx context.Context) error {
	for {
		d := b.reserve()
		if d == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(d):
		}
	}
}

// reserve takes a token and returns 0, or returns how long to wait for one.
func (b *Bucket) reserve() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	var now time.Time
	if b.Now != nil {
		now = b.Now()
	} else {
		now = time.Now() // wallclock: rate limiting is real time
	}
	if b.last.IsZero() {
		b.tokens = b.Burst
	} else {
		b.tokens = min(b.Burst, b.tokens+now.Sub(b.last).Seconds()*b.Rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) / b.Rate * float64(time.Second))
}

// Limit is a rate for one API.
type Limit struct {
	PerSecond float64
	Burst     float64
}

// DefaultLimits are conservative rates under WeChat's published ones
// (reference/wechat-protocol.md §4): WeCom allows 10,000 calls a minute per
// API per corp, the robot 20 messages a minute; we stay well below.
var DefaultLimits = map[string]Limit{
	pathWebhookSend: {PerSecond: 20.0 / 60, Burst: 20},
	"":              {PerSecond: 50, Burst: 50}, // any other API
}

// Limits keeps one bucket per key (app + API path).
type Limits struct {
	ByPath map[string]Limit // default DefaultLimits
	Now    func() time.Time // the buckets' time; nil: real time

	mu      sync.Mutex
	buckets map[string]*Bucket
}

// Wait waits for the bucket of app's calls to path.
func (l *Limits) Wait(ctx context.Context, app, path string) error {
	if l == nil {
		return nil
	}
	return l.bucket(app, path).Wait(ctx)
}

func (l *Limits) bucket(app, path string) *Bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*Bucket{}
	}
	key := app + " " + path
	b := l.buckets[key]
	if b == nil {
		byPath := l.ByPath
		if byPath == nil {
			byPath = DefaultLimits
		}
		lim, ok := byPath[path]
		if !ok {
			lim = byPath[""]
		}
		if lim.PerSecond <= 0 {
			lim = Limit{PerSecond: 50, Burst: 50}
		}
		b = &Bucket{Rate: lim.PerSecond, Burst: max(1, lim.Burst), Now: l.Now}
		l.buckets[key] = b
	}
	return b
}
