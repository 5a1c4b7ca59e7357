package sim

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// coverPrefix is where the simulator plays the public object store that
// serves image covers (https://minio.lightcc.cloud/img/ upstream). No API key
// is needed there, as upstream.
const coverPrefix = "/img/"

// Cover size: 16:9, as the console's cards show them.
const coverW, coverH = 640, 360

// serveCover answers GET /img/{file} with a PNG drawn for that image.
func (s *Simulator) serveCover(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	file := strings.TrimPrefix(r.URL.Path, coverPrefix)
	im, found := findCover(file)
	if !found {
		http.NotFound(w, r)
		return
	}
	data, err := s.cover(im)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, file, time.Time{}, bytes.NewReader(data))
}

// cover returns the PNG of im, drawing it on first use.
func (s *Simulator) cover(im imageSpec) ([]byte, error) {
	s.coversMu.Lock()
	defer s.coversMu.Unlock()
	if data, found := s.covers[im.CoverImg]; found {
		return data, nil
	}
	var buf bytes.Buffer
	// Best speed: covers are gradients, which compress well anyway, and the
	// default level is three times slower for the same size.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, drawCover(im)); err != nil {
		return nil, fmt.Errorf("sim: encode cover %s: %w", im.CoverImg, err)
	}
	s.covers[im.CoverImg] = buf.Bytes()
	return buf.Bytes(), nil
}

// drawCover paints a diagonal gradient between the image's first two colours
// and scatters translucent discs of the third, seeded by the image id so every
// image has its own recognisable cover. Windows images get a four-pane logo.
func drawCover(im imageSpec) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, coverW, coverH))
	from, to, accent := im.Palette[0], im.Palette[1], im.Palette[2]
	for y := range coverH {
		for x := range coverW {
			t := (float64(x)/coverW + float64(y)/coverH) / 2
			setPix(img, x, y, mix(from, to, t))
		}
	}

	rng := rand.New(rand.NewPCG(uint64(im.ID), 0x5eed))
	for range 7 {
		cx := rng.Float64() * coverW
		cy := rng.Float64() * coverH
		radius := 20 + rng.Float64()*90
		alpha := 0.15 + rng.Float64()*0.35
		blendRect(img, int(cx-radius), int(cy-radius), int(cx+radius)+1, int(cy+radius)+1, accent, alpha,
			func(x, y int) bool {
				dx, dy := float64(x)-cx, float64(y)-cy
				return dx*dx+dy*dy <= radius*radius
			})
	}
	// A bright band across the lower third gives a card title contrast.
	blendRect(img, 0, coverH*2/3, coverW, coverH*2/3+6, accent, 0.6, nil)
	if im.SystemType == "1" {
		const pane, gap = 48, 8
		x0, y0 := coverW/2-pane-gap/2, coverH/2-pane-gap/2-30
		for i := range 4 {
			px, py := x0+(i%2)*(pane+gap), y0+(i/2)*(pane+gap)
			blendRect(img, px, py, px+pane, py+pane, color.RGBA{255, 255, 255, 255}, 0.9, nil)
		}
	}
	return img
}

// blendRect blends colour c with the given opacity into the pixels of the
// rectangle [x0,x1)×[y0,y1) for which inside (nil: all) is true.
func blendRect(img *image.RGBA, x0, y0, x1, y1 int, c color.RGBA, alpha float64, inside func(x, y int) bool) {
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, coverW), min(y1, coverH)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			if inside == nil || inside(x, y) {
				setPix(img, x, y, mix(getPix(img, x, y), c, alpha))
			}
		}
	}
}

// getPix and setPix work on the pixel slice directly: the generic At/Set go
// through interfaces and made drawing several times slower.
func getPix(img *image.RGBA, x, y int) color.RGBA {
	i := img.PixOffset(x, y)
	p := img.Pix[i : i+4 : i+4]
	return color.RGBA{p[0], p[1], p[2], p[3]}
}

func setPix(img *image.RGBA, x, y int, c color.RGBA) {
	i := img.PixOffset(x, y)
	p := img.Pix[i : i+4 : i+4]
	p[0], p[1], p[2], p[3] = c.R, c.G, c.B, c.A
}

// mix interpolates linearly from a (t=0) to b (t=1), opaque.
func mix(a, b color.RGBA, t float64) color.RGBA {
	lerp := func(p, q uint8) uint8 {
		return uint8(float64(p) + (float64(q)-float64(p))*t + 0.5)
	}
	return color.RGBA{lerp(a.R, b.R), lerp(a.G, b.G), lerp(a.B, b.B), 255}
}
