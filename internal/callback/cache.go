package callback

import (
	"sync"
	"time"
)

// cache keeps values (including "not found") for a while, so the hot path
// does not pay a DynamoDB read per message. It is per Lambda container:
// another container may see a change up to ttl later, which the contracts
// with the session and config owners allow.
type cache[K comparable, V any] struct {
	ttl time.Duration
	max int // entries kept before the whole map is dropped

	mu      sync.Mutex
	entries map[K]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v     V
	found bool
	until time.Time
}

func newCache[K comparable, V any](ttl time.Duration, max int) *cache[K, V] {
	return &cache[K, V]{ttl: ttl, max: max, entries: map[K]cacheEntry[V]{}}
}

// get returns a cached value; ok is false when there is none or it is stale.
func (c *cache[K, V]) get(k K, now time.Time) (v V, found, ok bool) {
	c.mu.Lock()
	e, hit := c.entries[k]
	c.mu.Unlock()
	if !hit || now.After(e.until) {
		return v, false, false
	}
	return e.v, e.found, true
}

func (c *cache[K, V]) put(k K, v V, found bool, now time.Time) {
	c.mu.Lock()
	if len(c.entries) >= c.max {
		// Crude but bounded: a container serving that many keys refills fast.
		c.entries = map[K]cacheEntry[V]{}
	}
	c.entries[k] = cacheEntry[V]{v: v, found: found, until: now.Add(c.ttl)}
	c.mu.Unlock()
}

// load returns the cached value or calls fetch and caches its answer.
// Errors are not cached.
func (c *cache[K, V]) load(k K, now time.Time, fetch func() (V, bool, error)) (V, bool, error) {
	if v, found, ok := c.get(k, now); ok {
		return v, found, nil
	}
	v, found, err := fetch()
	if err != nil {
		return v, false, err
	}
	c.put(k, v, found, now)
	return v, found, nil
}

// drop forgets k, so this container sees a change it made at once.
func (c *cache[K, V]) drop(k K) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}
