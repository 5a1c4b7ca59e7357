package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/sync/errgroup"

	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/lightcc/cover"
	"lightcc-dashboard/views/components"
	"lightcc-dashboard/views/i18n"
	"lightcc-dashboard/views/pages"
)

// maxQueryRunes bounds the gallery search.
const maxQueryRunes = 60

// imagesPage is the gallery, searchable by title as one types. The search
// filters the cached catalogue here rather than asking LightCC per
// keystroke. An htmx search gets only the gallery.
func (h *Handlers) imagesPage(c echo.Context) error {
	rs := requestOf(c)
	q := strings.TrimSpace(c.QueryParam("q"))
	if utf8.RuneCountInString(q) > maxQueryRunes || !utf8.ValidString(q) {
		return &userError{status: http.StatusBadRequest, msgKey: "error.bad_request"}
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	var (
		imgs    []lightcc.Image
		fresh   freshness
		listErr error
		balance components.BalanceProps
	)
	var g errgroup.Group
	g.Go(func() error { imgs, fresh, listErr = h.images(ctx); return nil })
	if !rs.HX.WantsFragment() {
		g.Go(func() error { balance = h.fetchBalance(ctx, rs.Loc); return nil })
	}
	_ = g.Wait()

	vm := pages.ImagesPage{Shell: h.shell(c, rs.Loc.T("images.title"), "images", &balance), Query: q, Stale: fresh.note(h.Now(), rs.Loc)}
	status := http.StatusOK
	if listErr != nil {
		status, vm.Error = explain(listErr, rs.Loc)
		h.Logger.WarnContext(ctx, "image list unavailable", "err", listErr)
	}
	needle := strings.ToLower(q)
	for _, im := range imgs {
		if needle == "" || strings.Contains(strings.ToLower(im.Title), needle) {
			vm.Cards = append(vm.Cards, imageCard(im, rs.Loc))
		}
	}
	fragment := ""
	if rs.HX.Target == "gallery" {
		fragment = "gallery"
	}
	return h.render(c, status, pages.Images(vm), fragment)
}

func imageCard(im lightcc.Image, loc *i18n.Localizer) pages.ImageCard {
	sys := "linux"
	if im.SystemType == lightcc.SystemWindows {
		sys = "windows"
	}
	return pages.ImageCard{
		ID: strconv.FormatInt(im.ID, 10), Title: im.Title, Description: im.Description,
		CoverURL: coverURL(im.ID), Likes: loc.Number(im.LikeNum), SystemKey: sys,
		System: loc.T(im.SystemType.LabelKey()), Price: imagePrice(im.Price, loc),
	}
}

func coverURL(id int64) string { return "/covers/" + strconv.FormatInt(id, 10) }

func imagePrice(p lightcc.Money, loc *i18n.Localizer) string {
	if p <= 0 {
		return loc.T("images.free")
	}
	return loc.Money(int64(p))
}

// coverImage serves an image's cover from our cache (fetched once from the
// image host), or a placeholder.
func (h *Handlers) coverImage(c echo.Context) error {
	id, err := imageIDParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	im, found, err := h.imageFromList(ctx, id)
	if err != nil {
		h.Logger.WarnContext(ctx, "cover: catalogue unavailable", "image", id, "err", err)
	}
	if err == nil && !found {
		return &userError{status: http.StatusNotFound, msgKey: "images.not_found"}
	}
	// Without the catalogue the source is unknown; the cover service then
	// serves what it cached, or the placeholder.
	h.Covers.Serve(c.Response(), c.Request().WithContext(ctx), id, cover.Source{URL: im.CoverImgURL, File: im.CoverImg})
	return nil
}

// imageDetail shows one image and its launch form.
func (h *Handlers) imageDetail(c echo.Context) error {
	id, err := imageIDParam(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	page, err := h.imageDetailPage(ctx, c, id, defaultSelection(), "", "")
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, pages.ImageDetail(page))
}

// imageDetailPage builds the details page with a picker for sel; errMsg is
// a refused launch's reason. The form carries token, or a fresh one-time
// token when token is empty.
func (h *Handlers) imageDetailPage(ctx context.Context, c echo.Context, id int64, sel selection, errMsg, token string) (pages.ImageDetailPage, error) {
	rs := requestOf(c)
	var (
		info    *lightcc.ImageDetails
		fresh   freshness
		infoErr error
		cfgs    []lightcc.GPUConfig
		cfgErr  error
		balance components.BalanceProps
		money   *lightcc.Balance
	)
	var g errgroup.Group
	g.Go(func() error { info, fresh, infoErr = h.imageInfo(ctx, id); return nil })
	g.Go(func() error { cfgs, cfgErr = h.Upstream.AvailableGPUConfig(ctx, id); return nil })
	g.Go(func() error {
		if b, err := h.Upstream.Balance(ctx); err == nil {
			money, balance = &b, balanceProps(b, rs.Loc)
		} else {
			h.Logger.WarnContext(ctx, "balance unavailable", "err", err)
			balance = components.BalanceProps{Loaded: true}
		}
		return nil
	})
	_ = g.Wait()
	if infoErr != nil {
		var ae *lightcc.APIError
		if errors.As(infoErr, &ae) && !errors.Is(infoErr, lightcc.ErrUnauthorized) {
			if _, found, err := h.imageFromList(ctx, id); err == nil && !found {
				return pages.ImageDetailPage{}, &userError{status: http.StatusNotFound, msgKey: "images.not_found", err: infoErr}
			}
		}
		return pages.ImageDetailPage{}, infoErr
	}
	if token == "" {
		var err error
		if token, err = h.newLaunchToken(ctx, rs); err != nil {
			return pages.ImageDetailPage{}, err
		}
	}
	picker := h.pickerProps(ctx, rs, id, info.Title, cfgs, cfgErr, sel, money, token)
	picker.Error = errMsg
	return pages.ImageDetailPage{
		Shell:       h.shell(c, info.Title, "images", &balance),
		Title:       info.Title,
		Description: info.Description,
		CoverURL:    coverURL(id),
		Facts:       imageFacts(info, rs.Loc),
		Stale:       fresh.note(h.Now(), rs.Loc),
		Picker:      picker,
	}, nil
}

func imageFacts(d *lightcc.ImageDetails, loc *i18n.Localizer) []components.Spec {
	facts := []components.Spec{{Label: loc.T("fact.system"), Value: loc.T(d.SystemType.LabelKey())}}
	if d.ApplicationImageType != nil && d.ApplicationImageType.Name != "" {
		facts = append(facts, components.Spec{Label: loc.T("fact.type"), Value: d.ApplicationImageType.Name})
	}
	facts = append(facts,
		components.Spec{Label: loc.T("fact.tag"), Value: d.FileDirectory},
		components.Spec{Label: loc.T("fact.ports"), Value: d.Ports},
		components.Spec{Label: loc.T("fact.likes"), Value: loc.Number(d.LikeNum)},
		components.Spec{Label: loc.T("fact.price"), Value: imagePrice(d.Price, loc)},
	)
	return facts
}

// priceFragment is the price of the picker's current choice, asked on
// every change, with the fields whose options depend on the choice.
func (h *Handlers) priceFragment(c echo.Context) error {
	id, err := imageIDParam(c)
	if err != nil {
		return err
	}
	rs := requestOf(c)
	ctx, cancel := context.WithTimeout(c.Request().Context(), h.PageTimeout)
	defer cancel()
	var (
		cfgs   []lightcc.GPUConfig
		cfgErr error
		money  *lightcc.Balance
		title  string
	)
	var g errgroup.Group
	g.Go(func() error { cfgs, cfgErr = h.Upstream.AvailableGPUConfig(ctx, id); return nil })
	g.Go(func() error {
		if b, err := h.Upstream.Balance(ctx); err == nil {
			money = &b
		}
		return nil
	})
	g.Go(func() error {
		if info, _, err := h.imageInfo(ctx, id); err == nil {
			title = info.Title
		}
		return nil
	})
	_ = g.Wait()
	sel := readSelection(func(k string) string { return c.QueryParam(k) })
	p := h.pickerProps(ctx, rs, id, title, cfgs, cfgErr, sel, money, "")
	return h.renderPart(c, http.StatusOK, pages.PriceUpdate(p))
}

// imageIDParam is the :id path parameter as a positive image id.
func imageIDParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &userError{status: http.StatusNotFound, msgKey: "images.not_found"}
	}
	return id, nil
}
