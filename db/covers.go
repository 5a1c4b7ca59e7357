package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"lightcc-dashboard/lightcc/cover"
)

var _ cover.Store = (*CoverStore)(nil)

// errNoCover satisfies both ErrNotFound, for callers of this package, and
// cover.ErrNotCached, for the cover service.
var errNoCover = fmt.Errorf("%w: %w", ErrNotFound, cover.ErrNotCached)

// CoverStore keeps fetched cover pictures and failed fetches in the covers
// and cover_failures tables. It implements cover.Store and is safe for
// concurrent use.
type CoverStore struct {
	db *sql.DB
}

// Covers returns the store over d's cover tables.
func (d *DB) Covers() *CoverStore {
	return &CoverStore{db: d.sql}
}

// Cover returns the cached cover of imageID, or an error satisfying both
// ErrNotFound and cover.ErrNotCached.
func (s *CoverStore) Cover(ctx context.Context, imageID int64) (cover.Cover, error) {
	c := cover.Cover{ImageID: imageID}
	var fetchedAt int64
	err := s.db.QueryRowContext(ctx,
		`SELECT source_url, content_type, body, hash, fetched_at FROM covers WHERE image_id = ?`, imageID,
	).Scan(&c.SourceURL, &c.ContentType, &c.Body, &c.Hash, &fetchedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return cover.Cover{}, errNoCover
	}
	if err != nil {
		return cover.Cover{}, fmt.Errorf("db: load cover %d: %w", imageID, err)
	}
	c.FetchedAt = time.Unix(fetchedAt, 0).UTC()
	return c, nil
}

// PutCover inserts or replaces the cover of c.ImageID and deletes any
// failure recorded for it, in one transaction.
func (s *CoverStore) PutCover(ctx context.Context, c cover.Cover) error {
	if len(c.Body) == 0 {
		return fmt.Errorf("db: save cover %d: empty body", c.ImageID)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: save cover %d: %w", c.ImageID, err)
	}
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(ctx,
		`INSERT INTO covers (image_id, source_url, content_type, body, hash, fetched_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (image_id) DO UPDATE SET
			source_url = excluded.source_url,
			content_type = excluded.content_type,
			body = excluded.body,
			hash = excluded.hash,
			fetched_at = excluded.fetched_at`,
		c.ImageID, c.SourceURL, c.ContentType, c.Body, c.Hash, c.FetchedAt.Unix())
	if err != nil {
		return fmt.Errorf("db: save cover %d: %w", c.ImageID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM cover_failures WHERE image_id = ?`, c.ImageID); err != nil {
		return fmt.Errorf("db: clear cover failure %d: %w", c.ImageID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: save cover %d: %w", c.ImageID, err)
	}
	return nil
}

// CoverFailure returns the failure recorded for imageID, or an error
// satisfying both ErrNotFound and cover.ErrNotCached.
func (s *CoverStore) CoverFailure(ctx context.Context, imageID int64) (cover.Failure, error) {
	f := cover.Failure{ImageID: imageID}
	var retryAt int64
	err := s.db.QueryRowContext(ctx,
		`SELECT source_url, reason, attempts, retry_at FROM cover_failures WHERE image_id = ?`, imageID,
	).Scan(&f.SourceURL, &f.Reason, &f.Attempts, &retryAt)
	if errors.Is(err, sql.ErrNoRows) {
		return cover.Failure{}, errNoCover
	}
	if err != nil {
		return cover.Failure{}, fmt.Errorf("db: load cover failure %d: %w", imageID, err)
	}
	f.RetryAt = time.Unix(retryAt, 0).UTC()
	return f, nil
}

// PutCoverFailure inserts or replaces the failure recorded for f.ImageID.
// RetryAt is rounded up to the second so a retry never comes early.
func (s *CoverStore) PutCoverFailure(ctx context.Context, f cover.Failure) error {
	retryAt := f.RetryAt.Unix()
	if f.RetryAt.Nanosecond() != 0 {
		retryAt++
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO cover_failures (image_id, source_url, reason, attempts, retry_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (image_id) DO UPDATE SET
			source_url = excluded.source_url,
			reason = excluded.reason,
			attempts = excluded.attempts,
			retry_at = excluded.retry_at`,
		f.ImageID, f.SourceURL, f.Reason, f.Attempts, retryAt)
	if err != nil {
		return fmt.Errorf("db: save cover failure %d: %w", f.ImageID, err)
	}
	return nil
}
