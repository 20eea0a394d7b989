package wechat

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Signature is the 3-parameter signature WeChat puts in the `signature` query
// parameter of every OA request (GET verification and POST, in any mode):
// hex(sha1(concat(sort(token, timestamp, nonce)))).
func Signature(token, timestamp, nonce string) string {
	return sortedSHA1(token, timestamp, nonce)
}

// MsgSignature is the 4-parameter `msg_signature` of encrypted requests and
// replies: hex(sha1(concat(sort(token, timestamp, nonce, encrypt)))), where
// encrypt is the base64 text exactly as received (never trimmed).
func MsgSignature(token, timestamp, nonce, encrypt string) string {
	return sortedSHA1(token, timestamp, nonce, encrypt)
}

// VerifySignature checks the 3-parameter signature (lowercase hex, as WeChat
// sends it) in constant time.
// Use it for OA GET verification (then echo echostr unchanged) and for
// plaintext-mode POSTs. Encrypted POSTs need VerifyMsgSignature (or Crypto.Open).
func VerifySignature(token, timestamp, nonce, signature string) error {
	if !equalHex(Signature(token, timestamp, nonce), signature) {
		return fmt.Errorf("verify signature: %w", ErrSignature)
	}
	return nil
}

// VerifyMsgSignature checks the 4-parameter msg_signature in constant time.
func VerifyMsgSignature(token, timestamp, nonce, encrypt, msgSignature string) error {
	// MsgSignature's steps, without its allocations: this runs on every
	// encrypted callback, before anything else is known about the sender.
	parts := [4]string{token, timestamp, nonce, encrypt}
	slices.Sort(parts[:])
	var stack [1024]byte
	buf := stack[:0]
	for _, p := range parts {
		buf = append(buf, p...)
	}
	sum := sha1.Sum(buf)
	var want [2 * sha1.Size]byte
	hex.Encode(want[:], sum[:])
	if !equalHexBytes(want[:], msgSignature) {
		return fmt.Errorf("verify msg_signature: %w", ErrSignature)
	}
	return nil
}

// CheckTimestamp parses a decimal Unix-seconds timestamp and rejects it when
// it lies more than window away from now, in either direction.
func CheckTimestamp(timestamp string, now time.Time, window time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", truncate(timestamp, 20), ErrTimestamp)
	}
	// Compare in whole seconds against bounds: a hostile ts near the int64
	// limits cannot overflow a subtraction this way.
	limit := int64(window / time.Second)
	if ts < now.Unix()-limit || ts > now.Unix()+limit {
		return fmt.Errorf("timestamp %d is more than %ds away from now: %w", ts, limit, ErrTimestamp)
	}
	return nil
}

func sortedSHA1(parts ...string) string {
	slices.Sort(parts)
	h := sha1.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// equalHex compares a computed signature with a received one in constant time.
func equalHex(want, got string) bool {
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// equalHexBytes is equalHex without converting got: like
// subtle.ConstantTimeCompare, its time depends on the lengths only.
func equalHexBytes(want []byte, got string) bool {
	if len(want) != len(got) {
		return false
	}
	var v byte
	for i := range want {
		v |= want[i] ^ got[i]
	}
	return v == 0
}

// truncate keeps error messages short when the input is hostile.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
