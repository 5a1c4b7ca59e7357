// Package static holds every asset a browser needs (vendored htmx, the
// stylesheet, icons), embedded in the binary so the console works on an
// intranet with no internet. Asset URLs carry a content hash, so they can
// be cached for a year and still change when the file does.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
)

//go:embed vendor css img js
var files embed.FS

// Prefix is where the assets are served.
const Prefix = "/static/"

// hashes maps an asset's path ("css/app.css") to a short content hash.
var hashes = sync.OnceValue(func() map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	return m
})

// URL returns the cache-busting URL of an asset, e.g. URL("css/app.css").
// An unknown name still gets a URL (that will 404), so a typo shows in tests.
func URL(name string) string {
	return Prefix + name + "?v=" + hashes()[name]
}

// Handler serves the assets under Prefix. A request carrying the current
// hash is cached for a year; any other for a minute.
func Handler() http.Handler {
	fsrv := http.FileServerFS(files)
	return http.StripPrefix(strings.TrimSuffix(Prefix, "/"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		h, ok := hashes()[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Query().Get("v") == h {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=60")
		}
		w.Header().Set("ETag", `"`+h+`"`)
		fsrv.ServeHTTP(w, r)
	}))
}
