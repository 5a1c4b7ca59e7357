package views

import (
	"cmp"
	"fmt"
	"html"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// allowed holds the tokens a template may write literally although they
// contain letters: names that read the same in every language (a protocol,
// a unit), each with the reason. It is empty: every word in the templates
// comes from the catalogue, brand names included, since the words around a
// brand are translated with it. Symbols such as ←, ·, ♥, × and ¥ need no
// entry: they are not letters.
var allowed = map[string]string{}

// textAttrs are the attributes whose values a person reads (or hears from a
// screen reader), so a literal value with words in it must be translated.
// The value of a submit, button or reset input is checked as well.
var textAttrs = map[string]bool{
	"placeholder":          true,
	"title":                true,
	"aria-label":           true,
	"alt":                  true,
	"aria-description":     true,
	"aria-placeholder":     true,
	"aria-roledescription": true,
	"aria-valuetext":       true,
	"data-label":           true, // app.css shows it before each cell on narrow screens
}

// A literal is one piece of user-facing text written in a template.
type literal struct {
	line int
	what string // "text" or "<name> attribute"
	text string
}

// TestTemplatesHaveNoBareText fails for every word a template writes
// literally instead of asking the catalogue (i18n.T) for it.
func TestTemplatesHaveNoBareText(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".templ") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// A walk from the wrong directory would find nothing and pass.
	for _, must := range []string{"layouts/base.templ", "components/appcard.templ", "pages/apps.templ"} {
		if !slices.Contains(files, filepath.FromSlash(must)) {
			t.Fatalf("views/%s not found among %v", must, files)
		}
	}
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := "views/" + filepath.ToSlash(path)
		found, bodies, err := scanTempl(string(src), allowed)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if bodies == 0 {
			t.Errorf("%s: no templ component found: the scanner read nothing", name)
		}
		for _, l := range found {
			t.Errorf("%s:%d: %s %q is written in the template; put it in views/i18n/locales/{zh,en}.toml and use i18n.T", name, l.line, l.what, l.text)
		}
	}
}

// testAllowed exercises the allow-list without depending on its contents.
var testAllowed = map[string]string{"HTTP": "protocol name"}

