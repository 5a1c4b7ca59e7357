// Package cover fetches cover pictures from the LightCC image host once, with
// a host allowlist and limits, and serves them from the cache. Intranet
// browsers may not reach the image host, so the server keeps the bytes and
// answers for it.
package cover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"
)

const (
	defaultHost      = "minio.lightcc.cloud"
	defaultImageBase = "https://minio.lightcc.cloud/img/"
	defaultMaxBytes  = 5 << 20
	defaultTimeout   = 10 * time.Second
	defaultRetryMin  = time.Minute
	defaultRetryMax  = time.Hour
	maxRedirects     = 3
	maxReasonLen     = 300
)

// ErrNotCached is what a Store returns when it holds no row for an image.
var ErrNotCached = errors.New("cover: not cached")

// ErrUnavailable means the cover could not be fetched; a retry is scheduled.
var ErrUnavailable = errors.New("cover: unavailable")

// Source is where an image's cover lives, as the catalogue gives it.
type Source struct {
	// URL is the catalogue's coverImgUrl; it may be nil or empty.
	URL *string
	// File is the catalogue's coverImg, a file name under the image base,
	// used when URL is nil or blank.
	File string
}

// Cover is a fetched cover picture. Body is shared between concurrent
// callers and must not be modified.
type Cover struct {
	ImageID     int64
	SourceURL   string
	Body        []byte
	ContentType string
	// Hash is the hex SHA-256 of Body; it is also the ETag.
	Hash      string
	FetchedAt time.Time
}

// Failure records that an image's cover could not be fetched from SourceURL,
// and when to try again.
type Failure struct {
	ImageID   int64
	SourceURL string
	Reason    string
	Attempts  int
	RetryAt   time.Time
}

// Store keeps fetched covers and failed attempts. Lookups of a missing row
// return an error satisfying errors.Is(err, ErrNotCached).
type Store interface {
	Cover(ctx context.Context, imageID int64) (Cover, error)
	// PutCover inserts or replaces the cover and clears any failure for
	// the same image.
	PutCover(ctx context.Context, c Cover) error
	CoverFailure(ctx context.Context, imageID int64) (Failure, error)
	// PutCoverFailure inserts or replaces the failure for the image.
	PutCoverFailure(ctx context.Context, f Failure) error
}

// Options configure a Service. Zero values mean the defaults.
type Options struct {
	// AllowedHosts are the exact host names (or host:port) that may be
	// fetched, compared case-insensitively; default {"minio.lightcc.cloud"}.
	AllowedHosts []string
	// ImageBase is where coverImg file names live; default
	// "https://minio.lightcc.cloud/img/". A missing final slash is added.
	ImageBase string
	// MaxBytes caps a cover's size; default 5 MiB.
	MaxBytes int64
	// HTTPClient fetches covers; default one with a 10 s timeout. The
	// Service uses a copy whose CheckRedirect refuses more than 3 redirects
	// and redirects to hosts not allowed, before calling the original one.
	HTTPClient *http.Client
	// RetryMin is the wait after the first failure, doubling per further
	// attempt up to RetryMax; defaults 1 min and 1 h.
	RetryMin time.Duration
	RetryMax time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives fetch failures; default slog.Default().
	Logger *slog.Logger
}

// Service resolves, fetches, caches and serves covers. It is safe for
// concurrent use.
type Service struct {
	store     Store
	allowed   []string
	imageBase string
	maxBytes  int64
	client    *http.Client
	retryMin  time.Duration
	retryMax  time.Duration
	now       func() time.Time
	log       *slog.Logger
	flights   singleflight.Group
}

// New returns a Service over store.
func New(store Store, opts Options) *Service {
	s := &Service{
		store:     store,
		allowed:   opts.AllowedHosts,
		imageBase: opts.ImageBase,
		maxBytes:  opts.MaxBytes,
		retryMin:  opts.RetryMin,
		retryMax:  opts.RetryMax,
		now:       opts.Now,
		log:       opts.Logger,
	}
	if len(s.allowed) == 0 {
		s.allowed = []string{defaultHost}
	}
	if s.imageBase == "" {
		s.imageBase = defaultImageBase
	}
	if !strings.HasSuffix(s.imageBase, "/") {
		s.imageBase += "/"
	}
	if s.maxBytes <= 0 {
		s.maxBytes = defaultMaxBytes
	}
	if s.retryMin <= 0 {
		s.retryMin = defaultRetryMin
	}
	if s.retryMax <= 0 {
		s.retryMax = defaultRetryMax
	}
	s.retryMax = max(s.retryMax, s.retryMin)
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.client = s.newClient(opts.HTTPClient)
	return s
}

// Resolve returns the URL to fetch for src, or an error if src names none,
// names a file that is not a plain file name, or gives a URL that is not
// http(s) on an allowed host.
func (s *Service) Resolve(src Source) (string, error) {
	target, err := s.resolve(src)
	if err != nil {
		return "", err
	}
	return target, nil
}

