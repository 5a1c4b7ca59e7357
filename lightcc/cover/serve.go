package cover

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"
)

const (
	coverCacheControl       = "public, max-age=604800"
	placeholderCacheControl = "public, max-age=300"
	// The CSP matters for the SVG placeholder only, but costs nothing on a
	// raster picture: nothing served here may run script or load anything.
	contentSecurityPolicy = "default-src 'none'; sandbox"
)

// placeholderSVG stands in for a cover that cannot be fetched: a soft grey
// gradient with a picture icon. It has no text (nothing to translate) and
// no script.
const placeholderSVG = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360" viewBox="0 0 640 360">` +
	`<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">` +
	`<stop offset="0" stop-color="#f3f4f6"/><stop offset="1" stop-color="#d1d5db"/>` +
	`</linearGradient></defs>` +
	`<rect width="640" height="360" fill="url(#bg)"/>` +
	`<rect x="260" y="130" width="120" height="100" rx="12" fill="none" stroke="#9ca3af" stroke-width="8"/>` +
	`<circle cx="298" cy="162" r="11" fill="#9ca3af"/>` +
	`<path d="M272 218 L306 180 L326 200 L344 184 L368 218 Z" fill="#9ca3af" stroke="#9ca3af" stroke-width="4" stroke-linejoin="round"/>` +
	`</svg>`

var placeholderETag = func() string {
	sum := sha256.Sum256([]byte(placeholderSVG))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}()

// Serve writes the whole HTTP answer for the cover of imageID: the cached or
// freshly fetched picture, or, when there is none, a placeholder picture with
// status 200 so the gallery still shows something. Why it failed goes to the
// log, never to the browser. It answers GET and HEAD and honours
// If-None-Match.
func (s *Service) Serve(w http.ResponseWriter, r *http.Request, imageID int64, src Source) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	c, err := s.Get(r.Context(), imageID, src)
	if err != nil {
		// Unavailability was logged where it was recorded, and a client
		// that went away is not a fault.
		if !errors.Is(err, ErrUnavailable) && r.Context().Err() == nil {
			s.log.ErrorContext(r.Context(), "cover: get", "image_id", imageID, "err", err)
		}
		write(w, r, "image/svg+xml", placeholderETag, placeholderCacheControl, []byte(placeholderSVG))
		return
	}
	write(w, r, c.ContentType, `"`+c.Hash+`"`, coverCacheControl, c.Body)
}

// write lets http.ServeContent handle If-None-Match (lists, "*", weak
// comparison), HEAD and ranges; the zero modtime leaves dates out of it.
func write(w http.ResponseWriter, r *http.Request, ctype, etag, cacheControl string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