func TestScanTempl(t *testing.T) {
	tests := []struct {
		name string
		body string // the inside of one templ component; its first line is line 4
		want []int  // the lines of the literals found
	}{
		{"bare Chinese word", `<p>你好</p>`, []int{4}},
		{"bare English word", `<p>Hello</p>`, []int{4}},
		{"catalogue call", `<p>{ i18n.T(ctx, "x") }</p>`, nil},
		{"catalogue call with data", `<p>{ i18n.T(ctx, "x", map[string]any{"N": "}<b>Hi</b>"}) }</p>`, nil},
		{"if line", "if p.OK {\n\t<p>{ p.Text }</p>\n} else if p.Bad {\n\t{ p.Bad }\n}", nil},
		{"words in an else branch", "if p.OK {\n\t{ p.Text }\n} else {\n\t<p>Nothing</p>\n}", []int{7}},
		{"for and switch", "for _, x := range xs {\n\tswitch x {\n\tcase \"a\":\n\t\t{ x }\n\tdefault:\n\t}\n}", nil},
		{"text that only looks like Go", `<p>for example</p>`, []int{4}},
		{"literal placeholder", `<input placeholder="Search"/>`, []int{4}},
		{"expression placeholder", `<input placeholder={ x }/>`, nil},
		{"literal title and aria-label", "<a\n\ttitle=\"Close\"\n\taria-label=\"关闭\"\n>{ x }</a>", []int{5, 6}},
		{"empty alt", `<img src={ u } alt=""/>`, nil},
		{"submit button value", `<input type="submit" value="Save"/>`, []int{4}},
		{"hidden input value", `<input type="hidden" name="a" value="abc"/>`, nil},
		{"other literal attributes", `<div class="card box" data-testid="card" hx-trigger="every 30s"></div>`, nil},
		{"script ignored", "<script>\n\tvar hello = \"world\"; if (a < b) { go() }\n</script>", nil},
		{"style ignored", `<style>.a::before { content: "Hi" }</style>`, nil},
		{"conditional attributes", "<div\n\tid=\"x\"\n\tif p.On {\n\t\thx-trigger=\"every 3s\"\n\t} else {\n\t\ttitle=\"Off\"\n\t}\n>{ p.X }</div>", []int{9}},
		{"children of a call are read", "@layouts.Base(p.Shell) {\n\t<h1>Welcome</h1>\n}", []int{5}},
		{"inline call", `<select name="r">@roleOptions("member")</select>`, nil},
		{"doctype and comment", "<!DOCTYPE html>\n<!-- a note for developers -->", nil},
		{"Go comments", "// a note\n/* another\nnote */\n<p></p>", nil},
		{"symbols", `<a href="/">← { x }</a> · <span>♥ { n }</span> ¥ 3 × 4`, nil},
		{"entities", `<p>&times; &#8592; &nbsp;</p>`, nil},
		{"word behind an entity", `<p>&nbsp;Hi</p>`, []int{4}},
		{"allowed token", `<p class="code">HTTP { code }</p>`, nil},
		{"allowed token is a whole word", `<p>HTTPS { code }</p>`, []int{4}},
		{"brand still needs the catalogue", `<div class="sub">LightCC: { r.Upstream }</div>`, []int{4}},
		{"text after an expression", `<p>{ n } items</p>`, []int{4}},
		{"children", "<main>\n\t{ children... }\n</main>", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "package x\n\ntempl T() {\n" + tt.body + "\n}\n"
			found, bodies, err := scanTempl(src, testAllowed)
			if err != nil {
				t.Fatal(err)
			}
			if bodies != 1 {
				t.Fatalf("read %d templ bodies, want 1", bodies)
			}
			var lines []int
			for _, l := range found {
				lines = append(lines, l.line)
			}
			if !slices.Equal(lines, tt.want) {
				t.Errorf("found %v at lines %v, want lines %v", found, lines, tt.want)
			}
		})
	}
}

