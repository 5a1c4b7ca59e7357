// Package i18n is the console's one message catalogue (Chinese by default,
// English on request) and its locale-aware formatting of money, sizes and
// times. Handlers pick a Localizer per request; views read it from the
// context.
package i18n

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.toml
var localeFS embed.FS

// Lang is a supported user-interface language.
type Lang string

// The supported languages; Chinese is the default.
const (
	Chinese Lang = "zh"
	English Lang = "en"
)

// ParseLang accepts the values the language switch and cookie use.
func ParseLang(s string) (Lang, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "zh", "zh-cn", "zh-hans", "cn":
		return Chinese, true
	case "en", "en-us", "en-gb":
		return English, true
	default:
		return "", false
	}
}

// HTMLLang is the value of <html lang>.
func (l Lang) HTMLLang() string {
	if l == English {
		return "en"
	}
	return "zh-CN"
}

// Catalog holds the messages of every language.
type Catalog struct {
	bundle  *goi18n.Bundle
	matcher language.Matcher
	ids     map[Lang][]string
	// plain holds, per language, the messages without template fields,
	// rendered once: a page of 200 cards asks for thousands of them.
	plain map[Lang]map[string]string
	// fields holds the messages whose only template syntax is {{.Field}}:
	// filled by plain substitution, not by executing a text/template.
	fields map[Lang]map[string][]part
}

// part is a piece of a message: literal text, or the name of a field.
type part struct {
	text  string
	field bool
}

// simpleFields matches a {{.Field}} placeholder.
var simpleFields = regexp.MustCompile(`\{\{\s*\.([A-Za-z][A-Za-z0-9]*)\s*\}\}`)

// compileFields splits a message into parts when {{.Field}} is all the
// template syntax it uses; ok is false otherwise.
func compileFields(msg string) (parts []part, ok bool) {
	last := 0
	for _, m := range simpleFields.FindAllStringSubmatchIndex(msg, -1) {
		parts = append(parts, part{text: msg[last:m[0]]}, part{text: msg[m[2]:m[3]], field: true})
		last = m[1]
	}
	parts = append(parts, part{text: msg[last:]})
	for _, p := range parts {
		if !p.field && (strings.Contains(p.text, "{{") || strings.Contains(p.text, "}}")) {
			return nil, false
		}
	}
	return parts, true
}

// NewCatalog loads the embedded message files and checks that both
// languages define exactly the same keys.
func NewCatalog() (*Catalog, error) {
	b := goi18n.NewBundle(language.Chinese)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	c := &Catalog{bundle: b, ids: map[Lang][]string{}, plain: map[Lang]map[string]string{}, fields: map[Lang]map[string][]part{},
		matcher: language.NewMatcher([]language.Tag{language.Chinese, language.English})}
	for _, l := range []Lang{Chinese, English} {
		name := "locales/" + string(l) + ".toml"
		raw, err := fs.ReadFile(localeFS, name)
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		mf, err := b.ParseMessageFileBytes(raw, name)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		c.plain[l], c.fields[l] = map[string]string{}, map[string][]part{}
		loc := goi18n.NewLocalizer(b, string(l))
		for _, m := range mf.Messages {
			c.ids[l] = append(c.ids[l], m.ID)
			if !strings.Contains(m.Other, "{{") {
				if s, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: m.ID}); err == nil {
					c.plain[l][m.ID] = s
				}
			} else if parts, ok := compileFields(m.Other); ok {
				c.fields[l][m.ID] = parts
			}
		}
		sort.Strings(c.ids[l])
	}
	if missing := c.Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("i18n: keys not in both languages: %s", strings.Join(missing, ", "))
	}
	return c, nil
}

// Missing lists the keys one language has and the other lacks.
func (c *Catalog) Missing() []string {
	in := func(l Lang) map[string]bool {
		m := map[string]bool{}
		for _, id := range c.ids[l] {
			m[id] = true
		}
		return m
	}
	zh, en := in(Chinese), in(English)
	var out []string
	for id := range zh {
		if !en[id] {
			out = append(out, "en:"+id)
		}
	}
	for id := range en {
		if !zh[id] {
			out = append(out, "zh:"+id)
		}
	}
	sort.Strings(out)
	return out
}

// IDs lists the keys of one language, sorted.
func (c *Catalog) IDs(l Lang) []string { return append([]string(nil), c.ids[l]...) }

// Negotiate picks the language: an explicit choice (query or cookie) wins,
// then the browser's Accept-Language, then Chinese.
func (c *Catalog) Negotiate(explicit, acceptLanguage string) Lang {
	if l, ok := ParseLang(explicit); ok {
		return l
	}
	if acceptLanguage == "" || len(acceptLanguage) > 512 {
		return Chinese
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Chinese
	}
	_, idx, conf := c.matcher.Match(tags...)
	if conf == language.No || idx != 1 {
		return Chinese
	}
	return English
}

