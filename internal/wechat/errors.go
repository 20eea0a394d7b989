package wechat

import "errors"

// Errors returned (wrapped) by this package. All of them describe bad input,
// except ErrAESKey, which describes a bad account configuration.
var (
	// ErrSignature: signature, msg_signature or relay signature does not match (WeChat code -40001).
	ErrSignature = errors.New("wechat: signature mismatch")
	// ErrTimestamp: timestamp missing, not a number, or outside the allowed window.
	ErrTimestamp = errors.New("wechat: bad timestamp")
	// ErrBase64: the Encrypt text is not valid base64 (-40010).
	ErrBase64 = errors.New("wechat: bad base64")
	// ErrBlockSize: the ciphertext is empty or not a multiple of the AES block size (-40007).
	ErrBlockSize = errors.New("wechat: ciphertext is not a positive multiple of 16 bytes")
	// ErrPadding: the PKCS#7 pad byte is outside 1..32 or the pad bytes disagree (-40007).
	ErrPadding = errors.New("wechat: bad PKCS#7 padding")
	// ErrLength: the plaintext is shorter than its header or msg_len runs past its end (-40008).
	ErrLength = errors.New("wechat: bad msg_len")
	// ErrReceiveID: the trailing receiveid is not the configured one (-40005).
	ErrReceiveID = errors.New("wechat: receiveid mismatch")
	// ErrAESKey: the EncodingAESKey is not 43 base64 characters (-40004). A configuration error.
	ErrAESKey = errors.New("wechat: bad EncodingAESKey")
	// ErrTooLarge: the body is larger than MaxBodySize.
	ErrTooLarge = errors.New("wechat: body too large")
	// ErrXML: the XML is malformed or its root is not <xml> (-40002).
	ErrXML = errors.New("wechat: malformed XML")
	// ErrJSON: the JSON is malformed (-40002).
	ErrJSON = errors.New("wechat: malformed JSON")
	// ErrMissingField: a field the protocol requires is absent or empty.
	ErrMissingField = errors.New("wechat: required field missing")
	// ErrInvalid: a field has a value the protocol does not allow.
	ErrInvalid = errors.New("wechat: invalid field value")
	// ErrNoKey: IdempotencyKey cannot name a key for this inbound.
	ErrNoKey = errors.New("wechat: no idempotency key")
)

// MaxBodySize is the largest request body any channel accepts (1 MiB). The
// HTTP layer enforces it before reading; the parsers check it again.
const MaxBodySize = 1 << 20
