package db

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"lightcc-dashboard/lightcc/cover"
)

func TestCoverRoundTrip(t *testing.T) {
	d := openTest(t)
	s := d.Covers()
	ctx := t.Context()

	if _, err := s.Cover(ctx, 42); !errors.Is(err, cover.ErrNotCached) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing cover: %v, want ErrNotCached and ErrNotFound", err)
	}
	want := cover.Cover{
		ImageID:     42,
		SourceURL:   "https://minio.lightcc.cloud/img/00004.png",
		Body:        []byte{0x89, 'P', 'N', 'G', 0, 1, 2},
		ContentType: "image/png",
		Hash:        "abc123",
		FetchedAt:   time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
	}
	if err := s.PutCover(ctx, want); err != nil {
		t.Fatalf("PutCover: %v", err)
	}
	got, err := s.Cover(ctx, 42)
	if err != nil {
		t.Fatalf("Cover: %v", err)
	}
	if got.ImageID != want.ImageID || got.SourceURL != want.SourceURL || string(got.Body) != string(want.Body) ||
		got.ContentType != want.ContentType || got.Hash != want.Hash || !got.FetchedAt.Equal(want.FetchedAt) {
		t.Fatalf("Cover = %+v, want %+v", got, want)
	}

	// A second put replaces the row.
	want.SourceURL, want.Body, want.ContentType, want.Hash = "https://minio.lightcc.cloud/img/b.jpg", []byte{0xff, 0xd8, 0xff}, "image/jpeg", "def"
	if err := s.PutCover(ctx, want); err != nil {
		t.Fatalf("PutCover again: %v", err)
	}
	got, err = s.Cover(ctx, 42)
	if err != nil || got.SourceURL != want.SourceURL || string(got.Body) != string(want.Body) || got.Hash != "def" {
		t.Fatalf("replaced Cover = %+v, %v", got, err)
	}
	if n := queryInt(t, d, `SELECT COUNT(*) FROM covers`); n != 1 {
		t.Errorf("%d cover rows, want 1", n)
	}
	if err := s.PutCover(ctx, cover.Cover{ImageID: 1, SourceURL: "x", ContentType: "image/png"}); err == nil {
		t.Error("PutCover accepted an empty body")
	}
}

func TestCoverFailureRoundTrip(t *testing.T) {
	d := openTest(t)
	s := d.Covers()
	ctx := t.Context()

	if _, err := s.CoverFailure(ctx, 7); !errors.Is(err, cover.ErrNotCached) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing failure: %v, want ErrNotCached and ErrNotFound", err)
	}
	want := cover.Failure{
		ImageID:   7,
		SourceURL: "https://minio.lightcc.cloud/img/7.png",
		Reason:    "upstream answered 500",
		Attempts:  1,
		RetryAt:   time.Date(2025, 3, 1, 12, 1, 0, 0, time.UTC),
	}
	if err := s.PutCoverFailure(ctx, want); err != nil {
		t.Fatalf("PutCoverFailure: %v", err)
	}
	got, err := s.CoverFailure(ctx, 7)
	if err != nil || got.ImageID != 7 || got.SourceURL != want.SourceURL || got.Reason != want.Reason ||
		got.Attempts != 1 || !got.RetryAt.Equal(want.RetryAt) {
		t.Fatalf("CoverFailure = %+v, %v; want %+v", got, err, want)
	}

	// An upsert replaces it; a fractional retry time rounds up, never early.
	want.Attempts, want.Reason, want.RetryAt = 2, "request failed", want.RetryAt.Add(1500*time.Millisecond)
	if err := s.PutCoverFailure(ctx, want); err != nil {
		t.Fatalf("PutCoverFailure again: %v", err)
	}
	got, err = s.CoverFailure(ctx, 7)
	if err != nil || got.Attempts != 2 || got.Reason != "request failed" || got.RetryAt.Before(want.RetryAt) ||
		got.RetryAt.Sub(want.RetryAt) >= time.Second {
		t.Fatalf("replaced CoverFailure = %+v, %v", got, err)
	}
	if n := queryInt(t, d, `SELECT COUNT(*) FROM cover_failures`); n != 1 {
		t.Errorf("%d failure rows, want 1", n)
	}
}

func TestPutCoverClearsFailure(t *testing.T) {
	d := openTest(t)
	s := d.Covers()
	ctx := t.Context()

	for _, id := range []int64{1, 2} {
		if err := s.PutCoverFailure(ctx, cover.Failure{ImageID: id, SourceURL: "u", Reason: "r", Attempts: 3,
			RetryAt: time.Unix(1000, 0)}); err != nil {
			t.Fatalf("PutCoverFailure %d: %v", id, err)
		}
	}
	if err := s.PutCover(ctx, cover.Cover{ImageID: 1, SourceURL: "u", Body: []byte("GIF89a"),
		ContentType: "image/gif", Hash: "h", FetchedAt: time.Unix(2000, 0)}); err != nil {
		t.Fatalf("PutCover: %v", err)
	}
	if _, err := s.CoverFailure(ctx, 1); !errors.Is(err, cover.ErrNotCached) {
		t.Errorf("failure of image 1 after PutCover: %v, want ErrNotCached", err)
	}
	if _, err := s.CoverFailure(ctx, 2); err != nil {
		t.Errorf("failure of image 2 was touched: %v", err)
	}
}

// TestCoverStoreServesTheCoverService runs the real service over the real
// store: a cover fetched once survives a restart in SQLite, and a failure
// holds off the next try.
func TestCoverStoreServesTheCoverService(t *testing.T) {
	d := openTest(t)
	var hits atomic.Int64
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write(gif)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	now := func() time.Time { return time.Unix(5000, 0) }
	newService := func() *cover.Service {
		return cover.New(d.Covers(), cover.Options{AllowedHosts: []string{u.Host}, ImageBase: srv.URL, Now: now})
	}

	for range 2 {
		c, err := newService().Get(t.Context(), 9, cover.Source{File: "9.gif"})
		if err != nil || c.ContentType != "image/gif" || string(c.Body) != string(gif) {
			t.Fatalf("Get = %+v, %v", c, err)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("upstream hit %d times, want 1", n)
	}

	_, err := newService().Get(t.Context(), 10, cover.Source{File: "../x.png"})
	if !errors.Is(err, cover.ErrUnavailable) {
		t.Fatalf("Get = %v, want ErrUnavailable", err)
	}
	f, err := d.Covers().CoverFailure(t.Context(), 10)
	if err != nil || f.Attempts != 1 || !f.RetryAt.Equal(time.Unix(5060, 0)) {
		t.Fatalf("failure = %+v, %v", f, err)
	}
}
