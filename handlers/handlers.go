// Package handlers turns HTTP requests into calls on the LightCC client and
// the database, and renders the results with views. It owns the route table
// (routes.go), the middleware, the one render helper and the one error
// handler; SQL and upstream calls stay behind the small interfaces below.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/sessions"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/cover"
	"lightcc-dashboard/views/i18n"
)

// Upstream is what the handlers need of the LightCC API.
type Upstream interface {
	Balance(ctx context.Context) (lightcc.Balance, error)
	ListApplications(ctx context.Context, state lightcc.RunningState) ([]lightcc.Application, error)
	ApplicationDetails(ctx context.Context, aID string) (*lightcc.ApplicationDetails, error)
	RestartApplication(ctx context.Context, aID string) error
	StopApplication(ctx context.Context, aID string) error
	TimedStopApplication(ctx context.Context, aID string, at time.Time) error
	DestroyApplication(ctx context.Context, aID string) error
	ApplicationLink(ctx context.Context, t lightcc.LinkType, aID string) (lightcc.Link, error)
	ListImages(ctx context.Context, title string) ([]lightcc.Image, error)
	ImageInfo(ctx context.Context, imageID int64) (*lightcc.ImageDetails, error)
	AvailableGPUConfig(ctx context.Context, imageID int64) ([]lightcc.GPUConfig, error)
	GPUPrice(ctx context.Context, q lightcc.PriceQuery) (lightcc.PriceQuote, error)
	CreateApplication(ctx context.Context, req lightcc.CreateRequest) (string, error)
}

// CatalogueStore keeps the image catalogue as last fetched.
type CatalogueStore interface {
	CatalogueEntry(ctx context.Context, key string) (db.CachedBody, error)
	PutCatalogueEntry(ctx context.Context, key string, body []byte, fetchedAt time.Time) error
}

// LaunchStore keeps the launch form's one-time tokens.
type LaunchStore interface {
	NewCreateToken(ctx context.Context, token, sessionID string, now time.Time) error
	CreateTokenOf(ctx context.Context, token string) (db.CreateToken, error)
	ClaimCreateToken(ctx context.Context, token, sessionID string, now time.Time) error
	FinishCreateToken(ctx context.Context, token, state, appID, message string, now time.Time) error
}

// CoverServer answers a cover picture (cover.Service).
type CoverServer interface {
	Serve(w http.ResponseWriter, r *http.Request, imageID int64, src cover.Source)
}

// AppMetaStore keeps what the API cannot: local notes and scheduled stops.
type AppMetaStore interface {
	AppMetas(ctx context.Context) (map[string]db.AppMeta, error)
	AppMetaOf(ctx context.Context, appID string) (db.AppMeta, error)
	SetAppNote(ctx context.Context, appID, note string, now time.Time) error
	SetScheduledStop(ctx context.Context, appID string, at, now time.Time) error
	ClearScheduledStop(ctx context.Context, appID string) error
	ForgetApp(ctx context.Context, appID string) error
	SetAppAlert(ctx context.Context, appID, message string, now time.Time) error
	ClearAppAlert(ctx context.Context, appID string) error
}

// SessionStore is a gorilla/sessions store that can also give a session a new id.
type SessionStore interface {
	sessions.Store
	Rotate(r *http.Request, w http.ResponseWriter, s *sessions.Session) error
}

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps is everything the handlers are built from.
type Deps struct {
	Upstream  Upstream
	Sessions  SessionStore
	DB        Pinger
	AppMeta   AppMetaStore
	Catalogue CatalogueStore
	Launches  LaunchStore
	Covers    CoverServer
	Catalog   *i18n.Catalog
	Location  *time.Location // the zone times are shown in
	Demo      bool           // running on the built-in simulator
	Logger    *slog.Logger
	// PageTimeout bounds the upstream calls one page makes.
	PageTimeout time.Duration
	// SecureCookies marks cookies Secure even on plain HTTP (behind a TLS proxy).
	SecureCookies bool
	// LinkTemplate composes application links (lightcc.ComposeLink).
	LinkTemplate string
	// Now is the clock (tests set it); nil means time.Now.
	Now func() time.Time
}

// Handlers serves the console.
type Handlers struct {
	Deps
}

// New returns the console's handlers.
func New(d Deps) *Handlers {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.PageTimeout <= 0 {
		d.PageTimeout = 12 * time.Second
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.LinkTemplate == "" {
		d.LinkTemplate = lightcc.DefaultLinkTemplate
	}
	return &Handlers{Deps: d}
}
