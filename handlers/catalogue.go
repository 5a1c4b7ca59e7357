package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
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
	entry, cacheErr := h.Catalogue.CatalogueEntry(ctx, key)
	var cached T
	haveCached := cacheErr == nil && json.Unmarshal(entry.Body, &cached) == nil
	if haveCached && now.Sub(entry.FetchedAt) < catalogueTTL {
		return cached, freshness{fetchedAt: entry.FetchedAt}, nil
	}
	v, err := fetch(ctx)
	if err == nil {
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
