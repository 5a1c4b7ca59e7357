package static

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A colourPair is text drawn on a background somewhere in app.css. The
// colours are written as the stylesheet writes them ("var(--muted)",
// "#fff"), and the test checks that the named rules really declare them, so
// the list cannot quietly drift from the stylesheet.
type colourPair struct {
	fg, bg  string
	colorIn string // the selector whose rule sets color: fg
	bgIn    string // the selector whose rule sets background: bg
	usedFor string
}

// pairs are the text/background combinations the pages show. Disabled
// controls (.btn[disabled], .choice-off, both dimmed with opacity) are left
// out: WCAG exempts inactive components.
var pairs = []colourPair{
	{"var(--text)", "var(--bg)", ":root", ":root", "page text"},
	{"var(--text)", "var(--surface)", ".btn", ".btn", "buttons, panels, cards"},
	{"var(--text)", "var(--surface)", ".card-title a", ".app-card", "card titles"},
	{"var(--muted)", "var(--bg)", ".sub", ":root", "secondary text on the page"},
	{"var(--muted)", "var(--surface)", "table.list th", "table.list", "table headings"},
	{"var(--muted)", "var(--surface)", ".status-hint", ".app-card", "card hints"},
	{"var(--muted)", "var(--surface)", ".nav a", ".topbar", "navigation"},
	{"var(--muted)", "var(--surface)", ".btn-quiet", ".btn", "quiet buttons"},
	{"var(--text)", "var(--off-bg)", `.nav a[aria-current="page"]`, `.nav a[aria-current="page"]`, "current navigation tab"},
	{"var(--text)", "#eef3ff", ":root", ".choice:has(input:checked)", "chosen GPU"},
	{"var(--muted)", "#eef3ff", ".sub", ".choice:has(input:checked)", "chosen GPU's note"},
	{"var(--primary-text)", "var(--primary)", ".btn-primary", ".btn-primary", "primary buttons"},
	{"var(--ok)", "var(--ok-bg)", ".status-running", ".status-running", "status badge: running"},
	{"var(--ok)", "var(--ok-bg)", ".card-msg", ".card-msg", "card message"},
	{"var(--ok)", "var(--ok-bg)", ".badge-ok", ".badge-ok", "discount badge"},
	{"var(--busy)", "var(--busy-bg)", ".status-creating", ".status-creating", "status badge: transitional"},
	{"var(--busy)", "var(--busy-bg)", ".badge-windows", ".badge-windows", "Windows badge"},
	{"var(--off)", "var(--off-bg)", ".status-stopped", ".status-stopped", "status badge: stopped"},
	{"var(--off)", "var(--off-bg)", ".badge-linux", ".badge-linux", "Linux badge"},
	{"var(--bad)", "var(--bad-bg)", ".status-abnormal", ".status-abnormal", "status badge: abnormal"},
	{"var(--bad)", "var(--bad-bg)", ".notice", ".notice", "error notice"},
	{"var(--bad)", "var(--bad-bg)", ".card-msg-bad", ".card-msg-bad", "failed action on a card"},
	{"var(--bad)", "var(--bad-bg)", ".badge-off", ".badge-off", "sold-out badge"},
	{"var(--warn)", "var(--warn-bg)", ".demo-banner", ".demo-banner", "demo banner"},
	{"var(--warn)", "var(--warn-bg)", ".scheduled", ".scheduled", "scheduled stop"},
	{"var(--warn)", "var(--warn-bg)", ".notice-warn", ".notice-warn", "stale-data notice"},
	{"var(--warn)", "var(--surface)", ".balance-error", ".topbar", "balance unavailable"},
	{"#fff", "var(--warn)", ".badge-demo", ".badge-demo", "demo badge"},
	{"#fff", "var(--danger)", ".btn-danger-solid", ".btn-danger-solid", "destroy button"},
	{"var(--danger)", "var(--surface)", ".btn-danger", ".btn-danger", "danger button"},
	{"var(--primary)", "var(--surface)", "a", ".panel", "links in panels"},
	{"var(--primary)", "var(--bg)", "a", ":root", "links on the page"},
	{"#fff", "var(--text)", ".toast", ".toast", "toast"},
	{"#fff", "var(--bad)", ".toast", ".toast-error", "error toast"},
	{"#fff", "var(--text)", `.tabs a[aria-current="page"]`, `.tabs a[aria-current="page"]`, "current filter tab"},
	{"var(--muted)", "var(--surface)", ".runway", ".topbar", "runway in the header"},
	{"var(--bad)", "var(--surface)", ".runway-low", ".topbar", "runway under two hours"},
}

