package wechatapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// TokenStore is the shared cache the Tokens use (dynamo.Tokens implements it).
type TokenStore interface {
	AccessToken(ctx context.Context, app string) (qunyun.AccessToken, error)
	LeaseToken(ctx context.Context, app, owner string, until time.Time) (bool, error)
	StoreToken(ctx context.Context, app, owner string, tok qunyun.AccessToken) (bool, error)
	ReleaseTokenLease(ctx context.Context, app, owner string) error
}

// FetchFunc asks WeChat for a new token. force asks for a fresh one even if
// the platform still holds a valid one (the cached one was rejected).
type FetchFunc func(ctx context.Context, force bool) (token string, expiresIn time.Duration, err error)

// Tokens hands out access tokens: from memory while they have more than
// Margin left, else from the shared cache, else one process fetches a new one
// under the lease while the others wait for it.
type Tokens struct {
	Store TokenStore
	Now   func() time.Time
	// Margin is how long before expiry a token is replaced (default 5 min:
	// stable_token rotates 5 min before expiry).
	Margin time.Duration
	// Lease bounds how long one fetch may hold the refresh (default 30 s).
	Lease time.Duration
	// Poll is how often a waiter re-reads the cache (default 100 ms), for at
	// most Wait (default 10 s); both in real time.
	Poll, Wait time.Duration
	// IPAlerts hears of every answer refusing our IP, from the token
	// fetches here (an OA's 40164) and the Client's calls (WeCom's 60020).
	IPAlerts *IPAlerts

	once  sync.Once
	owner string
	mu    sync.Mutex
	apps  map[string]*appToken
}

type appToken struct {
	mu  sync.Mutex // one fetch per app per process
	tok qunyun.AccessToken
}

func (ts *Tokens) init() {
	ts.once.Do(func() {
		b := make([]byte, 8)
		rand.Read(b)
		ts.owner = hex.EncodeToString(b)
		ts.apps = map[string]*appToken{}
		if ts.Margin == 0 {
			ts.Margin = 5 * time.Minute
		}
		if ts.Lease == 0 {
			ts.Lease = 30 * time.Second
		}
		if ts.Poll == 0 {
			ts.Poll = 100 * time.Millisecond
		}
		if ts.Wait == 0 {
			ts.Wait = 10 * time.Second
		}
		if ts.Now == nil {
			panic("wechatapi: Tokens.Now is required (the function's clock)")
		}
	})
}

func (ts *Tokens) app(name string) *appToken {
	ts.init()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	a := ts.apps[name]
	if a == nil {
		a = &appToken{}
		ts.apps[name] = a
	}
	return a
}

// Get returns a usable token for app.
func (ts *Tokens) Get(ctx context.Context, app string, fetch FetchFunc) (string, error) {
	return ts.get(ctx, app, "", fetch)
}

// Refresh returns a token other than bad, which WeChat just rejected. When
// many senders hold the same bad token, only one of them fetches.
func (ts *Tokens) Refresh(ctx context.Context, app, bad string, fetch FetchFunc) (string, error) {
	return ts.get(ctx, app, bad, fetch)
}

func (ts *Tokens) fresh(tok qunyun.AccessToken, bad string) bool {
	return tok.Token != "" && tok.Token != bad && tok.ExpiresAt.After(ts.Now().Add(ts.Margin))
}

func (ts *Tokens) get(ctx context.Context, app, bad string, fetch FetchFunc) (string, error) {
	a := ts.app(app)
	a.mu.Lock()
	defer a.mu.Unlock()
	if ts.fresh(a.tok, bad) {
		return a.tok.Token, nil
	}
	deadline := time.Now().Add(ts.Wait) // wallclock: a bound on waiting for another sender's refresh
	for {
		tok, err := ts.Store.AccessToken(ctx, app)
		if err != nil {
			return "", fmt.Errorf("access token %s: %w", app, err)
		}
		if ts.fresh(tok, bad) {
			a.tok = tok
			return tok.Token, nil
		}
		// A lease write that failed may still have been applied: the
		// lease accepts its own holder, so the next round takes it.
		leased, leaseErr := ts.Store.LeaseToken(ctx, app, ts.owner, ts.Now().Add(ts.Lease))
		if leased {
			// Another process may have stored a token between our read and
			// our lease (storing releases the lease): read again first.
			tok, err := ts.Store.AccessToken(ctx, app)
			if err != nil {
				return "", fmt.Errorf("access token %s: %w", app, err)
			}
			if ts.fresh(tok, bad) {
				a.tok = tok
				return tok.Token, ts.Store.ReleaseTokenLease(ctx, app, ts.owner)
			}
			return ts.fetch(ctx, a, app, bad != "", fetch)
		}
		if time.Now().After(deadline) { // wallclock: a bound on waiting for another sender's refresh
			if leaseErr != nil {
				return "", fmt.Errorf("access token %s: %w", app, leaseErr)
			}
			return "", qunyun.Errorf(qunyun.EUNAVAILABLE, "access token %s: another process holds the refresh lease", app)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(ts.Poll):
		}
	}
}

// fetch runs under the lease. force is set when WeChat rejected the cached
// token although it is valid on paper.
func (ts *Tokens) fetch(ctx context.Context, a *appToken, app string, force bool, fetch FetchFunc) (string, error) {
	token, expiresIn, err := fetch(ctx, force)
	if err != nil {
		ts.IPAlerts.Observe(app, err)
		if rerr := ts.Store.ReleaseTokenLease(ctx, app, ts.owner); rerr != nil {
			return "", fmt.Errorf("fetch token %s: %w (and release lease: %v)", app, err, rerr)
		}
		return "", fmt.Errorf("fetch token %s: %w", app, err)
	}
	tok := qunyun.AccessToken{Token: token, ExpiresAt: ts.Now().Add(expiresIn)}
	if _, err := ts.Store.StoreToken(ctx, app, ts.owner, tok); err != nil {
		return "", fmt.Errorf("store token %s: %w", app, err)
	}
	a.tok = tok
	return token, nil
}
