package lightcc

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// DefaultLinkTemplate is how a Link most likely composes into a URL. The
// documentation calls dynamicUrl a prefix (前缀) and domainName the domain
// but never shows the composition, so it is configurable
// (LIGHTCC_LINK_TEMPLATE) and lives only here.
const DefaultLinkTemplate = "https://{prefix}.{domain}"

// hostPart is what a prefix or domain may contain: host name characters
// only, so upstream data can never steer a redirect to another path,
// scheme or user-info.
var hostPart = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)

// ValidateLinkTemplate checks a template once, at start-up: it must mention
// {domain}, and composing it with sample parts must give an http(s) URL.
func ValidateLinkTemplate(tmpl string) error {
	if !strings.Contains(tmpl, "{domain}") {
		return errors.New("link template must contain {domain}")
	}
	if _, err := ComposeLink(tmpl, Link{DomainName: "example.com", DynamicURL: "abc"}); err != nil {
		return err
	}
	return nil
}

// ComposeLink turns a Link into the URL a browser opens, by replacing
// {prefix} and {domain} in tmpl. It refuses parts that are not plain host
// names and results that are not absolute http(s) URLs.
func ComposeLink(tmpl string, l Link) (string, error) {
	prefix, domain := strings.TrimSpace(l.DynamicURL), strings.TrimSpace(l.DomainName)
	if !hostPart.MatchString(domain) {
		return "", fmt.Errorf("link domain %q is not a host name", domain)
	}
	if strings.Contains(tmpl, "{prefix}") && !hostPart.MatchString(prefix) {
		return "", fmt.Errorf("link prefix %q is not a host name part", prefix)
	}
	s := strings.NewReplacer("{prefix}", prefix, "{domain}", domain).Replace(tmpl)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("link template %q does not give an http(s) URL", tmpl)
	}
	return u.String(), nil
}
