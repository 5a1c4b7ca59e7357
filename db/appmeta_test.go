package db

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestAppMeta(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	now := time.Unix(1_800_000_000, 0)
	if m, err := d.AppMetaOf(ctx, "a"); err != nil || m.Note != "" || !m.ScheduledStop.IsZero() {
		t.Fatalf("empty: %+v %v", m, err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.SetAppNote(ctx, "a", "海报组", now))
	must(d.SetAppNote(ctx, "a", "海报组 v2", now))
	must(d.SetScheduledStop(ctx, "a", now.Add(time.Hour), now))
	must(d.SetScheduledStop(ctx, "b", now.Add(2*time.Hour), now))
	all, err := d.AppMetas(ctx)
	must(err)
	if all["a"].Note != "海报组 v2" || !all["a"].ScheduledStop.Equal(now.Add(time.Hour)) || all["b"].Note != "" || !all["b"].ScheduledStop.Equal(now.Add(2*time.Hour)) || len(all) != 2 {
		t.Fatalf("all = %+v", all)
	}
	must(d.ClearScheduledStop(ctx, "a"))
	must(d.SetAppNote(ctx, "b", "", now))
	if m, _ := d.AppMetaOf(ctx, "a"); m.Note != "海报组 v2" || !m.ScheduledStop.IsZero() {
		t.Errorf("after clear: %+v", m)
	}
	if m, _ := d.AppMetaOf(ctx, "b"); m.Note != "" || m.ScheduledStop.IsZero() {
		t.Errorf("after empty note: %+v", m)
	}
	must(d.ForgetApp(ctx, "a"))
	must(d.ForgetApp(ctx, "b"))
	if all, _ := d.AppMetas(ctx); len(all) != 0 {
		t.Errorf("after forget: %+v", all)
	}
}
