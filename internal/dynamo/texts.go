package dynamo

import (
	"context"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Texts is the store of each account's own replies (community.yaml
// `texts`).
//
// Keys (docs/data-model.md):
//
//	ACCOUNT#<acct>  TEXTS   the account's texts; GSI1 TEXTS / <acct>
type Texts struct{ Table *Table }

var textsEntity = entity[qunyun.AccountTexts]{"AccountTexts", func(x qunyun.AccountTexts) Keys {
	return Keys{PK: "ACCOUNT#" + x.AccountID, SK: "TEXTS", GSI1PK: "TEXTS", GSI1SK: x.AccountID}
}}

// PutTexts writes an account's texts (config apply).
func (s Texts) PutTexts(ctx context.Context, x qunyun.AccountTexts) error {
	return textsEntity.put(ctx, s.Table, x)
}

// AccountTexts reads an account's texts; found=false means the account
// gave none (the caller uses the defaults).
func (s Texts) AccountTexts(ctx context.Context, accountID string) (qunyun.AccountTexts, bool, error) {
	x, _, found, err := textsEntity.get(ctx, s.Table, "ACCOUNT#"+accountID, "TEXTS")
	return x, found, err
}

// AllTexts lists every account's texts.
func (s Texts) AllTexts(ctx context.Context) ([]qunyun.AccountTexts, error) {
	return textsEntity.list(ctx, s.Table, Query{Index: GSI1, PK: "TEXTS"})
}

// DeleteTexts removes an account's texts: it falls back to the defaults.
func (s Texts) DeleteTexts(ctx context.Context, accountID string) error {
	return s.Table.Delete(ctx, "ACCOUNT#"+accountID, "TEXTS")
}
