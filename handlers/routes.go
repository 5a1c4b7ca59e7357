package handlers

import (
	"net/http"
	"runtime"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"lightcc-dashboard/db"
	"lightcc-dashboard/static"
)

// gzipLevel balances size and CPU for HTML.
const gzipLevel = 5

// boundedGzip compresses responses while that is cheap: at most two per
// core at once, the rest go uncompressed. Each compressor holds about
// 700 KB of tables whatever its level, and compressing is CPU work, so
// compressing everything under load only costs memory and throughput.
// Measured with make load, 100 viewers: compressing every response held the
// console at 180 MiB and 1,800 pages/s; without compression, 35 MiB and
// 3,100 pages/s.
func boundedGzip() echo.MiddlewareFunc {
	gz := middleware.GzipWithConfig(middleware.GzipConfig{Level: gzipLevel, MinLength: 1024})
	slots := make(chan struct{}, 2*runtime.GOMAXPROCS(0))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		compressed := gz(next)
		return func(c echo.Context) error {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				return compressed(c)
			default:
				return next(c)
			}
		}
	}
}

// contentSecurityPolicy allows nothing inline and nothing from elsewhere:
// every asset is ours, so the intranet needs no internet.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Register installs the middleware, the error handler and the whole route
// table on e. Read it top to bottom to find any page.
func (h *Handlers) Register(e *echo.Echo) {
	e.HTTPErrorHandler = h.handleError
	e.Use(
		middleware.RequestID(),
		h.requestLogger(),
		middleware.RecoverWithConfig(middleware.RecoverConfig{LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			h.Logger.Error("panic", "err", err, "path", c.Request().URL.Path, "stack", string(stack))
			return err
		}}),
		middleware.SecureWithConfig(middleware.SecureConfig{
			XSSProtection: "0", ContentTypeNosniff: "nosniff", XFrameOptions: "DENY",
			ReferrerPolicy: "same-origin", ContentSecurityPolicy: contentSecurityPolicy,
		}),
		middleware.BodyLimit("1M"),
		boundedGzip(),
		h.withState,
	)
	if h.Metrics != nil {
		e.Use(h.Metrics.middleware)
	}

	// Open to everyone: health checks and the embedded assets.
	e.GET("/healthz", h.healthz)
	e.GET(static.Prefix+"*", echo.WrapHandler(static.Handler()))

	// Everything else has a session and, for unsafe methods, a CSRF token.
	pg := e.Group("", h.withSession, h.checkCSRF)
	pg.GET("/login", h.loginPage)
	pg.POST("/login", h.login)
	pg.GET("/setup", h.setupPage)
	pg.POST("/setup", h.setupPage)

	// Signed in: every role may look, launchers included.
	in := pg.Group("", h.withUser, h.limitUnsafe())
	in.POST("/logout", h.logout)
	in.POST("/welcome/dismiss", h.dismissWelcome)
	in.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/apps") })
	in.GET("/balance", h.balancePart)
	in.GET("/apps", h.appsPage)
	in.GET("/apps/:id", h.appDetail)
	in.GET("/apps/:id/card", h.appCardPart)
	in.GET("/apps/:id/links/:kind", h.openLink)
	in.GET("/images", h.imagesPage)
	in.GET("/images/:id", h.imageDetail)
	in.GET("/images/:id/price", h.priceFragment)
	in.GET("/covers/:id", h.coverImage)

	// Changing things: members and admins; an application only by its
	// owner or an admin (ownsApp). Roles are checked per route, not per
	// group: an Echo group's middleware would also run for unknown paths
	// and answer 403 where 404 is the truth.
	canAct, isAdmin := h.allow(db.RoleAdmin, db.RoleMember), h.allow(db.RoleAdmin)
	in.POST("/apps", h.createApp, canAct)
	in.POST("/apps/:id/start", h.startApp, canAct, h.ownsApp)
	in.POST("/apps/:id/stop", h.stopApp, canAct, h.ownsApp)
	in.POST("/apps/:id/timed-stop", h.timedStopApp, canAct, h.ownsApp)
	in.POST("/apps/:id/destroy", h.destroyApp, canAct, h.ownsApp)
	in.POST("/apps/:id/note", h.setAppNote, canAct, h.ownsApp)
	in.GET("/apps/:id/dialog/:kind", h.appDialog, canAct, h.ownsApp)

	// Administration: admins only.
	in.POST("/apps/:id/owner", h.assignOwner, isAdmin)
	in.GET("/admin/users", h.usersPage, isAdmin)
	in.POST("/admin/users", h.createUser, isAdmin)
	in.POST("/admin/users/:id", h.updateUser, isAdmin)
	in.GET("/admin/settings", h.settingsPage, isAdmin)
	in.POST("/admin/settings/key", h.setKey, isAdmin)
	in.POST("/admin/settings/test", h.testKey, isAdmin)
	in.GET("/audit", h.auditPage, isAdmin)
	if h.Metrics != nil {
		in.GET("/metrics", h.Metrics.Handler(), isAdmin)
	}
}
