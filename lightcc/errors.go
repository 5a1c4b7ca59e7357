package lightcc

import (
	"errors"
	"fmt"
)

// Sentinel errors, for errors.Is. Every error a Client returns wraps exactly
// one of them or is an *APIError.
var (
	// ErrUnauthorized: the key is missing, wrong or revoked (envelope code 401).
	ErrUnauthorized = errors.New("lightcc: unauthorized")
	// ErrTimeout: the call took longer than the client's timeout or the caller's deadline.
	ErrTimeout = errors.New("lightcc: timeout")
	// ErrTransport: the request did not complete (refused, reset, DNS, TLS).
	ErrTransport = errors.New("lightcc: transport failure")
	// ErrStatus: the upstream answered with a non-2xx HTTP status.
	ErrStatus = errors.New("lightcc: unexpected HTTP status")
	// ErrDecode: the body was not JSON, had no envelope, or did not fit the documented shape.
	ErrDecode = errors.New("lightcc: undecodable response")
)

// APIError is a business refusal: the envelope's code was not 200. Msg is
// the upstream's human-readable reason (often Chinese, e.g. 余额不足) and is
// safe to show to a user.
type APIError struct {
	Op   string
	Code int
	Msg  string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("lightcc: %s: code %d: %s", e.Op, e.Code, e.Msg)
}

// Is lets errors.Is(err, ErrUnauthorized) match a code-401 refusal.
func (e *APIError) Is(target error) bool {
	return target == ErrUnauthorized && e.Code == 401
}

// StatusError is a non-2xx HTTP answer.
type StatusError struct {
	Op         string
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("lightcc: %s: HTTP %d", e.Op, e.StatusCode)
}

// Unwrap lets errors.Is(err, ErrStatus) match.
func (e *StatusError) Unwrap() error { return ErrStatus }

// opError wraps a cause with the operation and a sentinel class.
type opError struct {
	op    string
	class error
	err   error
}

func (e *opError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("%s: %s", e.class, e.op)
	}
	return fmt.Sprintf("%s: %s: %v", e.class, e.op, e.err)
}

func (e *opError) Unwrap() []error {
	if e.err == nil {
		return []error{e.class}
	}
	return []error{e.class, e.err}
}
