package lightcc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Upstream is everything the console asks of LightCC: a *Client, a
// *Switch, or a *Cached in front of either.
type Upstream interface {
	ListApplications(ctx context.Context, state RunningState) ([]Application, error)
	ApplicationDetails(ctx context.Context, aID string) (*ApplicationDetails, error)
	CreateApplication(ctx context.Context, req CreateRequest) (string, error)
	RestartApplication(ctx context.Context, aID string) error
	StopApplication(ctx context.Context, aID string) error
	TimedStopApplication(ctx context.Context, aID string, at time.Time) error
	DestroyApplication(ctx context.Context, aID string) error
	ApplicationLink(ctx context.Context, t LinkType, aID string) (Link, error)
	ListImages(ctx context.Context, title string) ([]Image, error)
	ImageInfo(ctx context.Context, imageID int64) (*ImageDetails, error)
	AvailableGPUConfig(ctx context.Context, imageID int64) ([]GPUConfig, error)
	GPUPrice(ctx context.Context, q PriceQuery) (PriceQuote, error)
	Balance(ctx context.Context) (Balance, error)
}

// TTLs are how long each kind of answer is reused.
type TTLs struct {
	Apps    time.Duration // the application list
	Balance time.Duration
	GPU     time.Duration // GPU configurations and price quotes
}

// DefaultTTLs are what a zero field of TTLs means.
var DefaultTTLs = TTLs{Apps: 2 * time.Second, Balance: 10 * time.Second, GPU: 30 * time.Second}

// StaleError is returned with the last good application list when LightCC
// cannot give a fresh one: the caller may show the old list, marked stale.
type StaleError struct {
	At  time.Time // when the list was fetched
	Err error     // why it could not be fetched now
}

func (e *StaleError) Error() string {
	return fmt.Sprintf("stale answer from %s: %v", e.At.Format(time.RFC3339), e.Err)
}

func (e *StaleError) Unwrap() error { return e.Err }

// Cached puts short per-endpoint caches and coalescing in front of an
// Upstream, for a team whose pages all poll the same account: identical
// reads in flight share one upstream call, and answers are reused for a
// few seconds. Writes go straight through (never coalesced, never retried)
// and invalidate what they change, so a person always sees the result of
// what they just did. It is safe for concurrent use.
type Cached struct {
	up   Upstream
	ttl  TTLs
	now  func() time.Time
	sf   singleflight.Group
	mu   sync.Mutex
	gen  uint64 // bumped by every write; answers from before it are not kept
	hit  map[string]cacheEntry
	last map[RunningState]cacheEntry // last good lists, for stale answers
	// Observe, when set, is told of every read: its endpoint and whether
	// it was served from the cache, shared with a call in flight, or sent.
	Observe func(endpoint, how string)
}

type cacheEntry struct {
	val any
	at  time.Time
}

// NewCached wraps up; zero TTLs take the defaults, now nil is time.Now.
func NewCached(up Upstream, ttl TTLs, now func() time.Time) *Cached {
	ttl.Apps = cmp.Or(ttl.Apps, DefaultTTLs.Apps)
	ttl.Balance = cmp.Or(ttl.Balance, DefaultTTLs.Balance)
	ttl.GPU = cmp.Or(ttl.GPU, DefaultTTLs.GPU)
	if now == nil {
		now = time.Now
	}
	return &Cached{up: up, ttl: ttl, now: now, hit: map[string]cacheEntry{}, last: map[RunningState]cacheEntry{}}
}

func (c *Cached) observe(endpoint, how string) {
	if c.Observe != nil {
		c.Observe(endpoint, how)
	}
}

// read serves key from the cache while younger than ttl, else fetches it
// once for every caller asking at the same time. The shared fetch does not
// end when the first caller goes away; each caller still stops waiting
// when its own context ends.
func read[T any](ctx context.Context, c *Cached, endpoint, key string, ttl time.Duration, fetch func(context.Context) (T, error)) (T, error) {
	var zero T
	c.mu.Lock()
	if e, ok := c.hit[key]; ok && c.now().Sub(e.at) < ttl {
		c.mu.Unlock()
		c.observe(endpoint, "cached")
		return e.val.(T), nil
	}
	gen := c.gen
	c.mu.Unlock()
	ch := c.sf.DoChan(key+"#"+strconv.FormatUint(gen, 10), func() (any, error) {
		c.observe(endpoint, "sent")
		v, err := fetch(context.WithoutCancel(ctx))
		if err == nil {
			c.mu.Lock()
			if c.gen == gen { // no write since the read began
				c.hit[key] = cacheEntry{val: v, at: c.now()}
			}
			c.mu.Unlock()
		}
		return v, err
	})
	select {
	case <-ctx.Done():
		return zero, ctx.Err()
	case r := <-ch:
		if r.Shared {
			c.observe(endpoint, "coalesced")
		}
		if r.Err != nil {
			return zero, r.Err
		}
		return r.Val.(T), nil
	}
}

