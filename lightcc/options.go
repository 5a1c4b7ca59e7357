package lightcc

import (
	"net/http"
	"time"
)

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient replaces the HTTP client (for a custom transport or an
// in-memory one in tests). Its own Timeout should be zero: the Client
// applies its per-call timeout through the context.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithTimeout sets the per-call timeout (default 10 s).
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithLocation sets the platform's time zone, used to write stopTime
// (default Asia/Shanghai).
func WithLocation(loc *time.Location) Option {
	return func(c *Client) {
		if loc != nil {
			c.loc = loc
		}
	}
}

// WithObserver registers a function told about every finished call: the
// endpoint name (the last static path segment), how long it took and its
// error (nil on success). It must be fast and must not block.
func WithObserver(fn func(endpoint string, took time.Duration, err error)) Option {
	return func(c *Client) { c.observe = fn }
}
