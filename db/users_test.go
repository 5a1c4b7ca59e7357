package db

import (
	"context"
	"errors"
	"io/fs"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
)

var userNow = time.Unix(1_800_000_000, 0)

// mustUser creates a user with a placeholder hash.
func mustUser(t *testing.T, d *DB, name string, role Role) User {
	t.Helper()
	u, err := d.CreateUser(context.Background(), name, "hash-of-"+name, role, userNow)
	if err != nil {
		t.Fatalf("CreateUser %q: %v", name, err)
	}
	return u
}

func TestRoleValid(t *testing.T) {
	tests := map[Role]bool{
		RoleAdmin: true, RoleMember: true, RoleViewer: true,
		"": false, "Admin": false, "root": false,
	}
	for r, want := range tests {
		if got := r.Valid(); got != want {
			t.Errorf("Role(%q).Valid() = %v, want %v", r, got, want)
		}
	}
}

func TestUserCreateAndLookup(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	if n, err := d.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers on a fresh database = %d, %v", n, err)
	}
	bob := mustUser(t, d, "bob", RoleMember)
	alice := mustUser(t, d, "Alice", RoleAdmin)
	mustUser(t, d, "carol", RoleViewer)

	if alice.ID == 0 || alice.Role != RoleAdmin || alice.Disabled || alice.MaxGPUs != 0 || alice.DailyBudgetFen != 0 ||
		!alice.CreatedAt.Equal(userNow) || !alice.UpdatedAt.Equal(userNow) {
		t.Errorf("created %+v", alice)
	}
	got, err := d.UserByID(ctx, alice.ID)
	if err != nil || got != alice {
		t.Errorf("UserByID = %+v, %v; want %+v", got, err, alice)
	}
	for _, name := range []string{"Alice", "alice", "ALICE"} {
		if got, err := d.UserByName(ctx, name); err != nil || got.ID != alice.ID || got.Username != "Alice" {
			t.Errorf("UserByName(%q) = %+v, %v", name, got, err)
		}
	}
	if _, err := d.UserByID(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserByID(999) error = %v, want ErrNotFound", err)
	}
	if _, err := d.UserByName(ctx, "dave"); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserByName(dave) error = %v, want ErrNotFound", err)
	}
	users, err := d.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	if strings.Join(names, ",") != "Alice,bob,carol" {
		t.Errorf("Users order = %v, want Alice,bob,carol (case-insensitive)", names)
	}
	if users[1] != bob {
		t.Errorf("Users()[1] = %+v, want %+v", users[1], bob)
	}
	if n, err := d.CountUsers(ctx); err != nil || n != 3 {
		t.Errorf("CountUsers = %d, %v; want 3", n, err)
	}
}

