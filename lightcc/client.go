// Package lightcc speaks the LightCC open API: a typed client for its 13
// documented endpoints (this package) and a stateful simulator of it
// (package sim). Nothing else in the console talks to the upstream.
package lightcc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the production API.
const DefaultBaseURL = "https://api.lightcc.cloud"

// maxBody bounds what we read of any answer; the largest documented one (the
// image catalogue) is a few kilobytes.
const maxBody = 8 << 20

// Client calls the LightCC API. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	key     string
	http    *http.Client
	timeout time.Duration
	loc     *time.Location
	observe func(endpoint string, took time.Duration, err error)
}

// New returns a client for the API at baseURL, authenticating with apiKey.
// It fails on a base URL that is not absolute http(s).
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("lightcc: base URL %q is not an absolute http(s) URL", baseURL)
	}
	c := &Client{base: u, key: apiKey, http: &http.Client{}, timeout: 10 * time.Second}
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		c.loc = loc
	} else {
		c.loc = time.FixedZone("CST", 8*3600)
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Location is the platform's time zone, in which DateTime values are read and written.
func (c *Client) Location() *time.Location { return c.loc }

// ListApplications returns the account's applications, filtered by state
// (RunningAll for every one).
func (c *Client) ListApplications(ctx context.Context, state RunningState) ([]Application, error) {
	q := url.Values{}
	if state != RunningAll {
		q.Set("runningState", string(state))
	}
	var apps []Application
	err := c.do(ctx, call{op: "list applications", endpoint: "openApplication", method: http.MethodGet,
		path: "/equipment/deviceServer/openApplication", query: q, out: &apps, nullOK: true})
	return apps, err
}

// ApplicationDetails returns one application with its link.
func (c *Client) ApplicationDetails(ctx context.Context, aID string) (*ApplicationDetails, error) {
	var d ApplicationDetails
	err := c.do(ctx, call{op: "application details " + aID, endpoint: "openApplicationDetails", method: http.MethodGet,
		path: "/equipment/deviceServer/openApplicationDetails/" + url.PathEscape(aID), out: &d})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// CreateApplication rents a new application and returns its id, which the
// API answers in msg. It is never retried: a retry could rent twice.
func (c *Client) CreateApplication(ctx context.Context, req CreateRequest) (string, error) {
	var msg string
	err := c.do(ctx, call{op: "create application", endpoint: "openCreateApplication", method: http.MethodPost,
		path: "/equipment/deviceServer/openCreateApplication", body: req, msgOut: &msg})
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(msg)
	if !validID(id) {
		return "", &opError{op: "create application", class: ErrDecode, err: fmt.Errorf("msg %q is not an application id", msg)}
	}
	return id, nil
}

// RestartApplication starts a stopped application, or restarts a running one.
func (c *Client) RestartApplication(ctx context.Context, aID string) error {
	return c.do(ctx, call{op: "start application " + aID, endpoint: "openRestartApplication", method: http.MethodPost,
		path: "/equipment/deviceServer/openRestartApplication/" + url.PathEscape(aID)})
}

// StopApplication shuts an application down without deleting it.
func (c *Client) StopApplication(ctx context.Context, aID string) error {
	return c.do(ctx, call{op: "stop application " + aID, endpoint: "openStopApplication", method: http.MethodPost,
		path: "/equipment/deviceServer/openStopApplication/" + url.PathEscape(aID)})
}

// TimedStopApplication schedules a stop at the given instant, sent as a wall
// clock in the platform's zone.
func (c *Client) TimedStopApplication(ctx context.Context, aID string, at time.Time) error {
	q := url.Values{"stopTime": {FormatDateTime(at, c.loc)}}
	return c.do(ctx, call{op: "timed stop application " + aID, endpoint: "openTimedStopApplication", method: http.MethodGet,
		path: "/equipment/deviceServer/openTimedStopApplication/" + url.PathEscape(aID), query: q, write: true})
}

// DestroyApplication deletes an application and all its data, irreversibly.
func (c *Client) DestroyApplication(ctx context.Context, aID string) error {
	return c.do(ctx, call{op: "destroy application " + aID, endpoint: "openDestructionApplication", method: http.MethodPost,
		path: "/equipment/deviceServer/openDestructionApplication/" + url.PathEscape(aID)})
}

// ApplicationLink asks for the address of one service of an application.
// Compose it into a URL with ComposeLink.
func (c *Client) ApplicationLink(ctx context.Context, t LinkType, aID string) (Link, error) {
	var l Link
	if !t.Valid() {
		return l, fmt.Errorf("lightcc: link type %q is not documented", t)
	}
	err := c.do(ctx, call{op: "application link " + aID, endpoint: "applicationLinks", method: http.MethodPost,
		path: "/equipment/deviceServer/applicationLinks/" + string(t) + "/" + url.PathEscape(aID), out: &l})
	return l, err
}

// ListImages returns the image catalogue, filtered by title when title is not empty.
func (c *Client) ListImages(ctx context.Context, title string) ([]Image, error) {
	q := url.Values{}
	if title != "" {
		q.Set("title", title)
	}
	var imgs []Image
	err := c.do(ctx, call{op: "list images", endpoint: "openListByUser", method: http.MethodGet,
		path: "/system/applicationImage/openListByUser", query: q, out: &imgs, nullOK: true})
	return imgs, err
}

// ImageInfo returns one image's details.
func (c *Client) ImageInfo(ctx context.Context, imageID int64) (*ImageDetails, error) {
	var d ImageDetails
	err := c.do(ctx, call{op: "image info " + strconv.FormatInt(imageID, 10), endpoint: "openGetInfoById", method: http.MethodGet,
		path: "/system/applicationImage/openGetInfoById/" + strconv.FormatInt(imageID, 10), out: &d})
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// AvailableGPUConfig lists the GPU models an image can run on, with stock.
func (c *Client) AvailableGPUConfig(ctx context.Context, imageID int64) ([]GPUConfig, error) {
	q := url.Values{"imageId": {strconv.FormatInt(imageID, 10)}}
	var cfg []GPUConfig
	err := c.do(ctx, call{op: "gpu config", endpoint: "openAvailableGpuConfig", method: http.MethodGet,
		path: "/equipment/deviceServer/openAvailableGpuConfig", query: q, out: &cfg, nullOK: true})
	return cfg, err
}

// GPUPrice quotes a GPU choice.
func (c *Client) GPUPrice(ctx context.Context, pq PriceQuery) (PriceQuote, error) {
	q := url.Values{
		"gpuModel":    {pq.GPUModel},
		"gpuCount":    {strconv.Itoa(pq.GPUCount)},
		"billingMode": {string(pq.BillingMode)},
		"cycle":       {pq.Cycle},
	}
	var raw json.RawMessage
	const op = "gpu price"
	if err := c.do(ctx, call{op: op, endpoint: "getGpuPrice", method: http.MethodGet,
		path: "/recharge/charge/getGpuPrice", query: q, out: &raw}); err != nil {
		return PriceQuote{}, err
	}
	quote, err := decodePriceQuote(raw, pq.GPUModel)
	if err != nil {
		return PriceQuote{}, &opError{op: op, class: ErrDecode, err: err}
	}
	return quote, nil
}

// Balance returns the account's balance, vouchers and compute points.
func (c *Client) Balance(ctx context.Context) (Balance, error) {
	var b Balance
	err := c.do(ctx, call{op: "balance", endpoint: "openSelectBalance", method: http.MethodGet,
		path: "/recharge/order-info/openSelectBalance", out: &b})
	return b, err
}

// FormatDateTime writes t as the API's wall clock in loc.
func FormatDateTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format(DateTimeLayout)
}

// validID accepts what an application id can safely be: the API's long
// numeric strings, and nothing that could escape a path segment.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// ValidID reports whether s looks like an application id the API could
// have issued; callers use it to refuse bad input before any request.
func ValidID(s string) bool { return validID(s) }

// call describes one request.
type call struct {
	op       string
	endpoint string
	method   string
	path     string
	query    url.Values
	body     any
	out      any     // where data is decoded; nil when the endpoint's data is not needed
	msgOut   *string // where msg is copied (create answers its id there)
	nullOK   bool    // a missing or null data is fine (lists)
	write    bool    // changes something though it is a GET (timed stop): never retried
}

// envelope is the wrapper around every answer.
type envelope struct {
	Code *int            `json:"code"`
	Msg  *string         `json:"msg"`
	Data json.RawMessage `json:"data"`
}

// Retries: a read (a GET) that fails for want of an answer (transport
// error, HTTP 5xx) is asked again at most maxRetries times, after a
// jittered backoff, while the caller's deadline leaves room. A write is
// never retried, including the timed stop the API exposes as a GET: it
// could rent, stop or destroy twice.
const (
	maxRetries = 2
	retryBase  = 150 * time.Millisecond
	minAttempt = 200 * time.Millisecond // an attempt with less time left is not worth starting
)

func (c *Client) do(ctx context.Context, cl call) (err error) {
	start := time.Now()
	if c.observe != nil {
		defer func() { c.observe(cl.endpoint, time.Since(start), err) }()
	}
	for attempt := 0; ; attempt++ {
		err = c.once(ctx, cl)
		if err == nil || cl.method != http.MethodGet || cl.write || attempt == maxRetries || !retryable(err) {
			return err
		}
		wait := backoff(attempt)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait+minAttempt {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// retryable: no answer came (refused, reset) or the upstream failed (5xx).
// A timeout is not retried: it has already spent the time there was.
func retryable(err error) bool {
	var se *StatusError
	switch {
	case errors.Is(err, ErrTimeout):
		return false
	case errors.As(err, &se):
		return se.StatusCode >= 500
	default:
		return errors.Is(err, ErrTransport)
	}
}

// backoff is retryBase doubled per attempt, jittered by ±50% so a team's
// browsers do not retry in step.
func backoff(attempt int) time.Duration {
	d := retryBase << attempt
	return d/2 + time.Duration(rand.Int64N(int64(d)))
}

// once is one round trip, bounded by the client's per-call timeout.
func (c *Client) once(ctx context.Context, cl call) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	u := *c.base
	u.Path = c.base.Path + cl.path
	u.RawQuery = cl.query.Encode()
	var body io.Reader
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("lightcc: %s: encode body: %w", cl.op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return fmt.Errorf("lightcc: %s: %w", cl.op, err)
	}
	req.Header.Set("X-Api-Key", c.key)
	req.Header.Set("Accept", "application/json")
	if cl.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.http.Do(req)
	if err != nil {
		return c.classify(ctx, cl.op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return c.classify(ctx, cl.op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Op: cl.op, StatusCode: resp.StatusCode}
	}
	return decodeEnvelope(cl, raw)
}

// decodeEnvelope reads an answer's envelope into the call's outputs. It is
// separate from the round trip so the fuzzer can reach it directly.
func decodeEnvelope(cl call, raw []byte) error {
	if len(raw) > maxBody {
		return &opError{op: cl.op, class: ErrDecode, err: errors.New("body larger than 8 MiB")}
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return &opError{op: cl.op, class: ErrDecode, err: err}
	}
	if env.Code == nil {
		return &opError{op: cl.op, class: ErrDecode, err: errors.New("no envelope code")}
	}
	msg := ""
	if env.Msg != nil {
		msg = *env.Msg
	}
	if *env.Code != 200 {
		return &APIError{Op: cl.op, Code: *env.Code, Msg: msg}
	}
	if cl.msgOut != nil {
		*cl.msgOut = msg
	}
	if cl.out == nil {
		return nil
	}
	if len(env.Data) == 0 || string(env.Data) == "null" {
		if cl.nullOK {
			return nil
		}
		return &opError{op: cl.op, class: ErrDecode, err: errors.New("no data")}
	}
	if err := json.Unmarshal(env.Data, cl.out); err != nil {
		return &opError{op: cl.op, class: ErrDecode, err: err}
	}
	return nil
}

// classify turns a failed round trip into ErrTimeout or ErrTransport, or the
// caller's own cancellation when the caller went away.
func (c *Client) classify(ctx context.Context, op string, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return &opError{op: op, class: ErrTimeout}
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("lightcc: %s: %w", op, context.Canceled)
	default:
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return &opError{op: op, class: ErrTimeout}
		}
		return &opError{op: op, class: ErrTransport, err: err}
	}
}
