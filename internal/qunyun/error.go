package qunyun

import (
	"errors"
	"fmt"
)

// Error codes shared by every adapter; each transport maps them (HTTP status,
// CLI exit code, log level).
const (
	EINVALID      = "invalid"      // bad input: the caller must change the request
	EUNAUTHORIZED = "unauthorized" // signature or credentials do not check out
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"    // already exists or was changed concurrently
	EUNAVAILABLE  = "unavailable" // a dependency failed; retrying may succeed
	EINTERNAL     = "internal"
)

// Error is the domain error: a code for programs and a message for people.
type Error struct {
	Code    string
	Message string
	Err     error // optional cause
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of the first *Error in err's chain,
// or a generic text that never leaks internals.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