func TestScanTemplGoOutsideBodies(t *testing.T) {
	src := "package x\n\nconst s = `\ntempl Fake() {\n<p>not markup</p>\n}\n`\n\n" +
		"func f() string { return \"<p>Hello</p>\" /* templ X() { */ }\n\n" +
		"templ Real(p P) {\n\t<p>Hello</p>\n}\n\nvar v = map[string]string{\"a\": \"<b>Hi</b>\"}\n"
	found, bodies, err := scanTempl(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bodies != 1 || len(found) != 1 || found[0].line != 12 {
		t.Errorf("got %d bodies, %v; want 1 body and one literal at line 12", bodies, found)
	}
}

func TestScanTemplErrors(t *testing.T) {
	for _, src := range []string{
		"package x\ntempl T() {\n<p>{ x </p>\n}\n",
		"package x\ntempl T() {\n<p class=\"a\"\n}\n",
		"package x\ntempl T() {\nif x {\n<p></p>\n}\n",
		"package x\ntempl T() {\n<p>@f(x</p>\n}\n",
	} {
		if _, _, err := scanTempl(src, nil); err == nil {
			t.Errorf("no error for broken source %q", src)
		}
	}
}

// scanTempl returns the user-facing literals of a .templ file and how many
// templ bodies it read; tokens in allow do not count as words. Outside `templ ... {` bodies the file is Go and is
// skipped; inside, markup is read as text, tags, Go expressions ({ ... }),
// component calls (@...), and Go control lines (if/for/switch/case/}).
func scanTempl(src string, allow map[string]string) ([]literal, int, error) {
	s := &scanner{src: src, allow: allow}
	bodies := 0
	for s.i < len(s.src) {
		line := s.restOfLine()
		if strings.HasPrefix(line, "templ ") && strings.HasSuffix(strings.TrimSpace(line), "{") {
			start := s.line(s.i)
			s.skipLine()
			if err := s.body(start); err != nil {
				return nil, bodies, err
			}
			bodies++
			continue
		}
		if err := s.goLine(); err != nil {
			return nil, bodies, err
		}
	}
	return s.found, bodies, nil
}

type scanner struct {
	src   string
	i     int
	allow map[string]string // tokens that are not words to translate
	found []literal
}

func (s *scanner) line(off int) int { return 1 + strings.Count(s.src[:off], "\n") }

func (s *scanner) restOfLine() string {
	if n := strings.IndexByte(s.src[s.i:], '\n'); n >= 0 {
		return s.src[s.i : s.i+n]
	}
	return s.src[s.i:]
}

// skipLine moves past the end of the current line.
func (s *scanner) skipLine() {
	s.i += len(s.restOfLine())
	if s.i < len(s.src) {
		s.i++
	}
}

// skipTo moves past the next occurrence of end, or fails.
func (s *scanner) skipTo(end, what string, start int) error {
	n := strings.Index(s.src[s.i:], end)
	if n < 0 {
		return fmt.Errorf("line %d: %s never closed", s.line(start), what)
	}
	s.i += n + len(end)
	return nil
}

// goLine skips one line of top-level Go, and any string or comment that
// starts on it and runs on, so that text inside them is not taken for a
// templ header.
func (s *scanner) goLine() error {
	for s.i < len(s.src) {
		start := s.i
		switch rest := s.src[s.i:]; {
		case rest[0] == '\n':
			s.i++
			return nil
		case strings.HasPrefix(rest, "//"):
			s.skipLine()
			return nil
		case strings.HasPrefix(rest, "/*"):
			s.i += 2
			if err := s.skipTo("*/", "comment", start); err != nil {
				return err
			}
		case rest[0] == '"' || rest[0] == '\'' || rest[0] == '`':
			if err := s.skipGoString(); err != nil {
				return err
			}
		default:
			s.i++
		}
	}
	return nil
}

// skipGoString moves past the Go string or rune literal at s.i.
func (s *scanner) skipGoString() error {
	start, q := s.i, s.src[s.i]
	s.i++
	if q == '`' {
		return s.skipTo("`", "raw string", start)
	}
	for s.i < len(s.src) && s.src[s.i] != '\n' {
		switch s.src[s.i] {
		case '\\':
			s.i += 2
			continue
		case q:
			s.i++
			return nil
		}
		s.i++
	}
	return fmt.Errorf("line %d: string never closed", s.line(start))
}

// skipBalanced moves past the bracketed Go code at s.i, which starts with
// open, counting only that pair and skipping strings.
func (s *scanner) skipBalanced(open, close byte, what string) error {
	start, depth := s.i, 0
	for s.i < len(s.src) {
		switch c := s.src[s.i]; c {
		case '"', '\'', '`':
			if err := s.skipGoString(); err != nil {
				return err
			}
			continue
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				s.i++
				return nil
			}
		}
		s.i++
	}
	return fmt.Errorf("line %d: %s never closed", s.line(start), what)
}

// controlLine reports whether line (from the current position) is a Go
// statement of a templ body, and whether it opens a block.
func controlLine(line string) (ok, opens bool) {
	l := strings.TrimSpace(line)
	for _, kw := range []string{"if ", "else ", "else{", "for ", "switch "} {
		if strings.HasPrefix(l, kw) && strings.HasSuffix(l, "{") {
			return true, true
		}
	}
	if (strings.HasPrefix(l, "case ") || strings.HasPrefix(l, "default")) && strings.HasSuffix(l, ":") {
		return true, false
	}
	return false, false
}

func (s *scanner) skipSpace() {
	for s.i < len(s.src) && strings.IndexByte(" \t\r\n", s.src[s.i]) >= 0 {
		s.i++
	}
}

