package db

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCreateTokenClaimedOnce(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Unix(1_800_000_000, 0)
	if err := d.NewCreateToken(ctx, "tok", "sess", now); err != nil {
		t.Fatal(err)
	}
	if err := d.ClaimCreateToken(ctx, "tok", "other-session", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("another session's claim: %v", err)
	}
	if err := d.ClaimCreateToken(ctx, "nope", "sess", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown token: %v", err)
	}
	var won, taken atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			switch err := d.ClaimCreateToken(ctx, "tok", "sess", now); {
			case err == nil:
				won.Add(1)
			case errors.Is(err, ErrTokenTaken):
				taken.Add(1)
			default:
				t.Errorf("claim: %v", err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || taken.Load() != 19 {
		t.Fatalf("won %d, taken %d", won.Load(), taken.Load())
	}
	if err := d.FinishCreateToken(ctx, "tok", TokenDone, "1933362172036460544", "", now); err != nil {
		t.Fatal(err)
	}
	tok, err := d.CreateTokenOf(ctx, "tok")
	if err != nil || tok.State != TokenDone || tok.AppID != "1933362172036460544" {
		t.Fatalf("token %+v %v", tok, err)
	}
	if n, err := d.SweepCreateTokens(ctx, now.Add(time.Second)); err != nil || n != 1 {
		t.Errorf("sweep: %d %v", n, err)
	}
}

func TestCatalogueCacheAndAlerts(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Unix(1_800_000_000, 0)
	if _, err := d.CatalogueEntry(ctx, "images"); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty cache: %v", err)
	}
	if err := d.PutCatalogueEntry(ctx, "images", []byte(`[1]`), now); err != nil {
		t.Fatal(err)
	}
	if err := d.PutCatalogueEntry(ctx, "images", []byte(`[1,2]`), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	c, err := d.CatalogueEntry(ctx, "images")
	if err != nil || string(c.Body) != "[1,2]" || !c.FetchedAt.Equal(now.Add(time.Minute)) {
		t.Errorf("cache %+v %v", c, err)
	}
	if err := d.SetAppAlert(ctx, "a", "自动停止设置失败", now); err != nil {
		t.Fatal(err)
	}
	if m, _ := d.AppMetaOf(ctx, "a"); m.Alert != "自动停止设置失败" {
		t.Errorf("alert %+v", m)
	}
	if all, _ := d.AppMetas(ctx); all["a"].Alert == "" {
		t.Error("alert missing from AppMetas")
	}
	if err := d.ClearAppAlert(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if m, _ := d.AppMetaOf(ctx, "a"); m.Alert != "" {
		t.Errorf("alert after clear %+v", m)
	}
}