// TestContrastAA checks every pair against WCAG 2.x success criterion
// 1.4.3 (contrast minimum): 4.5:1 for normal-size text.
func TestContrastAA(t *testing.T) {
	css, err := files.ReadFile("css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	sheet := parseCSS(string(css))
	if len(sheet.vars) < 10 {
		t.Fatalf("found only %d colour variables in :root: %v", len(sheet.vars), sheet.vars)
	}
	t.Logf("%-8s %-20s %-20s %-30s %s", "ratio", "text", "background", "from", "used for")
	for _, p := range pairs {
		if got := sheet.decl(p.colorIn, "color"); got != p.fg {
			t.Errorf("%s: app.css sets color %q, the test expects %q: update the pair list", p.colorIn, got, p.fg)
		}
		if got := sheet.decl(p.bgIn, "background"); got != p.bg {
			t.Errorf("%s: app.css sets background %q, the test expects %q: update the pair list", p.bgIn, got, p.bg)
		}
		fg, err := sheet.resolve(p.fg)
		if err != nil {
			t.Error(err)
			continue
		}
		bg, err := sheet.resolve(p.bg)
		if err != nil {
			t.Error(err)
			continue
		}
		r := contrast(fg, bg)
		t.Logf("%-8.2f %-20s %-20s %-30s %s", r, p.fg+" "+fg.String(), p.bg+" "+bg.String(), p.colorIn+" / "+p.bgIn, p.usedFor)
		if r < 4.5 {
			t.Errorf("%s (%s on %s, %s): contrast %.2f:1, WCAG AA needs 4.5:1", p.usedFor, p.fg, p.bg, p.colorIn, r)
		}
	}
}

// TestFocusIndicator checks the keyboard focus ring against WCAG 2.x
// success criterion 1.4.11 (non-text contrast): 3:1 against what it is
// drawn on.
func TestFocusIndicator(t *testing.T) {
	css, err := files.ReadFile("css/app.css")
	if err != nil {
		t.Fatal(err)
	}
	sheet := parseCSS(string(css))
	if !strings.Contains(sheet.decl(":focus-visible", "outline"), "var(--focus)") {
		t.Fatalf(":focus-visible outline = %q, want var(--focus)", sheet.decl(":focus-visible", "outline"))
	}
	focus, err := sheet.resolve("var(--focus)")
	if err != nil {
		t.Fatal(err)
	}
	for _, bg := range []string{"var(--surface)", "var(--bg)", "#eef3ff", "var(--warn-bg)"} {
		c, err := sheet.resolve(bg)
		if err != nil {
			t.Fatal(err)
		}
		if r := contrast(focus, c); r < 3 {
			t.Errorf("focus ring on %s: %.2f:1, WCAG needs 3:1", bg, r)
		}
	}
}

func TestContrastFormula(t *testing.T) {
	tests := []struct {
		fg, bg string
		want   float64
	}{
		{"#000", "#fff", 21},
		{"#fff", "#ffffff", 1},
		{"#777777", "#fff", 4.48}, // the well-known just-failing grey
		{"#767676", "#fff", 4.54}, // and the darkest passing one
		{"#1d4ed8", "#ffffff", 6.70},
	}
	for _, tt := range tests {
		fg, err := parseHex(tt.fg)
		if err != nil {
			t.Fatal(err)
		}
		bg, err := parseHex(tt.bg)
		if err != nil {
			t.Fatal(err)
		}
		if got := contrast(fg, bg); math.Abs(got-tt.want) > 0.005 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", tt.fg, tt.bg, got, tt.want)
		}
	}
	for _, bad := range []string{"#ff", "#12345", "#gggggg", "red", "#11223344"} {
		if _, err := parseHex(bad); err == nil {
			t.Errorf("parseHex(%q) accepted it", bad)
		}
	}
}