// Invalidate forgets everything kept (the API key changed: answers made
// with the old one must not outlive it).
func (c *Cached) Invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.hit)
	clear(c.last)
}

// invalidate forgets what a write may have changed: the lists and the balance.
func (c *Cached) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k := range c.hit {
		if len(k) >= 5 && (k[:5] == "apps:" || k == "balance") {
			delete(c.hit, k)
		}
	}
}

// ListApplications is cached Apps long; when LightCC fails and a list was
// fetched before, that list comes back with a *StaleError.
func (c *Cached) ListApplications(ctx context.Context, state RunningState) ([]Application, error) {
	apps, err := read(ctx, c, "openApplication", "apps:"+string(state), c.ttl.Apps, func(ctx context.Context) ([]Application, error) {
		return c.up.ListApplications(ctx, state)
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.last[state] = cacheEntry{val: apps, at: c.now()}
		return apps, nil
	}
	var ae *APIError
	if prev, ok := c.last[state]; ok && !errors.As(err, &ae) && !errors.Is(err, context.Canceled) {
		return prev.val.([]Application), &StaleError{At: prev.at, Err: err}
	}
	return nil, err
}

// Balance is cached Balance long.
func (c *Cached) Balance(ctx context.Context) (Balance, error) {
	return read(ctx, c, "openSelectBalance", "balance", c.ttl.Balance, c.up.Balance)
}

// AvailableGPUConfig is cached GPU long.
func (c *Cached) AvailableGPUConfig(ctx context.Context, imageID int64) ([]GPUConfig, error) {
	return read(ctx, c, "openAvailableGpuConfig", "gpu:"+strconv.FormatInt(imageID, 10), c.ttl.GPU, func(ctx context.Context) ([]GPUConfig, error) {
		return c.up.AvailableGPUConfig(ctx, imageID)
	})
}

// GPUPrice is cached GPU long, per exact question.
func (c *Cached) GPUPrice(ctx context.Context, q PriceQuery) (PriceQuote, error) {
	key := fmt.Sprintf("price:%q/%d/%s/%q", q.GPUModel, q.GPUCount, q.BillingMode, q.Cycle)
	return read(ctx, c, "getGpuPrice", key, c.ttl.GPU, func(ctx context.Context) (PriceQuote, error) {
		return c.up.GPUPrice(ctx, q)
	})
}

// ApplicationDetails is coalesced but not kept: it is asked for rarely.
func (c *Cached) ApplicationDetails(ctx context.Context, aID string) (*ApplicationDetails, error) {
	return read(ctx, c, "openApplicationDetails", "details:"+aID, 0, func(ctx context.Context) (*ApplicationDetails, error) {
		return c.up.ApplicationDetails(ctx, aID)
	})
}

// ListImages passes through: the console caches the catalogue in SQLite.
func (c *Cached) ListImages(ctx context.Context, title string) ([]Image, error) {
	return c.up.ListImages(ctx, title)
}

// ImageInfo passes through: the console caches the catalogue in SQLite.
func (c *Cached) ImageInfo(ctx context.Context, imageID int64) (*ImageDetails, error) {
	return c.up.ImageInfo(ctx, imageID)
}

// ApplicationLink passes through: each click asks afresh.
func (c *Cached) ApplicationLink(ctx context.Context, t LinkType, aID string) (Link, error) {
	return c.up.ApplicationLink(ctx, t, aID)
}

// CreateApplication passes through and invalidates.
func (c *Cached) CreateApplication(ctx context.Context, req CreateRequest) (string, error) {
	defer c.invalidate()
	return c.up.CreateApplication(ctx, req)
}

// RestartApplication passes through and invalidates.
func (c *Cached) RestartApplication(ctx context.Context, aID string) error {
	defer c.invalidate()
	return c.up.RestartApplication(ctx, aID)
}

// StopApplication passes through and invalidates.
func (c *Cached) StopApplication(ctx context.Context, aID string) error {
	defer c.invalidate()
	return c.up.StopApplication(ctx, aID)
}

// TimedStopApplication passes through and invalidates.
func (c *Cached) TimedStopApplication(ctx context.Context, aID string, at time.Time) error {
	defer c.invalidate()
	return c.up.TimedStopApplication(ctx, aID, at)
}

// DestroyApplication passes through and invalidates.
func (c *Cached) DestroyApplication(ctx context.Context, aID string) error {
	defer c.invalidate()
	return c.up.DestroyApplication(ctx, aID)
}
