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
	"golang.org/x/crypto/bcrypt"

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

// UserStore keeps the console's accounts.
type UserStore interface {
	CreateUser(ctx context.Context, username, passwordHash string, role db.Role, now time.Time) (db.User, error)
	UserByID(ctx context.Context, id int64) (db.User, error)
	UserByName(ctx context.Context, username string) (db.User, error)
	Users(ctx context.Context) ([]db.User, error)
	CountUsers(ctx context.Context) (int, error)
	SetPassword(ctx context.Context, id int64, passwordHash string, now time.Time) error
	SetDisabled(ctx context.Context, id int64, disabled bool, now time.Time) error
	SetRole(ctx context.Context, id int64, role db.Role, now time.Time) error
	SetBudget(ctx context.Context, id int64, maxGPUs int, dailyBudgetFen int64, now time.Time) error
	CountActiveAdmins(ctx context.Context) (int, error)
}

// OwnerStore says who launched (or was given) which application.
type OwnerStore interface {
	SetOwner(ctx context.Context, appID string, userID int64, now time.Time) error
	ClearOwner(ctx context.Context, appID string) error
	Owners(ctx context.Context) (map[string]db.Owner, error)
	OwnerOf(ctx context.Context, appID string) (db.Owner, error)
}

// AuditStore keeps the trail of every state-changing action.
type AuditStore interface {
	RecordAudit(ctx context.Context, e db.AuditEntry) error
	AuditEntries(ctx context.Context, f db.AuditFilter, limit, offset int) ([]db.AuditEntry, int, error)
	AuditActions(ctx context.Context) ([]string, error)
}

// KeyCustody holds the LightCC API key: from the environment (which wins),
// or set by an administrator and stored sealed; with neither, demo mode.
type KeyCustody interface {
	Status(ctx context.Context) KeyStatus
	SetKey(ctx context.Context, key string) error
}

// KeyStatus is what the settings page may show about the key: never the key.
type KeyStatus struct {
	FromEnv bool   // LIGHTCC_API_KEY is set and wins
	Stored  bool   // a key set on the settings page is stored
	Last4   string // the last four characters of the key in use, for recognition
	Demo    bool   // no key: the built-in simulator
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
	Users     UserStore
	Owners    OwnerStore
	Audit     AuditStore
	Keys      KeyCustody
	// SetupCode lets the first administrator be created from another
	// machine; it is printed in the log at start-up. Empty: local only.
	SetupCode string
	// PasswordCost is the bcrypt cost (tests lower it).
	PasswordCost int
	// Metrics, when set, are measured and served at /metrics to admins.
	Metrics  *Metrics
	Catalog  *i18n.Catalog
	Location *time.Location // the zone times are shown in
	Demo     bool           // running on the built-in simulator
	Logger   *slog.Logger
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
	limiter       *loginLimiter
	cards         cardCache
	catalogueMemo memo
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
	if d.PasswordCost == 0 {
		d.PasswordCost = bcrypt.DefaultCost
	}
	if d.LinkTemplate == "" {
		d.LinkTemplate = lightcc.DefaultLinkTemplate
	}
	return &Handlers{Deps: d, limiter: newLoginLimiter(d.Now)}
}

// demo reports whether the console runs on the simulator now.
func (h *Handlers) demo(ctx context.Context) bool {
	if h.Keys != nil {
		return h.Keys.Status(ctx).Demo
	}
	return h.Demo
}