// body reads a templ body up to its closing brace.
func (s *scanner) body(header int) error {
	depth := 1
	for {
		s.skipSpace()
		if s.i >= len(s.src) {
			return fmt.Errorf("line %d: templ body never closed", header)
		}
		start, rest := s.i, s.src[s.i:]
		switch line := s.restOfLine(); {
		case strings.HasPrefix(rest, "//"):
			s.skipLine()
		case strings.HasPrefix(rest, "/*"):
			s.i += 2
			if err := s.skipTo("*/", "comment", start); err != nil {
				return err
			}
		case rest[0] == '}':
			s.i++
			if depth--; depth == 0 {
				return nil
			}
			if ok, opens := controlLine(s.restOfLine()); ok && opens { // } else {
				depth++
				s.skipLine()
			}
		case rest[0] == '@':
			if err := s.call(); err != nil {
				return err
			}
			if strings.TrimSpace(s.restOfLine()) == "{" {
				depth++
				s.skipLine()
			}
		case rest[0] == '{':
			if err := s.skipBalanced('{', '}', "Go expression"); err != nil {
				return err
			}
		case strings.HasPrefix(rest, "<!--"):
			if err := s.skipTo("-->", "HTML comment", start); err != nil {
				return err
			}
		case strings.HasPrefix(rest, "<!"), strings.HasPrefix(rest, "</"):
			if err := s.skipTo(">", "tag", start); err != nil {
				return err
			}
		case isTagStart(rest):
			if err := s.tag(); err != nil {
				return err
			}
		default:
			if ok, opens := controlLine(line); ok {
				if opens {
					depth++
				}
				s.skipLine()
				continue
			}
			s.text()
		}
	}
}

func isTagStart(rest string) bool {
	if len(rest) < 2 || rest[0] != '<' {
		return false
	}
	r, _ := utf8.DecodeRuneInString(rest[1:])
	return unicode.IsLetter(r)
}

// call moves past a component call: @pkg.Name(args) or @expr.
func (s *scanner) call() error {
	s.i++
	for s.i < len(s.src) {
		c := s.src[s.i]
		switch {
		case c == '(':
			if err := s.skipBalanced('(', ')', "component call"); err != nil {
				return err
			}
		case c == '[':
			if err := s.skipBalanced('[', ']', "component call"); err != nil {
				return err
			}
		case c == '_' || c == '.' || c >= 0x80 || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)):
			s.i++
		default:
			return nil
		}
	}
	return nil
}

// text reads a run of text up to the next tag, expression or line end.
func (s *scanner) text() {
	start := s.i
	for s.i < len(s.src) {
		rest := s.src[s.i:]
		if rest[0] == '\n' || rest[0] == '{' || isTagStart(rest) || strings.HasPrefix(rest, "</") || strings.HasPrefix(rest, "<!") {
			break
		}
		s.i++
	}
	if t := strings.TrimSpace(html.UnescapeString(s.src[start:s.i])); s.hasWords(t) {
		s.found = append(s.found, literal{line: s.line(start), what: "text", text: t})
	}
}

type attr struct {
	line    int
	value   string
	literal bool
}

