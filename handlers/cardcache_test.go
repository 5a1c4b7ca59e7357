package handlers

import (
	"reflect"
	"testing"
	"time"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/views/i18n"
)

// mutate changes one field to a different value of its kind.
func mutate(t *testing.T, name string, f reflect.Value) {
	t.Helper()
	switch {
	case f.Type() == reflect.TypeFor[time.Time]():
		f.Set(reflect.ValueOf(f.Interface().(time.Time).Add(time.Second)))
	case f.Kind() == reflect.String:
		f.SetString(f.String() + "x")
	case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
		f.SetInt(f.Int() + 1)
	case f.Kind() == reflect.Bool:
		f.SetBool(!f.Bool())
	case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.String:
		s := "changed"
		f.Set(reflect.ValueOf(&s))
	default:
		t.Fatalf("%s: no mutation for %s: teach the test (and cardKey) about it", name, f.Type())
	}
}

// TestCardKeyCoversEveryField changes every field of a card's inputs in
// turn: each change must give another key, or the cache would show a stale
// card. A field added to lightcc.Application, db.AppMeta or db.Owner and
// forgotten in cardKey fails here.
func TestCardKeyCoversEveryField(t *testing.T) {
	name := "n"
	a := lightcc.Application{StartTime: "2025-03-12 15:15:42", ID: "1", Name: &name, ContainerID: "c", Status: "1", System: "0",
		BillingMode: "0", RentalPrice: 198, Consume: 6, ImageID: 5, ImageTitle: "SD", CPUModel: "EPYC", GPUs: 1, SystemDisk: 1,
		DataDisk: 2, Sort: 0, GPUModel: "4090", CPUCores: 16, GPUMemory: 3, Memory: 4, CreateTime: "2025-03-12 15:15:37", StopTime: ""}
	meta := db.AppMeta{Note: "note", ScheduledStop: time.Unix(1_800_000_000, 0), Alert: ""}
	owner := db.Owner{AppID: "1", UserID: 2, Username: "mia"}
	user := &db.User{ID: 2, Role: db.RoleMember}
	c, _ := i18n.NewCatalog()
	zone, _ := time.LoadLocation("Asia/Shanghai")
	zh, en := c.For(i18n.Chinese, zone), c.For(i18n.English, zone)
	now := time.Unix(1_800_000_000, 0)
	k0 := cardKey(a, meta, owner, user, zh, now, false)

	for _, in := range []struct {
		name string
		v    any
		key  func(v any) uint64
	}{
		{"Application", &a, func(v any) uint64 { return cardKey(*v.(*lightcc.Application), meta, owner, user, zh, now, false) }},
		{"AppMeta", &meta, func(v any) uint64 { return cardKey(a, *v.(*db.AppMeta), owner, user, zh, now, false) }},
		{"Owner", &owner, func(v any) uint64 { return cardKey(a, meta, *v.(*db.Owner), user, zh, now, false) }},
	} {
		orig := reflect.ValueOf(in.v).Elem()
		for i := range orig.NumField() {
			cp := reflect.New(orig.Type())
			cp.Elem().Set(orig)
			field := orig.Type().Field(i).Name
			mutate(t, in.name+"."+field, cp.Elem().Field(i))
			if in.key(cp.Interface()) == k0 {
				t.Errorf("changing %s.%s keeps the same card", in.name, field)
			}
		}
	}
	others := map[string]uint64{
		"another user":      cardKey(a, meta, owner, &db.User{ID: 3, Role: db.RoleMember}, zh, now, false),
		"another role":      cardKey(a, meta, owner, &db.User{ID: 2, Role: db.RoleAdmin}, zh, now, false),
		"nobody signed in":  cardKey(a, meta, owner, nil, zh, now, false),
		"English":           cardKey(a, meta, owner, user, en, now, false),
		"the next minute":   cardKey(a, meta, owner, user, zh, now.Add(time.Minute), false),
		"highlighted":       cardKey(a, meta, owner, user, zh, now, true),
		"another time zone": cardKey(a, meta, owner, user, c.For(i18n.Chinese, time.UTC), now, false),
	}
	for what, k := range others {
		if k == k0 {
			t.Errorf("%s keeps the same card", what)
		}
	}
	if cardKey(a, meta, owner, user, zh, now.Add(20*time.Second), false) != k0 {
		t.Error("seconds within the minute change the key: the cache would never hit")
	}
}

func TestCardCacheServesChanges(t *testing.T) {
	env := newEnv(t)
	b := env.browser()
	card := `[data-app-id="` + sdApp + `"]`
	if st := b.get("/apps").doc.Find(card).AttrOr("data-status", ""); st != "running" {
		t.Fatalf("first view: %q", st)
	}
	b.htmx("POST", "/apps/"+sdApp+"/stop", nil)
	if st := b.get("/apps").doc.Find(card).AttrOr("data-status", ""); st != "stopping" {
		t.Errorf("after a stop the list shows %q", st)
	}
	b.htmx("POST", "/apps/"+sdApp+"/note", map[string][]string{"note": {"缓存测试"}})
	if got := b.get("/apps").text(card + ` [data-testid="card-title"]`); got != "缓存测试" {
		t.Errorf("after a note the list shows %q", got)
	}
	// The cache is one per console, shared by viewers, but a viewer never
	// gets an admin's buttons.
	if n := env.browserAs(db.RoleViewer).get("/apps").doc.Find(card + ` [data-testid="action-destroy"]`).Length(); n != 0 {
		t.Error("a viewer got a cached card with an admin's buttons")
	}
}
