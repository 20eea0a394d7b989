// Package wechatapi is Qunyun's outbound side of WeChat: clients for the
// Official Account and WeCom HTTP APIs (customer-service and template
// messages, customer-group tasks and their results and reminders, appchat,
// app messages to staff), the group-robot webhook and the relay bridge.
//
// It owns what every call needs: access tokens shared across processes
// through a DynamoDB cache with a lease (one refresh for the whole fleet),
// kept in memory until close to expiry; errcode handling (40001/42001:
// refresh once and retry once; 45009/45011: back off; 45015/45047: give up
// with a reason); and a token bucket per API.
//
// It must not decide what to send or when (that is package push) and must
// never log a secret or an access token.
package wechatapi

import (
	"errors"
	"fmt"

	"github.com/qunyun/qunyun/internal/qunyun"
)

// Errcodes the client acts on (reference/wechat-protocol.md §4.9).
const (
	CodeInvalidCredential = 40001 // also "access_token is invalid or not latest"
	CodeInvalidToken      = 40014
	CodeTokenExpired      = 42001
	CodeFreqLimit         = 45009 // api freq out of limit / daily quota
	CodeMinuteLimit       = 45011
	CodeConcurrency       = 45033
	CodeCSWindow          = 45015 // customer-service: reply time out of limit
	CodeCSQuota           = 45047 // customer-service: too many messages
)

// APIError is a non-zero errcode from WeChat.
type APIError struct {
	API     string // the path called
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechat %s: errcode %d: %s", e.API, e.Code, e.Message)
}

// tokenRejected reports whether the code means "get a new token".
func tokenRejected(code int) bool {
	return code == CodeInvalidCredential || code == CodeInvalidToken || code == CodeTokenExpired
}

// throttled reports whether the code means "slow down and try later".
func throttled(code int) bool {
	return code == CodeFreqLimit || code == CodeMinuteLimit || code == CodeConcurrency
}

// SkipReason maps an error to the delivery skip reason it implies, or "" if
// it implies none: a 45015 or 45047 is not a failure of ours, the platform
// said this person cannot be messaged now.
func SkipReason(err error) string {
	var e *APIError
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Code {
	case CodeCSWindow:
		return qunyun.ReasonCSWindow
	case CodeCSQuota:
		return qunyun.ReasonCSQuota
	}
	return ""
}

// Throttled reports whether err is a rate-limit answer that outlived the
// client's back-off: the message was not sent and may be tried later.
func Throttled(err error) bool {
	var e *APIError
	return errors.As(err, &e) && throttled(e.Code)
}

// IsAPIError reports whether err is an errcode answer: WeChat received the
// request and refused it, so nothing was sent.
func IsAPIError(err error) bool {
	var e *APIError
	return errors.As(err, &e)
}

// notSentError marks a failure before the request left: no token, the rate
// limiter gave up, the context ended while backing off. The message is
// certainly not out, so it may be tried again.
type notSentError struct{ err error }

func (e notSentError) Error() string { return e.err.Error() }
func (e notSentError) Unwrap() error { return e.err }

func notSent(err error) error {
	if err == nil {
		return nil
	}
	return notSentError{err}
}

// NotSent reports whether err happened before any request carrying the
// message was made (and WeChat did not refuse it with an errcode).
func NotSent(err error) bool {
	var e notSentError
	return errors.As(err, &e) && !IsAPIError(err)
}

// resendableError marks a post to a channel that deduplicates by id (the
// relay bridge) which got no clear answer: a refused connection, a
// timeout, a 5xx. The post may have arrived or not; since the bridge posts
// each id at most once, the same post may be made again under the same id.
type resendableError struct{ err error }

func (e resendableError) Error() string { return e.err.Error() }
func (e resendableError) Unwrap() error { return e.err }

func resendable(err error) error { return resendableError{err} }

// Resendable reports whether err is such an answer: post again, with the
// same id, later.
func Resendable(err error) bool {
	var e resendableError
	return errors.As(err, &e)
}
