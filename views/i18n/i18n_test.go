package i18n

import (
	"context"
	"testing"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

func TestCatalogComplete(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Missing(); len(m) != 0 {
		t.Fatalf("missing keys: %v", m)
	}
	loc := time.FixedZone("CST", 8*3600)
	for _, l := range []Lang{Chinese, English} {
		z := c.For(l, loc)
		for _, id := range c.IDs(l) {
			if s := z.T(id, map[string]any{"Model": "4090", "Count": 1, "Price": "¥1.00", "Msg": "x"}); s == "" || s == id {
				t.Errorf("%s: %q renders %q", l, id, s)
			}
		}
	}
}

func TestNegotiate(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		explicit, accept string
		want             Lang
	}{
		{"", "", Chinese},
		{"en", "", English},
		{"EN-us", "zh-CN", English},
		{"zh", "en-US,en;q=0.9", Chinese},
		{"fr", "en-US,en;q=0.9", English},
		{"", "en-GB,en;q=0.8", English},
		{"", "zh-CN,zh;q=0.9,en;q=0.8", Chinese},
		{"", "fr-FR", Chinese},
		{"", "de, en;q=0.5", English},
		{"", "!!garbage;;", Chinese},
		{"", "*", Chinese},
	}
	for _, tt := range tests {
		if got := c.Negotiate(tt.explicit, tt.accept); got != tt.want {
			t.Errorf("Negotiate(%q, %q) = %s, want %s", tt.explicit, tt.accept, got, tt.want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	c, err := NewCatalog()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"en-US,en;q=0.9", "zh-CN", "*;q=0", "x-klingon;q=1.5", ""} {
		f.Add("", s)
	}
	f.Fuzz(func(t *testing.T, explicit, accept string) {
		if l := c.Negotiate(explicit, accept); l != Chinese && l != English {
			t.Fatalf("Negotiate gave %q", l)
		}
	})
}

func TestFormatting(t *testing.T) {
	c, _ := NewCatalog()
	z := c.For(Chinese, time.FixedZone("CST", 8*3600))
	tests := []struct{ got, want string }{
		{z.Money(123450), "¥1,234.50"},
		{z.Money(6), "¥0.06"},
		{z.Money(-199), "-¥1.99"},
		{z.Money(100000000), "¥1,000,000.00"},
		{z.Number(237972), "237,972"},
		{z.GiB(25165824), "24 GiB"},
		{z.GiB(61902684), "59 GiB"},
		{z.GiB(1572864), "1.5 GiB"},
		{z.Time(time.Date(2025, 3, 12, 7, 15, 42, 0, time.UTC)), "2025-03-12 15:15"},
		{z.Time(time.Time{}), ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	if From(context.Background()).Lang != Chinese {
		t.Error("fallback localizer is not Chinese")
	}
}

func TestWhenAndAgo(t *testing.T) {
	c, _ := NewCatalog()
	zone := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, zone) // a Friday
	zh, en := c.For(Chinese, zone), c.For(English, zone)
	tests := []struct{ got, want string }{
		{zh.When(now.Add(17*time.Hour+40*time.Minute), now), "周六 03:40"},
		{en.When(now.Add(17*time.Hour+40*time.Minute), now), "Sat 03:40"},
		{zh.When(now.Add(10*24*time.Hour), now), "2026-12-14 10:00"},
		{zh.Ago(now.Add(-20*time.Second), now), "刚刚"},
		{zh.Ago(now.Add(-3*time.Minute), now), "3 分钟前"},
		{en.Ago(now.Add(-3*time.Minute), now), "3 min ago"},
		{zh.Ago(now.Add(-5*time.Hour), now), "5 小时前"},
		{zh.Ago(now.Add(-72*time.Hour), now), "3 天前"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestFieldsFastPathMatchesTemplates renders every message with fields both
// ways, the fast substitution and go-i18n's own template execution, and
// requires the same text.
func TestFieldsFastPathMatchesTemplates(t *testing.T) {
	c, err := NewCatalog()
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{"Model": "4090", "Count": 2, "Price": "¥1.98", "Msg": "余额不足", "Name": "SD", "Time": "2026-12-04 10:00",
		"N": 3, "Max": 8, "Would": 9, "Minutes": 5, "Memory": 24, "Cores": 16, "Status": "502", "Hours": 50, "Balance": "¥9.99",
		"Amount": "¥0.01", "When": "周五 03:40", "Query": "Comfy", "Last4": "7f3a", "Zone": "Asia/Shanghai"}
	for _, l := range []Lang{Chinese, English} {
		z := c.For(l, time.UTC)
		if len(z.fields) == 0 {
			t.Fatal("no message took the fast path")
		}
		for id := range z.fields {
			fast := z.T(id, data)
			slow, err := z.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
			if err != nil || fast != slow {
				t.Errorf("%s %s: fast %q, template %q (%v)", l, id, fast, slow, err)
			}
		}
	}
	for msg, ok := range map[string]bool{"a {{.B}} c": true, "{{.A}}{{.B}}": true, "{{if .A}}x{{end}}": false, "{{.A | printf}}": false, "plain": true} {
		if _, got := compileFields(msg); got != ok {
			t.Errorf("compileFields(%q) = %v", msg, got)
		}
	}
}
