package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/views/i18n"
)

// catalogueTTL is how long the image catalogue is served from SQLite
// before it is asked for again.
const catalogueTTL = 10 * time.Minute

// freshness says how old a catalogue answer is and whether it is a stale
// copy served because LightCC failed.
type freshness struct {
	fetchedAt time.Time
	stale     bool
}

// note is the "updated N minutes ago" line shown with a stale copy.
func (f freshness) note(now time.Time, loc *i18n.Localizer) string {
	if !f.stale {
		return ""
	}
	return loc.T("images.stale", map[string]any{"Minutes": int(now.Sub(f.fetchedAt).Minutes())})
}

// cachedFetch serves key from the SQLite catalogue cache while it is
// younger than catalogueTTL, else fetches it again and stores it. When the
// fetch fails for want of an answer (not a refusal), the old copy is
// served, marked stale.
func cachedFetch[T any](ctx context.Context, h *Handlers, key string, fetch func(context.Context) (T, error)) (T, freshness, error) {
	now := h.Now()
	if v, at, ok := h.catalogueMemo.get(key); ok && now.Sub(at) < catalogueTTL {
		return v.(T), freshness{fetchedAt: at}, nil // decoded already: no SQLite read per keystroke or cover
	}
	entry, cacheErr := h.Catalogue.CatalogueEntry(ctx, key)
	var cached T
	haveCached := cacheErr == nil && json.Unmarshal(entry.Body, &cached) == nil
	if haveCached && now.Sub(entry.FetchedAt) < catalogueTTL {
		h.catalogueMemo.put(key, cached, entry.FetchedAt)
		return cached, freshness{fetchedAt: entry.FetchedAt}, nil
	}
	v, err := fetch(ctx)
	if err == nil {
		h.catalogueMemo.put(key, v, now)
		if body, merr := json.Marshal(v); merr == nil {
			if perr := h.Catalogue.PutCatalogueEntry(ctx, key, body, now); perr != nil {
				h.Logger.ErrorContext(ctx, "store catalogue", "key", key, "err", perr)
			}
		}
		return v, freshness{fetchedAt: now}, nil
	}
	var ae *lightcc.APIError
	if haveCached && !errors.As(err, &ae) {
		h.Logger.WarnContext(ctx, "catalogue: serving a stale copy", "key", key, "age", now.Sub(entry.FetchedAt).Round(time.Second), "err", err)
		return cached, freshness{fetchedAt: entry.FetchedAt, stale: true}, nil
	}
	var zero T
	return zero, freshness{}, err
}

// images is the whole image catalogue.
func (h *Handlers) images(ctx context.Context) ([]lightcc.Image, freshness, error) {
	return cachedFetch(ctx, h, "images", func(ctx context.Context) ([]lightcc.Image, error) { return h.Upstream.ListImages(ctx, "") })
}

// imageInfo is one image's details.
func (h *Handlers) imageInfo(ctx context.Context, id int64) (*lightcc.ImageDetails, freshness, error) {
	return cachedFetch(ctx, h, "image:"+strconv.FormatInt(id, 10), func(ctx context.Context) (*lightcc.ImageDetails, error) {
		return h.Upstream.ImageInfo(ctx, id)
	})
}

// imageFromList finds an image in the catalogue list.
func (h *Handlers) imageFromList(ctx context.Context, id int64) (lightcc.Image, bool, error) {
	imgs, _, err := h.images(ctx)
	if err != nil {
		return lightcc.Image{}, false, err
	}
	for _, im := range imgs {
		if im.ID == id {
			return im, true, nil
		}
	}
	return lightcc.Image{}, false, nil
}

// memo keeps decoded catalogue answers in memory for their TTL, in front of
// the SQLite copy (which outlives a restart).
type memo struct {
	mu sync.Mutex
	m  map[string]memoEntry
}

type memoEntry struct {
	val any
	at  time.Time
}

func (m *memo) get(key string) (any, time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key]
	return e.val, e.at, ok
}

func (m *memo) put(key string, v any, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) > 1024 { // one list and one entry per image: starting over is cheap
		m.m = map[string]memoEntry{}
	}
	m.m[key] = memoEntry{val: v, at: at}
}
