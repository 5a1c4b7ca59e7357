package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"lightcc-dashboard/static"
)

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
		middleware.GzipWithConfig(middleware.GzipConfig{Level: 5, MinLength: 1024}),
		h.withState,
	)

	// Open to everyone: health checks and the embedded assets.
	e.GET("/healthz", h.healthz)
	e.GET(static.Prefix+"*", echo.WrapHandler(static.Handler()))

	// Pages: a session and, for unsafe methods, a CSRF token.
	pg := e.Group("", h.withSession, h.checkCSRF)
	pg.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/apps") })
	pg.GET("/balance", h.balancePart)

	// Applications: the console, one card, details, actions, launchers.
	pg.GET("/apps", h.appsPage)
	pg.GET("/apps/:id", h.appDetail)
	pg.GET("/apps/:id/card", h.appCardPart)
	pg.POST("/apps/:id/start", h.startApp)
	pg.POST("/apps/:id/stop", h.stopApp)
	pg.POST("/apps/:id/timed-stop", h.timedStopApp)
	pg.POST("/apps/:id/destroy", h.destroyApp)
	pg.POST("/apps/:id/note", h.setAppNote)
	pg.GET("/apps/:id/links/:kind", h.openLink)
	pg.POST("/apps", h.createApp)

	// Images: the gallery, covers, details with the GPU picker, live price.
	pg.GET("/images", h.imagesPage)
	pg.GET("/images/:id", h.imageDetail)
	pg.GET("/images/:id/price", h.priceFragment)
	pg.GET("/covers/:id", h.coverImage)
}
