package db

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	testSecret  = []byte("console-secret-console-secret-32")
	otherSecret = []byte("another-secret-another-secret-32")
)

const testAPIKey = "lcc-sk-0123456789abcdefSECRET"

func newBox(t *testing.T, secret []byte) *SecretBox {
	t.Helper()
	b, err := NewSecretBox(secret)
	if err != nil {
		t.Fatalf("NewSecretBox: %v", err)
	}
	return b
}

func TestNewSecretBoxSecretLength(t *testing.T) {
	tests := map[string]struct {
		secret []byte
		ok     bool
	}{
		"nil":      {nil, false},
		"31 bytes": {bytes.Repeat([]byte("s"), 31), false},
		"32 bytes": {bytes.Repeat([]byte("s"), 32), true},
		"64 bytes": {bytes.Repeat([]byte("s"), 64), true},
	}
	for name, tt := range tests {
		if _, err := NewSecretBox(tt.secret); (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok=%v", name, err, tt.ok)
		}
	}
}

func TestSecretBoxSealOpen(t *testing.T) {
	b := newBox(t, testSecret)
	plain := []byte(testAPIKey)
	s1, err := b.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := b.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(s1) != 12+len(plain)+16 {
		t.Errorf("sealed length %d, want nonce + plaintext + tag = %d", len(s1), 12+len(plain)+16)
	}
	if bytes.Equal(s1, s2) {
		t.Error("two seals of the same value are equal: nonce not random")
	}
	for i, s := range [][]byte{s1, s2} {
		if got, err := b.Open(s); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("Open %d = %q, %v", i, got, err)
		}
	}
	// A second box from the same secret opens it: the key is derived, not random.
	if got, err := newBox(t, testSecret).Open(s1); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("Open with a box from the same secret = %q, %v", got, err)
	}
	if got, err := b.Open(mustSeal(t, b, nil)); err != nil || len(got) != 0 {
		t.Errorf("empty round trip = %q, %v", got, err)
	}
}

func mustSeal(t *testing.T, b *SecretBox, plain []byte) []byte {
	t.Helper()
	s, err := b.Seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSecretBoxRejects(t *testing.T) {
	b := newBox(t, testSecret)
	sealed := mustSeal(t, b, []byte(testAPIKey))
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	tests := map[string]struct {
		box    *SecretBox
		sealed []byte
	}{
		"other secret":      {newBox(t, otherSecret), sealed},
		"nonce tampered":    {b, flip(0)},
		"ciphertext flip":   {b, flip(12)},
		"tag tampered":      {b, flip(len(sealed) - 1)},
		"truncated":         {b, sealed[:len(sealed)-1]},
		"shorter than tag":  {b, sealed[:20]},
		"empty":             {b, nil},
		"appended byte":     {b, append(bytes.Clone(sealed), 0)},
		"nonce only":        {b, sealed[:12]},
		"different message": {b, append(bytes.Clone(sealed[:12]), sealed[13:]...)},
	}
	for name, tt := range tests {
		got, err := tt.box.Open(tt.sealed)
		if err == nil {
			t.Errorf("%s: Open succeeded with %q", name, got)
			continue
		}
		if strings.Contains(err.Error(), testAPIKey) {
			t.Errorf("%s: error %q contains the plaintext", name, err)
		}
	}
}

func TestAPIKeyStorage(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	box := newBox(t, testSecret)
	now := time.Unix(1_800_000_000, 0)

	if _, err := d.APIKey(ctx, box); !errors.Is(err, ErrNoAPIKey) {
		t.Fatalf("APIKey before any is stored: %v, want ErrNoAPIKey", err)
	}
	if err := d.SetAPIKey(ctx, box, "old-key-value", now); err != nil {
		t.Fatal(err)
	}
	if err := d.SetAPIKey(ctx, box, testAPIKey, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, err := d.APIKey(ctx, box); err != nil || got != testAPIKey {
		t.Fatalf("APIKey = %q, %v; want the key stored last", got, err)
	}

	var (
		stored    []byte
		updatedAt int64
	)
	if err := d.SQL().QueryRow(`SELECT value, updated_at FROM settings WHERE key = 'lightcc_api_key'`).
		Scan(&stored, &updatedAt); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, []byte(testAPIKey)) || bytes.Contains(stored, []byte("SECRET")) {
		t.Error("the stored value contains the plaintext key")
	}
	if updatedAt != now.Add(time.Minute).Unix() {
		t.Errorf("updated_at = %d", updatedAt)
	}
	if n := queryInt(t, d, `SELECT COUNT(*) FROM settings`); n != 1 {
		t.Errorf("%d settings rows, want 1", n)
	}

	_, err := d.APIKey(ctx, newBox(t, otherSecret))
	if err == nil || errors.Is(err, ErrNoAPIKey) || strings.Contains(err.Error(), testAPIKey) {
		t.Errorf("APIKey with another secret: %v, want an error without the key", err)
	}
	tampered := bytes.Clone(stored)
	tampered[len(tampered)/2] ^= 0x80
	if _, err := d.SQL().Exec(`UPDATE settings SET value = ? WHERE key = 'lightcc_api_key'`, tampered); err != nil {
		t.Fatal(err)
	}
	if got, err := d.APIKey(ctx, box); err == nil || strings.Contains(err.Error(), testAPIKey) {
		t.Errorf("APIKey of a tampered value = %q, %v; want an error without the key", got, err)
	}

	for range 2 { // deleting is idempotent
		if err := d.SetAPIKey(ctx, box, "", now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.APIKey(ctx, box); !errors.Is(err, ErrNoAPIKey) {
		t.Errorf("APIKey after delete: %v, want ErrNoAPIKey", err)
	}
	if err := d.SetAPIKey(ctx, nil, testAPIKey, now); err == nil || strings.Contains(err.Error(), testAPIKey) {
		t.Errorf("SetAPIKey without a box: %v", err)
	}
}
