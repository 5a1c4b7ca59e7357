package i18n

import (
	"context"
	"testing"
	"time"
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
