package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"lightcc-dashboard/db"
	"lightcc-dashboard/handlers"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/cover"
	"lightcc-dashboard/lightcc/sim"
)

// custody decides which LightCC the console talks to, and with which key:
// LIGHTCC_API_KEY when set (it wins), else the key an administrator stored
// (sealed) on the settings page, else the built-in simulator (demo mode).
// Setting or removing the stored key switches the live client at once.
type custody struct {
	sw      *lightcc.Switch
	store   *db.DB
	box     *db.SecretBox
	envKey  string
	baseURL string // where a real key is used
	simURL  string // the simulator; "" when LIGHTCC_API_KEY is set
	opts    []lightcc.Option
	log     *slog.Logger
	// switched, when set, is called after the client changes (to drop
	// cached answers made with the old key).
	switched func()

	mu     sync.Mutex
	status handlers.KeyStatus
}

// load picks the client at start-up.
func (k *custody) load(ctx context.Context) error {
	if k.envKey != "" {
		return k.use(k.baseURL, k.envKey, handlers.KeyStatus{FromEnv: true, Last4: last4(k.envKey)})
	}
	key, err := k.store.APIKey(ctx, k.box)
	switch {
	case errors.Is(err, db.ErrNoAPIKey):
		return k.use(k.simURL, sim.DemoKey, handlers.KeyStatus{Demo: true})
	case err != nil:
		return fmt.Errorf("stored API key: %w", err)
	}
	return k.use(k.baseURL, key, handlers.KeyStatus{Stored: true, Last4: last4(key)})
}

func (k *custody) use(base, key string, st handlers.KeyStatus) error {
	c, err := lightcc.New(base, key, k.opts...)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sw == nil {
		k.sw = lightcc.NewSwitch(c)
	} else {
		k.sw.Set(c)
	}
	k.status = st
	if k.switched != nil {
		k.switched()
	}
	return nil
}

// Status says where the key in use comes from; never the key itself.
func (k *custody) Status(context.Context) handlers.KeyStatus {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.status
}

// SetKey stores a key sealed (an empty one removes it) and switches to it.
func (k *custody) SetKey(ctx context.Context, key string) error {
	if k.envKey != "" {
		return errors.New("custody: LIGHTCC_API_KEY is set and wins")
	}
	if err := k.store.SetAPIKey(ctx, k.box, key, timeNow()); err != nil {
		return err
	}
	if key == "" {
		k.log.Info("API key removed: demo mode")
		return k.use(k.simURL, sim.DemoKey, handlers.KeyStatus{Demo: true})
	}
	k.log.Info("API key replaced", "last4", last4(key))
	return k.use(k.baseURL, key, handlers.KeyStatus{Stored: true, Last4: last4(key)})
}

func last4(key string) string {
	if len(key) <= 4 {
		return "****"
	}
	return key[len(key)-4:]
}

// modeCovers serves covers from the simulator's image host in demo mode
// and from the real one otherwise.
type modeCovers struct {
	keys       *custody
	demo, real *cover.Service
}

func (m modeCovers) Serve(w http.ResponseWriter, r *http.Request, imageID int64, src cover.Source) {
	if m.demo != nil && m.keys.Status(r.Context()).Demo {
		m.demo.Serve(w, r, imageID, src)
		return
	}
	m.real.Serve(w, r, imageID, src)
}