func TestParseCSS(t *testing.T) {
	s := parseCSS(`/* :root { --x: #000; } */
:root {
  --bg: #fff; --text: #123; --alias: var(--text);
  color: var(--text);
}
.a, .b { color: var(--text); }
@media (max-width: 640px) { .b { background-color: #eee; } }
`)
	if len(s.vars) != 3 || s.vars["--bg"] != "#fff" || s.vars["--text"] != "#123" {
		t.Errorf("vars = %v", s.vars)
	}
	if got := s.decl(".b", "color"); got != "var(--text)" {
		t.Errorf(".b color = %q", got)
	}
	if got := s.decl(".b", "background"); got != "#eee" {
		t.Errorf(".b background = %q", got)
	}
	c, err := s.resolve("var(--alias)")
	if err != nil || c != (rgb{0x11, 0x22, 0x33}) {
		t.Errorf("resolve(var(--alias)) = %v, %v", c, err)
	}
	if _, err := s.resolve("var(--missing)"); err == nil {
		t.Error("an undefined variable resolved")
	}
}

type rgb struct{ r, g, b uint8 }

func (c rgb) String() string { return fmt.Sprintf("#%02x%02x%02x", c.r, c.g, c.b) }

// parseHex reads #rgb or #rrggbb; anything else (names, alpha) is refused,
// since the contrast of a translucent colour depends on what is behind it.
func parseHex(s string) (rgb, error) {
	h := strings.TrimPrefix(strings.TrimSpace(s), "#")
	if !strings.HasPrefix(strings.TrimSpace(s), "#") || (len(h) != 3 && len(h) != 6) {
		return rgb{}, fmt.Errorf("colour %q: want #rgb or #rrggbb", s)
	}
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return rgb{}, fmt.Errorf("colour %q: %w", s, err)
	}
	return rgb{uint8(v >> 16), uint8(v >> 8), uint8(v)}, nil
}

// luminance is the relative luminance of WCAG 2.x.
func luminance(c rgb) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.r) + 0.7152*lin(c.g) + 0.0722*lin(c.b)
}

// contrast is the WCAG contrast ratio, from 1 to 21.
func contrast(a, b rgb) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

type stylesheet struct {
	vars  map[string]string            // the custom properties of :root
	rules map[string]map[string]string // selector → property → value, later rules winning
}

var (
	cssComment = regexp.MustCompile(`(?s)/\*.*?\*/`)
	cssRule    = regexp.MustCompile(`([^{}]+)\{([^{}]*)\}`)
	spaces     = regexp.MustCompile(`\s+`)
)

// parseCSS reads the flat rules of a stylesheet (the innermost blocks, so
// rules inside @media count too) and the custom properties of :root.
func parseCSS(css string) stylesheet {
	s := stylesheet{vars: map[string]string{}, rules: map[string]map[string]string{}}
	for _, m := range cssRule.FindAllStringSubmatch(cssComment.ReplaceAllString(css, ""), -1) {
		for _, d := range strings.Split(m[2], ";") {
			prop, val, ok := strings.Cut(d, ":")
			if !ok {
				continue
			}
			prop, val = strings.TrimSpace(prop), strings.TrimSpace(val)
			if prop == "background-color" {
				prop = "background"
			}
			for _, sel := range strings.Split(m[1], ",") {
				sel = spaces.ReplaceAllString(strings.TrimSpace(sel), " ")
				if sel == ":root" && strings.HasPrefix(prop, "--") {
					s.vars[prop] = val
				}
				if s.rules[sel] == nil {
					s.rules[sel] = map[string]string{}
				}
				s.rules[sel][prop] = val
			}
		}
	}
	return s
}

func (s stylesheet) decl(selector, prop string) string { return s.rules[selector][prop] }

// resolve turns "#hex" or "var(--name)" (through :root) into a colour.
func (s stylesheet) resolve(v string) (rgb, error) {
	for range 10 {
		name, ok := strings.CutPrefix(v, "var(")
		if !ok {
			return parseHex(v)
		}
		name = strings.TrimSuffix(strings.TrimSpace(name), ")")
		if v, ok = s.vars[name]; !ok {
			return rgb{}, fmt.Errorf("%s is not defined in :root", name)
		}
	}
	return rgb{}, fmt.Errorf("%s: variables refer to each other in a loop", v)
}
