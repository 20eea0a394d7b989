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
// Which call serves which request:
//
//	OA GET verification            VerifySignature, then echo echostr unchanged
//	OA POST, plaintext mode        VerifySignature, ParseOA(body)
//	OA POST, safe/compatible mode  ParseEnvelopeXML, Crypto.Open, ParseOA
//	WeCom / smart-bot GET          Crypto.VerifyURL, answer with its result
//	WeCom POST                     ParseEnvelopeXML, Crypto.Open, ParseWeCom
//	smart-bot POST                 ParseEnvelopeJSON, Crypto.Open, ParseBot
//	relay POST                     VerifyRelay, ParseRelay
//	then, for every inbound        IdempotencyKey
//	passive reply                  TextReply/NewsReply.XML, and in safe mode
//	                               Crypto.Seal, EncryptedReply.XML (or .JSON for the bot)
//
// For example, a safe-mode OA POST:
//
//	env, err := wechat.ParseEnvelopeXML(body)
//	plain, err := crypto.Open(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), env.Encrypt)
//	in, err := wechat.ParseOA(plain)
//	switch m := in.(type) {
//	case *wechat.OAText: …
//	}
//
// Open does not judge the timestamp: whether WeChat's retries reuse it is
// undocumented. Callers that want a window use CheckTimestamp.
//
// Every error wraps one of the Err* values, so the caller maps it to a 4xx
// with errors.Is.
package wechat