// For returns the localizer of a language, formatting times in loc.
func (c *Catalog) For(l Lang, loc *time.Location) *Localizer {
	if l != English {
		l = Chinese
	}
	return &Localizer{Lang: l, Loc: loc, l: goi18n.NewLocalizer(c.bundle, string(l)), plain: c.plain[l], fields: c.fields[l]}
}

// Localizer translates and formats for one language and time zone.
type Localizer struct {
	Lang   Lang
	Loc    *time.Location
	l      *goi18n.Localizer
	plain  map[string]string
	fields map[string][]part
}

// T returns the message id, filled with data when given (a map of template
// fields). A missing key is logged and shown as the key itself, so a gap is
// visible rather than blank; the catalogue test keeps that from shipping.
func (z *Localizer) T(id string, data ...map[string]any) string {
	if s, ok := z.plain[id]; ok {
		return s
	}
	if parts, ok := z.fields[id]; ok {
		var b strings.Builder
		for _, p := range parts {
			if !p.field {
				b.WriteString(p.text)
				continue
			}
			var v any
			if len(data) > 0 {
				v = data[0][p.text]
			}
			if v == nil {
				b.WriteString("<no value>") // what text/template writes for a missing field
				continue
			}
			fmt.Fprint(&b, v)
		}
		return b.String()
	}
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(data) > 0 {
		cfg.TemplateData = data[0]
	}
	s, err := z.l.Localize(cfg)
	if err != nil {
		slog.Warn("i18n: missing message", "id", id, "lang", z.Lang, "err", err)
		return id
	}
	return s
}

// Money formats fen as yuan with a sign and two decimals: ¥1,234.50.
func (z *Localizer) Money(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%s.%02d", sign, groupThousands(fen/100), fen%100)
}

// Number formats a whole number with thousands separators.
func (z *Localizer) Number(n int64) string {
	if n < 0 {
		return "-" + groupThousands(-n)
	}
	return groupThousands(n)
}

// GiB formats a size given in KiB as GiB, without decimals when whole.
func (z *Localizer) GiB(kb int64) string {
	g := math.Round(float64(kb)/(1024*1024)*10) / 10
	if g == math.Trunc(g) {
		return strconv.FormatFloat(g, 'f', 0, 64) + " GiB"
	}
	return strconv.FormatFloat(g, 'f', 1, 64) + " GiB"
}

// Time formats an instant as a wall clock in the localizer's zone, to the minute.
func (z *Localizer) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(z.Loc).Format("2006-01-02 15:04")
}

var weekdays = map[Lang][7]string{
	Chinese: {"周日", "周一", "周二", "周三", "周四", "周五", "周六"},
	English: {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"},
}

// When names a coming instant the short way people say it: "周五 03:40"
// within a week, the date beyond ("2026-12-20 03:40").
func (z *Localizer) When(t, now time.Time) string {
	t = t.In(z.Loc)
	if t.Sub(now) < 6*24*time.Hour {
		return weekdays[z.Lang][t.Weekday()] + " " + t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}

// Ago says how long ago an instant was: "刚刚", "3 分钟前", "2 小时前", "5 天前".
func (z *Localizer) Ago(t, now time.Time) string {
	d := now.Sub(t)
	n := func(v time.Duration) string { return strconv.FormatInt(int64(v), 10) }
	zh := z.Lang != English
	switch {
	case d < time.Minute:
		if zh {
			return "刚刚"
		}
		return "just now"
	case d < time.Hour:
		if zh {
			return n(d/time.Minute) + " 分钟前"
		}
		return n(d/time.Minute) + " min ago"
	case d < 48*time.Hour:
		if zh {
			return n(d/time.Hour) + " 小时前"
		}
		return n(d/time.Hour) + " h ago"
	default:
		if zh {
			return n(d/(24*time.Hour)) + " 天前"
		}
		return n(d/(24*time.Hour)) + " days ago"
	}
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

type ctxKey struct{}

// With returns a context carrying the localizer.
func With(ctx context.Context, z *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, z)
}

// From returns the request's localizer; without one (a test rendering a
// component bare) it returns a Chinese one in Asia/Shanghai.
func From(ctx context.Context) *Localizer {
	if z, ok := ctx.Value(ctxKey{}).(*Localizer); ok && z != nil {
		return z
	}
	return fallback()
}

// T translates id with the request's localizer: the call views make.
func T(ctx context.Context, id string, data ...map[string]any) string {
	return From(ctx).T(id, data...)
}
