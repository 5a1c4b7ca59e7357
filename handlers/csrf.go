package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
)

// The session's CSRF token is never written into a page as it is: every
// page carries it masked with a fresh one-time pad (pad || token XOR pad),
// as gorilla/csrf and Django do. A page that both reflects what a visitor
// typed (the gallery's search, a return path) and holds a constant secret
// would otherwise let an eavesdropper on a TLS link recover the secret
// from compressed sizes (BREACH). The check unmasks what comes back.

// maskCSRF returns the token masked with a fresh pad, URL-safe base64.
func maskCSRF(token string) string {
	pad := make([]byte, len(token))
	rand.Read(pad) // never fails (crypto/rand, Go 1.24+)
	out := make([]byte, 2*len(token))
	copy(out, pad)
	subtle.XORBytes(out[len(token):], []byte(token), pad)
	return base64.RawURLEncoding.EncodeToString(out)
}

// unmaskCSRF returns the token a masked value carries; ok is false for
// anything maskCSRF cannot have made.
func unmaskCSRF(masked string) (token string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(masked)
	if err != nil || len(b) == 0 || len(b)%2 != 0 {
		return "", false
	}
	n := len(b) / 2
	subtle.XORBytes(b[n:], b[n:], b[:n])
	return string(b[n:]), true
}

// validCSRF reports whether the masked value sent back carries want.
func validCSRF(want, masked string) bool {
	got, ok := unmaskCSRF(masked)
	return ok && want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
