// Package accounts loads the Accounts (ids, tokens, AES keys, secrets) the
// functions serve: from SSM Parameter Store SecureStrings in AWS, or from a
// JSON file locally (QUNYUN_ACCOUNTS). It caches them in memory and never
// logs a secret.
//
// In SSM each account has two halves, so that a function's role can be
// given only the half it needs (issue #14): the inbound half
// (<prefix>/accounts/<id>: ids, token, AES key, relay HMAC key), which every
// function reads, and the sending half (<prefix>/sending/<id>: the app
// secret and the webhook), which only the functions that send read. A
// directory without a sending prefix holds no sending secrets, wherever
// they are stored.
package accounts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/qunyun/qunyun/internal/paramstore"
	"github.com/qunyun/qunyun/internal/qunyun"
	"github.com/qunyun/qunyun/internal/wechat"
)

// Directory finds an account by id.
type Directory interface {
	Account(ctx context.Context, id string) (qunyun.Account, error)
	All(ctx context.Context) ([]qunyun.Account, error)
}

// Static is a fixed set of accounts (the local file, or tests).
type Static struct{ byID map[string]qunyun.Account }

// NewStatic validates accounts and indexes them by id.
func NewStatic(list []qunyun.Account) (*Static, error) {
	s := &Static{byID: make(map[string]qunyun.Account, len(list))}
	for i, a := range list {
		if err := a.Validate(); err != nil {
			return nil, fmt.Errorf("account %d: %w", i, err)
		}
		// A key that cannot decrypt would load fine and then fail every
		// callback with a 500: refuse it now, naming the account.
		if a.EncodingAESKey != "" {
			if err := wechat.CheckEncodingAESKey(a.EncodingAESKey); err != nil {
				return nil, qunyun.Errorf(qunyun.EINVALID, "account %s (%s): encodingAESKey: %v", a.ID, a.Kind, err)
			}
		}
		if _, dup := s.byID[a.ID]; dup {
			return nil, qunyun.Errorf(qunyun.EINVALID, "account %q appears twice", a.ID)
		}
		s.byID[a.ID] = a
	}
	return s, nil
}

// LoadFile reads a JSON array of accounts.
func LoadFile(path string) (*Static, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("accounts file: %w", err)
	}
	var list []qunyun.Account
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("accounts file %s: want a JSON array of accounts: %w", path, err)
	}
	// A second array (two files pasted together) must not be ignored.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("accounts file %s: want one JSON array of accounts, found more after it", path)
	}
	s, err := NewStatic(list)
	if err != nil {
		return nil, fmt.Errorf("accounts file %s: %w", path, err)
	}
	return s, nil
}

// Account returns the account or an ENOTFOUND error.
func (s *Static) Account(_ context.Context, id string) (qunyun.Account, error) {
	a, ok := s.byID[id]
	if !ok {
		return qunyun.Account{}, qunyun.Errorf(qunyun.ENOTFOUND, "unknown account %q", id)
	}
	return a, nil
}