// tag reads an opening tag and its attributes; a script or style element
// is skipped whole.
func (s *scanner) tag() error {
	start := s.i
	s.i++
	for s.i < len(s.src) && strings.IndexByte(" \t\r\n/>", s.src[s.i]) < 0 {
		s.i++
	}
	name := strings.ToLower(s.src[start+1 : s.i])
	attrs := map[string]attr{}
	selfClosing := false
attrs:
	for {
		s.skipSpace()
		if s.i >= len(s.src) {
			return fmt.Errorf("line %d: tag <%s never closed", s.line(start), name)
		}
		rest := s.src[s.i:]
		switch {
		case strings.HasPrefix(rest, "/>"):
			s.i += 2
			selfClosing = true
			break attrs
		case rest[0] == '>':
			s.i++
			break attrs
		case rest[0] == '}': // end of a conditional attribute block
			s.i++
			if ok, _ := controlLine(s.restOfLine()); ok {
				s.skipLine()
			}
		case rest[0] == '{': // spread attributes
			if err := s.skipBalanced('{', '}', "attribute expression"); err != nil {
				return err
			}
		default:
			if ok, _ := controlLine(s.restOfLine()); ok {
				s.skipLine()
				continue
			}
			if err := s.attribute(attrs); err != nil {
				return fmt.Errorf("line %d: in <%s: %w", s.line(start), name, err)
			}
		}
	}
	names := slices.SortedFunc(maps.Keys(attrs), func(a, b string) int {
		return cmp.Or(attrs[a].line-attrs[b].line, strings.Compare(a, b))
	})
	for _, n := range names {
		a := attrs[n]
		if !a.literal || !s.hasWords(html.UnescapeString(a.value)) {
			continue
		}
		button := n == "value" && name == "input" && slices.Contains([]string{"submit", "button", "reset"}, strings.ToLower(attrs["type"].value))
		if textAttrs[n] || button {
			s.found = append(s.found, literal{line: a.line, what: n + " attribute", text: a.value})
		}
	}
	if !selfClosing && (name == "script" || name == "style") {
		n := strings.Index(strings.ToLower(s.src[s.i:]), "</"+name)
		if n < 0 {
			return fmt.Errorf("line %d: <%s> never closed", s.line(start), name)
		}
		s.i += n
	}
	return nil
}

// attribute reads one attribute: name, name="v", name='v', name=v,
// name={ expr } or name?={ expr }.
func (s *scanner) attribute(attrs map[string]attr) error {
	start := s.i
	for s.i < len(s.src) && strings.IndexByte(" \t\r\n=?/>{}\"'", s.src[s.i]) < 0 {
		s.i++
	}
	name := strings.ToLower(s.src[start:s.i])
	if name == "" {
		return fmt.Errorf("unexpected %q", s.src[s.i])
	}
	a := attr{line: s.line(start)}
	rest := s.src[s.i:]
	switch {
	case strings.HasPrefix(rest, "?={"):
		s.i += 2
		if err := s.skipBalanced('{', '}', "attribute expression"); err != nil {
			return err
		}
	case strings.HasPrefix(rest, "={"):
		s.i++
		if err := s.skipBalanced('{', '}', "attribute expression"); err != nil {
			return err
		}
	case strings.HasPrefix(rest, `="`), strings.HasPrefix(rest, "='"):
		q := rest[1]
		s.i += 2
		end := strings.IndexByte(s.src[s.i:], q)
		if end < 0 {
			return fmt.Errorf("value of %s never closed", name)
		}
		a.value, a.literal = s.src[s.i:s.i+end], true
		s.i += end + 1
	case strings.HasPrefix(rest, "="):
		s.i++
		v := s.i
		for s.i < len(s.src) && strings.IndexByte(" \t\r\n>", s.src[s.i]) < 0 && !strings.HasPrefix(s.src[s.i:], "/>") {
			s.i++
		}
		a.value, a.literal = s.src[v:s.i], true
	}
	attrs[name] = a
	return nil
}

// hasWords reports whether t holds a letter of any script once the allowed
// tokens are taken out.
func (s *scanner) hasWords(t string) bool {
	for tok := range s.allow {
		t = removeWord(t, tok)
	}
	return strings.IndexFunc(t, unicode.IsLetter) >= 0
}

// removeWord removes the whole-word occurrences of tok from t.
func removeWord(t, tok string) string {
	var b strings.Builder
	for {
		n := strings.Index(t, tok)
		if n < 0 {
			b.WriteString(t)
			return b.String()
		}
		before, _ := utf8.DecodeLastRuneInString(t[:n])
		after, _ := utf8.DecodeRuneInString(t[n+len(tok):])
		b.WriteString(t[:n])
		if isWordRune(before) || isWordRune(after) {
			b.WriteString(tok)
		}
		t = t[n+len(tok):]
	}
}

func isWordRune(r rune) bool {
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_')
}
