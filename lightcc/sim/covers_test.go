package sim_test

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"testing"
)

func TestCovers(t *testing.T) {
	e := emptyEnv(t)
	seen := map[string]string{}
	for _, it := range e.okCall(http.MethodGet, pImages, nil).body["data"].([]any) {
		im := it.(map[string]any)
		// Every cover is served, including the one whose coverImgUrl is null.
		url := e.srv.URL + "/img/" + im["coverImg"].(string)
		if u, isString := im["coverImgUrl"].(string); isString && u != url {
			t.Fatalf("coverImgUrl %q, want %q", u, url)
		}
		resp, err := http.Get(url) // no API key, like a public object store
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: HTTP %d %q", url, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: not a PNG: %v", url, err)
		}
		if b := img.Bounds(); b.Dx() != 640 || b.Dy() != 360 {
			t.Fatalf("%s: %v, want 640x360", url, b)
		}
		if other, dup := seen[string(data)]; dup {
			t.Fatalf("%s looks exactly like %s", url, other)
		}
		seen[string(data)] = url

		// Cached: the second fetch is byte-identical.
		resp, err = http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(again, data) {
			t.Fatalf("%s changed between fetches", url)
		}
	}
	for _, path := range []string{"/img/nope.png", "/img/", "/img/../openSelectBalance"} {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("%s: HTTP %d, want 404", path, resp.StatusCode)
		}
	}
	if e.sim.TotalCalls() != 1 {
		t.Fatalf("covers counted as API calls: %d", e.sim.TotalCalls())
	}
}
