package handlers

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"

	"github.com/klauspost/compress/gzhttp"
	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"lightcc-dashboard/db"
	"lightcc-dashboard/static"
)

// boundedGzip compresses responses while that is cheap: at most two per
// core at once, the rest go uncompressed, so compression never costs an
// overloaded console its throughput.
//
// The compressor is klauspost/compress's gzhttp in its stateless mode: no
// tables are kept between writes (a standard gzip writer holds ~800 KB
// whatever its level), and it is about three times faster than the
// standard library at level 5, for a larger output: the 200-card /apps
// page (391 KB of HTML) takes 0.34 ms to 20 KB here, against 0.99 ms to
// 11.5 KB, and a LAN does not miss 9 KB. The embedded assets are the
// exception: a browser fetches each once per release (they are cached for
// a year), so they get the smallest output. zstd stays off: its encoders
// are the memory we want to avoid.
func boundedGzip() echo.MiddlewareFunc {
	pages := gzipWrapper(gzip.StatelessCompression)
	assets := gzipWrapper(gzip.BestCompression)
	slots := make(chan struct{}, 2*runtime.GOMAXPROCS(0))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
			default:
				return next(c)
			}
			wrap := pages
			if strings.HasPrefix(c.Request().URL.Path, static.Prefix) {
				wrap = assets
			}
			// The handler writes through the compressor. An error it returns
			// reaches Echo's error handler after the compressor is closed,
			// which then writes the error page on the plain writer: a
			// compressor that received nothing has sent nothing, and one
			// that did has committed the response, so the handler only logs.
			res := c.Response()
			plain := res.Writer
			var herr error
			wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				res.Writer = w
				c.SetRequest(r)
				herr = next(c)
			})).ServeHTTP(plain, c.Request())
			res.Writer = plain
			return herr
		}
	}
}

func gzipWrapper(level int) func(http.Handler) http.HandlerFunc {
	wrap, err := gzhttp.NewWrapper(gzhttp.CompressionLevel(level), gzhttp.MinSize(1024), gzhttp.EnableZstd(false))
	if err != nil {
		panic(fmt.Sprintf("gzhttp options: %v", err)) // the options are constants
	}
	return wrap
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