func TestUserCreateRefused(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	mustUser(t, d, "alice", RoleAdmin)
	tests := []struct {
		name, username, hash string
		role                 Role
		duplicate            bool
	}{
		{"empty name", "", "h", RoleMember, false},
		{"blank name", "  ", "h", RoleMember, false},
		{"empty hash", "bob", "", RoleMember, false},
		{"bad role", "bob", "h", "owner", false},
		{"same name", "alice", "h", RoleMember, true},
		{"other case", "ALICE", "h", RoleMember, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.CreateUser(ctx, tt.username, tt.hash, tt.role, userNow)
			if err == nil {
				t.Fatal("CreateUser succeeded")
			}
			if errors.Is(err, ErrDuplicate) != tt.duplicate {
				t.Errorf("error %v: ErrDuplicate = %v, want %v", err, !tt.duplicate, tt.duplicate)
			}
			if !strings.HasPrefix(err.Error(), "db: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
	if n, _ := d.CountUsers(ctx); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}

func TestUserCreateConcurrentSameName(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	const workers = 20
	var won, dup atomic.Int32
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			name := "alice"
			if i%2 == 1 {
				name = "ALICE"
			}
			switch _, err := d.CreateUser(ctx, name, "h", RoleMember, userNow); {
			case err == nil:
				won.Add(1)
			case errors.Is(err, ErrDuplicate):
				dup.Add(1)
			default:
				t.Errorf("worker %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || dup.Load() != workers-1 {
		t.Fatalf("won %d, duplicate %d; want 1 and %d", won.Load(), dup.Load(), workers-1)
	}
	if n, _ := d.CountUsers(ctx); n != 1 {
		t.Errorf("%d users, want 1", n)
	}
}

// signIn saves a session for user id, as a sign-in would. The store's
// UserIDKey must be "uid".
func signIn(t *testing.T, s *SessionStore, id int64) {
	t.Helper()
	saveNew(t, s, map[any]any{"uid": id})
}

func TestUserChangesEndSessions(t *testing.T) {
	later := userNow.Add(time.Hour)
	tests := []struct {
		name     string
		change   func(ctx context.Context, d *DB, id int64) error
		ends     bool
		check    func(u User) bool
		bumpsUpd bool
	}{
		{"password", func(ctx context.Context, d *DB, id int64) error { return d.SetPassword(ctx, id, "new-hash", later) },
			true, func(u User) bool { return u.PasswordHash == "new-hash" }, true},
		{"disable", func(ctx context.Context, d *DB, id int64) error { return d.SetDisabled(ctx, id, true, later) },
			true, func(u User) bool { return u.Disabled }, true},
		{"enable", func(ctx context.Context, d *DB, id int64) error { return d.SetDisabled(ctx, id, false, later) },
			false, func(u User) bool { return !u.Disabled }, true},
		{"role", func(ctx context.Context, d *DB, id int64) error { return d.SetRole(ctx, id, RoleViewer, later) },
			true, func(u User) bool { return u.Role == RoleViewer }, true},
		{"same role", func(ctx context.Context, d *DB, id int64) error { return d.SetRole(ctx, id, RoleMember, later) },
			false, func(u User) bool { return u.Role == RoleMember }, false},
		{"budget", func(ctx context.Context, d *DB, id int64) error { return d.SetBudget(ctx, id, 4, 50_00, later) },
			false, func(u User) bool { return u.MaxGPUs == 4 && u.DailyBudgetFen == 50_00 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, d, _ := newTestStore(t)
			s.UserIDKey = "uid"
			ctx := context.Background()
			mustUser(t, d, "admin", RoleAdmin)
			bob := mustUser(t, d, "bob", RoleMember)
			carol := mustUser(t, d, "carol", RoleMember)
			signIn(t, s, bob.ID)
			signIn(t, s, bob.ID)
			signIn(t, s, carol.ID)

			if err := tt.change(ctx, d, bob.ID); err != nil {
				t.Fatalf("change: %v", err)
			}
			u, err := d.UserByID(ctx, bob.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(u) {
				t.Errorf("user after change = %+v", u)
			}
			if want := map[bool]time.Time{true: later, false: userNow}[tt.bumpsUpd]; !u.UpdatedAt.Equal(want) {
				t.Errorf("UpdatedAt = %v, want %v", u.UpdatedAt, want)
			}
			want := 2
			if tt.ends {
				want = 0
			}
			if n := queryInt(t, d, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, bob.ID); n != want {
				t.Errorf("bob has %d sessions, want %d", n, want)
			}
			if n := queryInt(t, d, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, carol.ID); n != 1 {
				t.Errorf("carol has %d sessions, want 1 (untouched)", n)
			}
		})
	}
}

func TestUserChangesUnknownID(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	tests := map[string]func() error{
		"SetPassword": func() error { return d.SetPassword(ctx, 42, "h", userNow) },
		"SetDisabled": func() error { return d.SetDisabled(ctx, 42, true, userNow) },
		"SetEnabled":  func() error { return d.SetDisabled(ctx, 42, false, userNow) },
		"SetRole":     func() error { return d.SetRole(ctx, 42, RoleViewer, userNow) },
		"SetBudget":   func() error { return d.SetBudget(ctx, 42, 1, 1, userNow) },
	}
	for name, f := range tests {
		if err := f(); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
}

func TestUserChangesRefused(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	bob := mustUser(t, d, "bob", RoleMember)
	tests := map[string]func() error{
		"negative GPUs":   func() error { return d.SetBudget(ctx, bob.ID, -1, 0, userNow) },
		"negative budget": func() error { return d.SetBudget(ctx, bob.ID, 0, -1, userNow) },
		"invalid role":    func() error { return d.SetRole(ctx, bob.ID, "root", userNow) },
		"empty hash":      func() error { return d.SetPassword(ctx, bob.ID, "", userNow) },
	}
	for name, f := range tests {
		if err := f(); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
	}
	if u, _ := d.UserByID(ctx, bob.ID); u != bob {
		t.Errorf("user changed by refused calls: %+v", u)
	}
}

func TestUserLastAdmin(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	count := func() int {
		t.Helper()
		n, err := d.CountActiveAdmins(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	alice := mustUser(t, d, "alice", RoleAdmin)
	bob := mustUser(t, d, "bob", RoleMember)
	if n := count(); n != 1 {
		t.Fatalf("CountActiveAdmins = %d, want 1", n)
	}
	if err := d.SetRole(ctx, alice.ID, RoleMember, userNow); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demoting the last admin: %v, want ErrLastAdmin", err)
	}
	if err := d.SetDisabled(ctx, alice.ID, true, userNow); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("disabling the last admin: %v, want ErrLastAdmin", err)
	}
	// Members are not guarded, and a disabled admin does not count.
	if err := d.SetDisabled(ctx, bob.ID, true, userNow); err != nil {
		t.Fatal(err)
	}
	if err := d.SetRole(ctx, bob.ID, RoleAdmin, userNow); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("CountActiveAdmins with a disabled admin = %d, want 1", n)
	}
	if err := d.SetRole(ctx, alice.ID, RoleViewer, userNow); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("demoting the last enabled admin: %v, want ErrLastAdmin", err)
	}
	if err := d.SetDisabled(ctx, bob.ID, false, userNow); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 2 {
		t.Errorf("CountActiveAdmins = %d, want 2", n)
	}

	// Two admins demoting each other at once: exactly one may succeed.
	var ok, last atomic.Int32
	var wg sync.WaitGroup
	for _, id := range []int64{alice.ID, bob.ID} {
		wg.Go(func() {
			switch err := d.SetRole(ctx, id, RoleMember, userNow); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrLastAdmin):
				last.Add(1)
			default:
				t.Errorf("SetRole %d: %v", id, err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || last.Load() != 1 || count() != 1 {
		t.Errorf("ok %d, refused %d, admins left %d; want 1, 1, 1", ok.Load(), last.Load(), count())
	}
}

func TestUserSessionSaveAfterPasswordChange(t *testing.T) {
	s, d, _ := newTestStore(t)
	s.UserIDKey = "uid"
	ctx := context.Background()
	bob := mustUser(t, d, "bob", RoleMember)
	_, cookie := saveNew(t, s, map[any]any{"uid": bob.ID})

	// A request that loaded the session before the change saves after it.
	r := request(cookie)
	sess, err := s.Get(r, cookieName)
	if err != nil || sess.IsNew {
		t.Fatalf("Get: IsNew=%v err=%v", sess.IsNew, err)
	}
	if err := d.SetPassword(ctx, bob.ID, "new-hash", userNow); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(r, httptest.NewRecorder(), sess); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("Save after password change: %v, want ErrSessionEnded", err)
	}
	if n := sessionRows(t, d); n != 0 {
		t.Errorf("%d session rows, want 0", n)
	}
}

func TestUserDeleteCascades(t *testing.T) {
	s, d, _ := newTestStore(t)
	s.UserIDKey = "uid"
	ctx := context.Background()
	bob := mustUser(t, d, "bob", RoleMember)
	signIn(t, s, bob.ID)
	if err := d.SetOwner(ctx, "app-1", bob.ID, userNow); err != nil {
		t.Fatal(err)
	}
	if err := d.RecordAudit(ctx, AuditEntry{At: userNow, UserID: bob.ID, Username: "bob", Action: "app.start", Outcome: "ok"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SQL().Exec(`DELETE FROM users WHERE id = ?`, bob.ID); err != nil {
		t.Fatal(err)
	}
	if n := sessionRows(t, d); n != 0 {
		t.Errorf("%d sessions left, want 0", n)
	}
	if _, err := d.OwnerOf(ctx, "app-1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("OwnerOf after user deletion: %v, want ErrNotFound", err)
	}
	entries, _, err := d.AuditEntries(ctx, AuditFilter{}, 10, 0)
	if err != nil || len(entries) != 1 || entries[0].UserID != bob.ID || entries[0].Username != "bob" {
		t.Errorf("audit trail after user deletion = %+v, %v", entries, err)
	}
}

func TestTeamMigrationDownAndUp(t *testing.T) {
	s, d, _ := newTestStore(t)
	s.UserIDKey = "uid"
	ctx := context.Background()
	bob := mustUser(t, d, "bob", RoleMember)
	signIn(t, s, bob.ID)

	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, d.SQL(), fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 4); err != nil {
		t.Fatalf("DownTo 4: %v", err)
	}
	for _, table := range []string{"users", "app_owners", "audit", "settings"} {
		if n := queryInt(t, d, `SELECT COUNT(*) FROM sqlite_master WHERE name = ?`, table); n != 0 {
			t.Errorf("table %s left after down", table)
		}
	}
	if n := queryInt(t, d, `SELECT COUNT(*) FROM pragma_table_info('sessions') WHERE name = 'user_id'`); n != 0 {
		t.Error("sessions.user_id left after down")
	}
	if n := sessionRows(t, d); n != 1 {
		t.Errorf("%d sessions after down, want the row kept", n)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("Up again: %v", err)
	}
	mustUser(t, d, "bob", RoleMember)
}