// resolve also returns a best-effort description of the source when it is
// rejected, so a failure can be recorded against it.
func (s *Service) resolve(src Source) (string, error) {
	raw := ""
	if src.URL != nil {
		raw = strings.TrimSpace(*src.URL)
	}
	if raw == "" {
		file := strings.TrimSpace(src.File)
		switch {
		case file == "":
			return "", errors.New("cover: no cover URL or file")
		case file == ".", strings.Contains(file, ".."), strings.ContainsAny(file, `/\`):
			return s.imageBase + file, fmt.Errorf("cover: file name %q is not a plain file name", file)
		}
		raw = s.imageBase + url.PathEscape(file)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw, fmt.Errorf("cover: unparsable URL: %w", err)
	}
	if err := s.check(u); err != nil {
		return raw, err
	}
	// The fragment never reaches the server; dropping it keeps two
	// spellings of one picture from being fetched twice.
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

// check enforces the scheme and host allowlist, for the first URL and every
// redirect. Credentials in the URL are refused so none are ever sent.
func (s *Service) check(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("cover: scheme %q is not http or https", u.Scheme)
	}
	if u.User != nil {
		return errors.New("cover: URL carries credentials")
	}
	if !s.hostAllowed(u.Host) {
		return fmt.Errorf("cover: host %q is not allowed", u.Host)
	}
	return nil
}

func (s *Service) hostAllowed(host string) bool {
	if host == "" {
		return false
	}
	for _, h := range s.allowed {
		if strings.EqualFold(host, h) {
			return true
		}
	}
	return false
}

// Get returns the cover of imageID, fetching it from src at most once per
// image and source URL at a time. A cached cover from the same source URL is
// returned without network access; a cover that failed recently returns an
// error wrapping ErrUnavailable until its retry time.
func (s *Service) Get(ctx context.Context, imageID int64, src Source) (Cover, error) {
	target, resolveErr := s.resolve(src)
	if resolveErr == nil {
		c, ok, err := s.cached(ctx, imageID, target)
		if err != nil || ok {
			return c, err
		}
	}
	key := strconv.FormatInt(imageID, 10) + " " + target
	// The shared load must not fail, or record a failure, because the
	// request that happened to start it went away.
	loadCtx := context.WithoutCancel(ctx)
	ch := s.flights.DoChan(key, func() (any, error) {
		return s.load(loadCtx, imageID, target, resolveErr)
	})
	select {
	case <-ctx.Done():
		return Cover{}, ctx.Err()
	case res := <-ch:
		c, _ := res.Val.(Cover)
		return c, res.Err
	}
}

// cached reports the stored cover if it came from target.
func (s *Service) cached(ctx context.Context, imageID int64, target string) (Cover, bool, error) {
	c, err := s.store.Cover(ctx, imageID)
	switch {
	case errors.Is(err, ErrNotCached):
		return Cover{}, false, nil
	case err != nil:
		return Cover{}, false, fmt.Errorf("cover: read cover of image %d: %w", imageID, err)
	case c.SourceURL != target:
		return Cover{}, false, nil
	default:
		return c, true, nil
	}
}

// load runs once per flight. It looks at the store again because a flight
// for the same key may have finished between the caller's lookup and this one.
func (s *Service) load(ctx context.Context, imageID int64, target string, resolveErr error) (Cover, error) {
	if resolveErr == nil {
		c, ok, err := s.cached(ctx, imageID, target)
		if err != nil || ok {
			return c, err
		}
	}
	attempts := 0
	f, err := s.store.CoverFailure(ctx, imageID)
	switch {
	case errors.Is(err, ErrNotCached):
	case err != nil:
		return Cover{}, fmt.Errorf("cover: read failure of image %d: %w", imageID, err)
	case f.SourceURL == target:
		if s.now().Before(f.RetryAt) {
			return Cover{}, fmt.Errorf("%w: image %d: next try at %s",
				ErrUnavailable, imageID, f.RetryAt.UTC().Format(time.RFC3339))
		}
		attempts = f.Attempts
	}
	fetchErr := resolveErr
	var c Cover
	if fetchErr == nil {
		c, fetchErr = s.fetch(ctx, imageID, target)
	}
	if fetchErr != nil {
		return Cover{}, s.fail(ctx, imageID, target, attempts+1, fetchErr)
	}
	if err := s.store.PutCover(ctx, c); err != nil {
		// The picture is good; the next request will fetch it again.
		s.log.ErrorContext(ctx, "cover: store cover", "image_id", imageID, "err", err)
	}
	return c, nil
}

// fail records the failure with its backoff, logs it and returns the error
// the caller sees.
func (s *Service) fail(ctx context.Context, imageID int64, target string, attempts int, cause error) error {
	reason := cause.Error()
	if len(reason) > maxReasonLen {
		reason = strings.ToValidUTF8(reason[:maxReasonLen], "") + "…"
	}
	retryAt := s.now().Add(s.backoff(attempts))
	s.log.WarnContext(ctx, "cover: fetch failed",
		"image_id", imageID, "host", hostOf(target), "reason", reason,
		"attempts", attempts, "retry_at", retryAt)
	err := s.store.PutCoverFailure(ctx, Failure{
		ImageID:   imageID,
		SourceURL: target,
		Reason:    reason,
		Attempts:  attempts,
		RetryAt:   retryAt,
	})
	if err != nil {
		s.log.ErrorContext(ctx, "cover: store failure", "image_id", imageID, "err", err)
	}
	return fmt.Errorf("%w: image %d: %s", ErrUnavailable, imageID, reason)
}

// backoff is RetryMin doubled per attempt after the first, capped at RetryMax.
func (s *Service) backoff(attempts int) time.Duration {
	d := s.retryMin
	for i := 1; i < attempts && d < s.retryMax; i++ {
		d *= 2
	}
	return min(d, s.retryMax)
}

func hostOf(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return ""
	}
	return u.Host
}
