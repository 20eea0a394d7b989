// Package wechat is the callback protocol of every inbound channel Qunyun
// speaks, as pure functions over bytes: the Official Account (oa), the WeCom
// self-built app (wecom), the WeCom smart bot (wecom-bot) and the relay bridge
// (relay).
//
// It verifies signatures (the 3-parameter signature and the 4-parameter
// msg_signature), decrypts and encrypts the AES-256-CBC message format,
// parses incoming envelopes, decodes plaintext XML/JSON into typed values,
// builds passive replies and the encrypted reply envelope, and names the
// idempotency key of each decoded inbound (DESIGN.md §5).
//
// What it must not do: no AWS code, no storage, no HTTP server, no logging and
// no clock of its own. Time and randomness are passed in, so every function is
// deterministic under test. Secrets (token, EncodingAESKey, relay secret) are
// never put into error messages.
//
// A typical safe-mode POST, as the HTTP layer would call it:
//
//	env, err := wechat.ParseEnvelopeXML(body)            // ErrTooLarge, ErrXML, ErrMissingField
//	plain, err := crypto.Open(q.MsgSignature, q.Timestamp, q.Nonce, env.Encrypt)
//	in, err := wechat.ParseOA(plain)                      // switch in.(type) { case *wechat.OAText: ... }
//	key, err := wechat.IdempotencyKey(in)
//
// Every error wraps one of the Err* values, so the caller maps it to a 4xx
// with errors.Is.
package wechat
