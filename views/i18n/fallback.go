package i18n

import (
	"sync"
	"time"
)

// fallback is built once: the catalogue is embedded, so failing here means
// the binary itself is broken, which NewCatalog reports at start-up first.
var fallback = sync.OnceValue(func() *Localizer {
	c, err := NewCatalog()
	if err != nil {
		panic(err)
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("CST", 8*3600)
	}
	return c.For(Chinese, loc)
})
