package push

import (
	"context"
	"sync"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// catalog caches what one invocation reads: groups, contents, accounts.
type catalog struct {
	s      *Service
	mu     sync.Mutex
	groups map[string]*qunyun.Group
	// allGroups: groups holds every group (loadGroups); one not in it is
	// still read on its own (created since).
	allGroups bool
	contents  map[string]*qunyun.Content
	accounts  map[string]*qunyun.Account
}

func (s *Service) newCatalog(groups []qunyun.Group) *catalog {
	c := &catalog{s: s, groups: map[string]*qunyun.Group{}, allGroups: groups != nil, contents: map[string]*qunyun.Content{}, accounts: map[string]*qunyun.Account{}}
	for i := range groups {
		c.groups[groups[i].ID] = &groups[i]
	}
	return c
}

func (c *catalog) group(ctx context.Context, id string) (*qunyun.Group, error) {
	if id == "" {
		return nil, nil
	}
	c.mu.Lock()
	g, ok := c.groups[id]
	c.mu.Unlock()
	if ok {
		return g, nil
	}
	v, found, err := c.s.Store.Catalog.Group(ctx, id)
	if err != nil {
		return nil, err
	}
	if found {
		g = &v
	}
	c.mu.Lock()
	c.groups[id] = g
	c.mu.Unlock()
	return g, nil
}

func (c *catalog) content(ctx context.Context, id string) (*qunyun.Content, error) {
	c.mu.Lock()
	v, ok := c.contents[id]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	got, found, err := c.s.Store.Catalog.Content(ctx, id)
	if err != nil {
		return nil, err
	}
	if found {
		v = &got
	}
	c.mu.Lock()
	c.contents[id] = v
	c.mu.Unlock()
	return v, nil
}

func (c *catalog) account(ctx context.Context, id string) (*qunyun.Account, error) {
	c.mu.Lock()
	v, ok := c.accounts[id]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	a, err := c.s.Accounts.Account(ctx, id)
	if err != nil && qunyun.ErrorCode(err) != qunyun.ENOTFOUND {
		return nil, err
	}
	if err == nil {
		v = &a
	}
	c.mu.Lock()
	c.accounts[id] = v
	c.mu.Unlock()
	return v, nil
}

// staffAccount is the WeCom app that messages staff.
func (c *catalog) staffAccount(ctx context.Context, preferred string) (*qunyun.Account, error) {
	if preferred != "" {
		if a, err := c.account(ctx, preferred); err != nil || (a != nil && a.Kind == qunyun.ChannelWeCom) {
			return a, err
		}
	}
	if c.s.StaffAccount != "" {
		return c.account(ctx, c.s.StaffAccount)
	}
	all, err := c.s.Accounts.All(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		if a.Kind == qunyun.ChannelWeCom {
			return &a, nil
		}
	}
	return nil, nil
}