// All returns every account, sorted by id.
func (s *Static) All(context.Context) ([]qunyun.Account, error) {
	out := make([]qunyun.Account, 0, len(s.byID))
	for _, a := range s.byID {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// SSMAPI is the part of Parameter Store the directory uses
// (paramstore.Client): every parameter directly under a path, decrypted.
type SSMAPI interface {
	ParametersByPath(ctx context.Context, path string) ([]paramstore.Parameter, error)
}

// Sending is an account's sending half: what lets its holder send as the
// account. Its SSM parameter is named after the account's id.
type Sending struct {
	Secret  string `json:"secret,omitempty"`
	Webhook string `json:"webhook,omitempty"`
	// Webhooks are a wecom-bot account's group robots by name.
	Webhooks map[string]string `json:"webhooks,omitempty"`
}

// inboundOnly drops the sending half.
func inboundOnly(a qunyun.Account) qunyun.Account {
	a.Secret, a.Webhook, a.Webhooks = "", "", nil
	return a
}

// SSM reads every account under Prefix, and when SendingPrefix is set each
// account's sending half under it, and keeps them for TTL.
type SSM struct {
	Client SSMAPI
	Prefix string // "/qunyun/dev/accounts/": the inbound halves
	// SendingPrefix ("/qunyun/dev/sending/") is empty for a function that
	// only receives (the callback): it then holds no secret or webhook.
	SendingPrefix string
	TTL           time.Duration // default 5 minutes
	Now           func() time.Time
	Log           *slog.Logger // default slog.Default()

	mu      sync.Mutex
	loaded  time.Time
	current *Static
}

// Account returns the account, refreshing the cache when it is stale or the
// id is unknown (a new account appears without a redeploy).
func (s *SSM) Account(ctx context.Context, id string) (qunyun.Account, error) {
	st, err := s.load(ctx, false)
	if err != nil {
		return qunyun.Account{}, err
	}
	a, err := st.Account(ctx, id)
	if err == nil || qunyun.ErrorCode(err) != qunyun.ENOTFOUND {
		return a, err
	}
	if st, err = s.load(ctx, true); err != nil {
		return qunyun.Account{}, err
	}
	return st.Account(ctx, id)
}

// All returns every account.
func (s *SSM) All(ctx context.Context) ([]qunyun.Account, error) {
	st, err := s.load(ctx, false)
	if err != nil {
		return nil, err
	}
	return st.All(ctx)
}

func (s *SSM) load(ctx context.Context, force bool) (*Static, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now // wallclock: the SSM cache lifetime is real time
	if s.Now != nil {
		now = s.Now
	}
	ttl := s.TTL
	if ttl == 0 {
		ttl = 5 * time.Minute
	}
	if s.current != nil && !force && now().Sub(s.loaded) < ttl {
		return s.current, nil
	}
	if s.current != nil && force && now().Sub(s.loaded) < 10*time.Second {
		return s.current, nil // unknown ids must not hammer SSM
	}
	var list []qunyun.Account
	err := s.each(ctx, s.Prefix, func(name string, value []byte) error {
		var a qunyun.Account
		if err := json.Unmarshal(value, &a); err != nil {
			return fmt.Errorf("SSM parameter %s: not an account JSON object: %v", name, err)
		}
		if a.Secret != "" || a.Webhook != "" || len(a.Webhooks) > 0 {
			// The layout before the split: it still works, but every
			// function that may read the inbound half can read these.
			s.log().Warn("account keeps its secret or webhook in its inbound parameter, which CallbackFunction can read; move them to …/sending/<id> (README, Accounts)",
				"parameter", name, "account", a.ID)
			if s.SendingPrefix == "" {
				a = inboundOnly(a)
			}
		}
		list = append(list, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if s.SendingPrefix != "" {
		byID := make(map[string]int, len(list))
		for i, a := range list {
			byID[a.ID] = i
		}
		err := s.each(ctx, s.SendingPrefix, func(name string, value []byte) error {
			var snd Sending
			dec := json.NewDecoder(bytes.NewReader(value))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&snd); err != nil {
				return fmt.Errorf("SSM parameter %s: want {\"secret\": …, \"webhook\": …, \"webhooks\": {…}}: %v", name, err)
			}
			i, ok := byID[path.Base(name)]
			if !ok {
				// A stray or renamed parameter must not take every
				// account's sending away: say so and go on.
				s.log().Warn("SSM sending parameter names no account; ignored", "parameter", name, "prefix", s.Prefix)
				return nil
			}
			if snd.Secret != "" {
				list[i].Secret = snd.Secret
			}
			if snd.Webhook != "" {
				list[i].Webhook = snd.Webhook
			}
			if len(snd.Webhooks) > 0 {
				list[i].Webhooks = snd.Webhooks
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	st, err := NewStatic(list)
	if err != nil {
		return nil, fmt.Errorf("SSM %s: %w", s.Prefix, err)
	}
	s.current, s.loaded = st, now()
	return st, nil
}

// each calls fn with every parameter directly under prefix, decrypted.
func (s *SSM) each(ctx context.Context, prefix string, fn func(name string, value []byte) error) error {
	params, err := s.Client.ParametersByPath(ctx, prefix)
	if err != nil {
		return &qunyun.Error{Code: qunyun.EUNAVAILABLE, Message: "read accounts from SSM " + prefix, Err: err}
	}
	for _, prm := range params {
		if err := fn(prm.Name, []byte(prm.Value)); err != nil {
			return err
		}
	}
	return nil
}

func (s *SSM) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// FromEnv picks the directory the environment asks for: the file named by
// QUNYUN_ACCOUNTS (the local stack), otherwise SSM under ACCOUNTS_SSM_PREFIX.
// Only a function given ACCOUNTS_SENDING_SSM_PREFIX (push, scoring) gets the
// sending halves; the others get the accounts without them, from the file
// too, so the local stack holds each function to what it holds in AWS.
func FromEnv(getenv func(string) string, client SSMAPI) (Directory, error) {
	sending := getenv("ACCOUNTS_SENDING_SSM_PREFIX")
	if file := getenv("QUNYUN_ACCOUNTS"); file != "" {
		st, err := LoadFile(file)
		if err != nil {
			return nil, err
		}
		if sending != "" {
			return st, nil
		}
		for id, a := range st.byID {
			st.byID[id] = inboundOnly(a)
		}
		return st, nil
	}
	prefix := getenv("ACCOUNTS_SSM_PREFIX")
	if prefix == "" {
		return nil, fmt.Errorf("accounts: set ACCOUNTS_SSM_PREFIX (AWS) or QUNYUN_ACCOUNTS (a local file)")
	}
	return &SSM{Client: client, Prefix: prefix, SendingPrefix: sending}, nil
}
