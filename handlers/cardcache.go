package handlers

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/a-h/templ"

	"lightcc-dashboard/db"
	"lightcc-dashboard/lightcc"
	"lightcc-dashboard/views/components"
	"lightcc-dashboard/views/i18n"
)

// maxCachedCards bounds the card cache; past it the cache starts over.
const maxCachedCards = 4096

// cardCache keeps rendered cards by a key of everything a card shows: a
// team polling the same 200 applications renders each card once per change
// (or per minute, for the relative times), not once per page view.
type cardCache struct {
	mu sync.Mutex
	m  map[uint64]string // kept as strings: templ.Raw takes one without a copy
}

func (cc *cardCache) get(k uint64) (string, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	b, ok := cc.m[k]
	return b, ok
}

func (cc *cardCache) put(k uint64, html string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.m == nil || len(cc.m) >= maxCachedCards {
		cc.m = make(map[uint64]string, 256)
	}
	cc.m[k] = html
}

// cardKey hashes every input of a card. TestCardKeyCoversEveryField
// changes each field of its inputs in turn and requires the key to change,
// so a field added to a card's inputs cannot be forgotten here.
func cardKey(a lightcc.Application, meta db.AppMeta, owner db.Owner, user *db.User, loc *i18n.Localizer, now time.Time, highlight bool) uint64 {
	h := fnv.New64a()
	str := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	num := func(v int64) { str(strconv.FormatInt(v, 10)) }
	opt := func(p *string) {
		if p == nil {
			str("\x00nil")
			return
		}
		str(*p)
	}
	str(string(a.StartTime))
	str(a.ID)
	opt(a.Name)
	str(a.ContainerID)
	str(string(a.Status))
	str(string(a.System))
	str(string(a.BillingMode))
	num(int64(a.RentalPrice))
	num(int64(a.Consume))
	num(a.ImageID)
	str(a.ImageTitle)
	str(a.CPUModel)
	num(int64(a.GPUs))
	num(int64(a.SystemDisk))
	num(int64(a.DataDisk))
	num(int64(a.Sort))
	str(a.GPUModel)
	num(int64(a.CPUCores))
	num(int64(a.GPUMemory))
	num(int64(a.Memory))
	str(string(a.CreateTime))
	str(string(a.StopTime))
	str(meta.Note)
	num(meta.ScheduledStop.UnixNano())
	str(meta.Alert)
	num(owner.UserID)
	str(owner.Username)
	str(owner.AppID)
	if user != nil {
		num(user.ID)
		str(string(user.Role))
	} else {
		str("\x00anonymous")
	}
	str(string(loc.Lang))
	str(loc.Loc.String())
	num(now.Truncate(time.Minute).Unix()) // relative times, countdowns and presets move by the minute
	if highlight {
		str("highlight")
	}
	return h.Sum64()
}

// renderedCard is a card from the cache, or rendered and kept.
func (h *Handlers) renderedCard(ctx context.Context, a lightcc.Application, meta db.AppMeta, owner db.Owner, user *db.User, loc *i18n.Localizer, now time.Time, highlight bool) templ.Component {
	k := cardKey(a, meta, owner, user, loc, now, highlight)
	if html, ok := h.cards.get(k); ok {
		return templ.Raw(html)
	}
	p := h.cardProps(a, meta, owner, user, now, loc)
	p.Highlight = highlight
	var buf bytes.Buffer
	if err := components.AppCard(p).Render(ctx, &buf); err != nil {
		// Rendered again, in the page, where the error will surface.
		return components.AppCard(p)
	}
	html := buf.String()
	h.cards.put(k, html)
	return templ.Raw(html)
}
