package cover

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// rasterTypes are the sniffed types accepted as covers. SVG is left out on
// purpose: served from our own origin it could carry script.
var rasterTypes = map[string]bool{
	"image/png":                true,
	"image/jpeg":               true,
	"image/gif":                true,
	"image/webp":               true,
	"image/bmp":                true,
	"image/x-icon":             true,
	"image/vnd.microsoft.icon": true,
}

// newClient copies base (or a default client) and puts the allowlist in
// front of its redirect policy, so a caller's client cannot bypass it.
func (s *Service) newClient(base *http.Client) *http.Client {
	c := &http.Client{Timeout: defaultTimeout}
	if base != nil {
		cp := *base
		c = &cp
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if err := s.check(req.URL); err != nil {
			return fmt.Errorf("redirect refused: %w", err)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return c
}

// fetch downloads target and checks it is a raster image within the size
// limit. Its errors are reasons for the log and the failure row, never for
// the browser.
func (s *Service) fetch(ctx context.Context, imageID int64, target string) (Cover, error) {
	if s.client.Timeout <= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return Cover{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "image/png, image/jpeg, image/webp, image/gif, image/bmp, image/x-icon")
	req.Header.Set("User-Agent", "lightcc-dashboard-cover/1")
	resp, err := s.client.Do(req)
	if err != nil {
		// url.Error repeats the whole URL, which for a presigned link
		// carries a signature; the host is logged separately.
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			err = uerr.Err
		}
		return Cover{}, fmt.Errorf("request failed: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return Cover{}, fmt.Errorf("upstream answered %d", resp.StatusCode)
	}
	if resp.ContentLength > s.maxBytes {
		return Cover{}, fmt.Errorf("declared length %d exceeds %d bytes", resp.ContentLength, s.maxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.maxBytes+1))
	if err != nil {
		return Cover{}, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > s.maxBytes {
		return Cover{}, fmt.Errorf("body exceeds %d bytes", s.maxBytes)
	}
	ctype, _, err := mime.ParseMediaType(http.DetectContentType(body))
	if err != nil || !rasterTypes[ctype] {
		return Cover{}, fmt.Errorf("content sniffed as %q, not a raster image", ctype)
	}
	sum := sha256.Sum256(body)
	return Cover{
		ImageID:     imageID,
		SourceURL:   target,
		Body:        body,
		ContentType: ctype,
		Hash:        hex.EncodeToString(sum[:]),
		FetchedAt:   s.now(),
	}, nil
}
