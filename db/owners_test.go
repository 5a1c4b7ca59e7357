package db

import (
	"context"
	"errors"
	"testing"
)

func TestOwners(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	alice := mustUser(t, d, "alice", RoleAdmin)
	bob := mustUser(t, d, "bob", RoleMember)

	if all, err := d.Owners(ctx); err != nil || len(all) != 0 {
		t.Fatalf("Owners on an empty table = %v, %v", all, err)
	}
	if _, err := d.OwnerOf(ctx, "app-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("OwnerOf unowned app: %v, want ErrNotFound", err)
	}
	for _, o := range []struct {
		app  string
		user int64
	}{{"app-1", bob.ID}, {"app-2", bob.ID}, {"app-3", alice.ID}, {"app-1", alice.ID}} {
		if err := d.SetOwner(ctx, o.app, o.user, userNow); err != nil {
			t.Fatalf("SetOwner %s %d: %v", o.app, o.user, err)
		}
	}
	want := map[string]Owner{
		"app-1": {"app-1", alice.ID, "alice"}, // reassigned
		"app-2": {"app-2", bob.ID, "bob"},
		"app-3": {"app-3", alice.ID, "alice"},
	}
	all, err := d.Owners(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Errorf("Owners = %v, want %v", all, want)
	}
	for app, w := range want {
		if all[app] != w {
			t.Errorf("Owners[%s] = %+v, want %+v", app, all[app], w)
		}
		if got, err := d.OwnerOf(ctx, app); err != nil || got != w {
			t.Errorf("OwnerOf(%s) = %+v, %v; want %+v", app, got, err, w)
		}
	}

	if err := d.SetOwner(ctx, "app-2", 999, userNow); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetOwner to an unknown user: %v, want ErrNotFound", err)
	}
	if got, _ := d.OwnerOf(ctx, "app-2"); got.UserID != bob.ID {
		t.Errorf("failed SetOwner changed the owner to %+v", got)
	}

	for range 2 { // clearing is idempotent
		if err := d.ClearOwner(ctx, "app-1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.OwnerOf(ctx, "app-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("OwnerOf after ClearOwner: %v, want ErrNotFound", err)
	}
	if all, _ := d.Owners(ctx); len(all) != 2 {
		t.Errorf("Owners after ClearOwner = %v", all)
	}
}
