package handlers

import (
	"strings"
	"testing"
)

func TestCSRFMasking(t *testing.T) {
	token, err := randomToken()
	if err != nil {
		t.Fatal(err)
	}
	a, b := maskCSRF(token), maskCSRF(token)
	if a == b || strings.Contains(a, token) || strings.Contains(b, token) {
		t.Fatalf("masks must differ and hide the token: %q %q", a, b)
	}
	for _, m := range []string{a, b} {
		if !validCSRF(token, m) {
			t.Errorf("%q does not carry the token", m)
		}
	}
	other, _ := randomToken()
	tests := []struct {
		name   string
		want   string
		masked string
	}{
		{"another token", other, a},
		{"the token unmasked", token, token},
		{"empty", token, ""},
		{"not base64", token, "%%%"},
		{"odd length", token, "AAA"},
		{"truncated", token, a[:len(a)-4]},
		{"no session token", "", maskCSRF("")},
		{"one byte changed", token, a[:10] + string(a[10]^1) + a[11:]},
	}
	for _, tt := range tests {
		if validCSRF(tt.want, tt.masked) {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

// FuzzUnmaskCSRF: whatever a client sends as a token, unmasking never
// panics, and every masked token comes back as it went.
func FuzzUnmaskCSRF(f *testing.F) {
	f.Add("ALJkRu5dKyE3Tc4hHzYbbw", "")
	f.Add("tok", "AAAA")
	f.Add("", "%%%")
	f.Fuzz(func(t *testing.T, token, sent string) {
		unmaskCSRF(sent)
		if got, ok := unmaskCSRF(maskCSRF(token)); token != "" && (!ok || got != token) {
			t.Fatalf("round trip of %q gave %q, %v", token, got, ok)
		}
	})
}
