package db

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// auditFixture records six entries, a second apart except the last two,
// which share a second (so only the id orders them).
func auditFixture(t *testing.T, d *DB) []AuditEntry {
	t.Helper()
	ctx := context.Background()
	at := time.Unix(1_800_000_000, 0)
	entries := []AuditEntry{
		{At: at, Username: "Alice", Action: "sign_in", Outcome: "ok"},
		{At: at.Add(1 * time.Second), UserID: 7, Username: "bob", Action: "app.start", AppID: "app-1", Outcome: "ok"},
		{At: at.Add(2 * time.Second), UserID: 7, Username: "bob", Action: "app.stop", AppID: "app-1", Outcome: "failed",
			Detail: "upstream refused", UpstreamMsg: "实例状态不允许"},
		{At: at.Add(3 * time.Second), Username: "mallory", Action: "sign_in", Outcome: "denied"},
		{At: at.Add(4 * time.Second), UserID: 1, Username: "alice", Action: "app.start", AppID: "app-2", Outcome: "ok"},
		{At: at.Add(4 * time.Second), UserID: 1, Username: "alice", Action: "app.destroy", AppID: "app-2", Outcome: "ok"},
	}
	for i := range entries {
		if err := d.RecordAudit(ctx, entries[i]); err != nil {
			t.Fatalf("RecordAudit %d: %v", i, err)
		}
		entries[i].ID = int64(i + 1)
	}
	return entries
}

func ids(entries []AuditEntry) []int64 {
	out := []int64{}
	for _, e := range entries {
		out = append(out, e.ID)
	}
	return out
}

func TestAuditFilters(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	recorded := auditFixture(t, d)

	tests := []struct {
		name   string
		filter AuditFilter
		want   []int64
	}{
		{"all, newest first", AuditFilter{}, []int64{6, 5, 4, 3, 2, 1}},
		{"username", AuditFilter{Username: "bob"}, []int64{3, 2}},
		{"username any case", AuditFilter{Username: "ALICE"}, []int64{6, 5, 1}},
		{"action", AuditFilter{Action: "app.start"}, []int64{5, 2}},
		{"app", AuditFilter{AppID: "app-1"}, []int64{3, 2}},
		{"all three", AuditFilter{Username: "alice", Action: "app.start", AppID: "app-2"}, []int64{5}},
		{"no match", AuditFilter{Action: "app.start", AppID: "app-9"}, []int64{}},
		{"values are not SQL", AuditFilter{Username: "' OR 1=1 --"}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := d.AuditEntries(ctx, tt.filter, 50, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(got), tt.want) || total != len(tt.want) {
				t.Errorf("ids %v total %d, want %v total %d", ids(got), total, tt.want, len(tt.want))
			}
		})
	}

	got, _, err := d.AuditEntries(ctx, AuditFilter{Action: "app.stop"}, 50, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("app.stop entries = %v, %v", got, err)
	}
	if got[0] != recorded[2] {
		t.Errorf("round trip = %+v, want %+v", got[0], recorded[2])
	}
	var nullUsers int
	if err := d.SQL().QueryRow(`SELECT COUNT(*) FROM audit WHERE user_id IS NULL`).Scan(&nullUsers); err != nil || nullUsers != 2 {
		t.Errorf("%d entries with a NULL user_id, want 2 (%v)", nullUsers, err)
	}
}

func TestAuditPaging(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	at := time.Unix(1_800_000_000, 0)
	const n = 205
	for i := range n {
		if err := d.RecordAudit(ctx, AuditEntry{At: at.Add(time.Duration(i) * time.Second), Action: "x", Outcome: "ok"}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name          string
		limit, offset int
		wantLen       int
		wantFirst     int64
	}{
		{"first page", 10, 0, 10, n},
		{"second page", 10, 10, 10, n - 10},
		{"last partial page", 10, 200, 5, 5},
		{"past the end", 10, 500, 0, 0},
		{"zero limit is one", 0, 0, 1, n},
		{"negative limit is one", -5, 0, 1, n},
		{"limit capped at 200", 1000, 0, 200, n},
		{"negative offset is zero", 10, -3, 10, n},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total, err := d.AuditEntries(ctx, AuditFilter{}, tt.limit, tt.offset)
			if err != nil {
				t.Fatal(err)
			}
			if total != n || len(got) != tt.wantLen {
				t.Fatalf("len %d total %d, want %d and %d", len(got), total, tt.wantLen, n)
			}
			if len(got) > 0 && got[0].ID != tt.wantFirst {
				t.Errorf("first id %d, want %d", got[0].ID, tt.wantFirst)
			}
		})
	}
}

func TestAuditRecordRefused(t *testing.T) {
	d := openTest(t)
	at := time.Unix(1_800_000_000, 0)
	tests := map[string]AuditEntry{
		"zero time":     {Action: "x", Outcome: "ok"},
		"empty action":  {At: at, Outcome: "ok"},
		"empty outcome": {At: at, Action: "x"},
	}
	for name, e := range tests {
		if err := d.RecordAudit(context.Background(), e); err == nil || !strings.HasPrefix(err.Error(), "db: ") {
			t.Errorf("%s: %v, want a db: error", name, err)
		}
	}
	if n := queryInt(t, d, `SELECT COUNT(*) FROM audit`); n != 0 {
		t.Errorf("%d entries recorded, want 0", n)
	}
}

func TestAuditActions(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	if got, err := d.AuditActions(ctx); err != nil || len(got) != 0 {
		t.Fatalf("AuditActions on an empty trail = %v, %v", got, err)
	}
	auditFixture(t, d)
	got, err := d.AuditActions(ctx)
	if want := []string{"app.destroy", "app.start", "app.stop", "sign_in"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("AuditActions = %v, %v; want %v", got, err, want)
	}
}
