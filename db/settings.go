package db

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

const (
	// minSecretLen is the shortest console secret SecretBox accepts.
	minSecretLen = 32
	// apiKeyInfo separates the sealing key from anything else derived from
	// the console secret; bump the version to re-key.
	apiKeyInfo = "lightcc-dashboard api key v1"
	// settingAPIKey is the settings row holding the sealed LightCC API key.
	settingAPIKey = "lightcc_api_key"
)

// SecretBox seals values with AES-256-GCM under a key derived with
// HKDF-SHA256 from the console's secret (DASHBOARD_SECRET), info
// "lightcc-dashboard api key v1". A database copied without the secret gives
// away nothing. It is safe for concurrent use.
type SecretBox struct {
	aead cipher.AEAD
}

// NewSecretBox derives the sealing key from secret, which must be at least
// 32 bytes.
func NewSecretBox(secret []byte) (*SecretBox, error) {
	if len(secret) < minSecretLen {
		return nil, fmt.Errorf("db: secret box: secret is %d bytes, need at least %d", len(secret), minSecretLen)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, apiKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("db: secret box: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("db: secret box: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("db: secret box: %w", err)
	}
	return &SecretBox{aead: aead}, nil
}

// Seal encrypts and authenticates plaintext. The result is a random 12-byte
// nonce followed by the ciphertext and tag.
func (b *SecretBox) Seal(plaintext []byte) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize(), b.aead.NonceSize()+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("db: seal: %w", err)
	}
	return b.aead.Seal(nonce, nonce, plaintext, nil), nil
}

// Open decrypts what Seal produced. It fails when the value was altered or
// sealed under another secret.
func (b *SecretBox) Open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, errors.New("db: open sealed value: too short")
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return nil, fmt.Errorf("db: open sealed value: %w", err)
	}
	return plain, nil
}

// ErrNoAPIKey is returned by APIKey when no key is stored.
var ErrNoAPIKey = errors.New("db: no API key stored")

// SetAPIKey stores the LightCC API key sealed by box; an empty key deletes
// it. Errors never contain the key.
func (d *DB) SetAPIKey(ctx context.Context, box *SecretBox, key string, now time.Time) error {
	if key == "" {
		if _, err := d.sql.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, settingAPIKey); err != nil {
			return fmt.Errorf("db: delete API key: %w", err)
		}
		return nil
	}
	if box == nil {
		return errors.New("db: store API key: no secret box")
	}
	sealed, err := box.Seal([]byte(key))
	if err != nil {
		return fmt.Errorf("db: store API key: %w", err)
	}
	_, err = d.sql.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		settingAPIKey, sealed, now.Unix())
	if err != nil {
		return fmt.Errorf("db: store API key: %w", err)
	}
	return nil
}

// APIKey returns the stored LightCC API key, ErrNoAPIKey when there is none,
// or an error (not containing the key) when it cannot be opened, usually
// because DASHBOARD_SECRET changed since it was stored.
func (d *DB) APIKey(ctx context.Context, box *SecretBox) (string, error) {
	if box == nil {
		return "", errors.New("db: read API key: no secret box")
	}
	var sealed []byte
	err := d.sql.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, settingAPIKey).Scan(&sealed)
	switch {
	case isNoRows(err):
		return "", ErrNoAPIKey
	case err != nil:
		return "", fmt.Errorf("db: read API key: %w", err)
	}
	plain, err := box.Open(sealed)
	if err != nil {
		return "", fmt.Errorf("db: read API key (was the console secret changed?): %w", err)
	}
	return string(plain), nil
}
