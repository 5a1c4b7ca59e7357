package handlers

import (
	"strings"
	"time"

	"lightcc-dashboard/views/components"
	"lightcc-dashboard/views/i18n"
)

const (
	// datetimeLocal is what <input type="datetime-local"> sends and takes.
	datetimeLocal = "2006-01-02T15:04"
	// maxStopAhead bounds how far ahead a stop can be scheduled.
	maxStopAhead = 365 * 24 * time.Hour
	// minStopAhead keeps a stop from racing the upstream's own clock.
	minStopAhead = time.Minute
)

// stopPresetDurations are the relative presets of the timed-stop dialog.
var stopPresetDurations = map[string]time.Duration{"1h": time.Hour, "2h": 2 * time.Hour, "4h": 4 * time.Hour}

func stopPresets(now time.Time, loc *i18n.Localizer) []components.StopPreset {
	ps := []components.StopPreset{
		{Value: "1h", Label: loc.T("timed.preset.1h")},
		{Value: "2h", Label: loc.T("timed.preset.2h")},
		{Value: "4h", Label: loc.T("timed.preset.4h")},
	}
	if tonight(now, loc.Loc).Sub(now) >= minStopAhead {
		ps = append(ps, components.StopPreset{Value: "tonight", Label: loc.T("timed.preset.tonight")})
	}
	return ps
}

// tonight is 23:59 of today in zone.
func tonight(now time.Time, zone *time.Location) time.Time {
	y, m, d := now.In(zone).Date()
	return time.Date(y, m, d, 23, 59, 0, 0, zone)
}

// stopTimeLayouts are the forms a typed stop time may take: the browser's
// datetime-local (with or without seconds) and the API's own.
var stopTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04"}

// parseStopTime reads the timed-stop form: a preset ("1h", "2h", "4h",
// "tonight") or, when the preset is empty, a wall-clock time in zone. It
// returns the instant, or the message key saying what is wrong. The time
// must be at least a minute ahead and at most a year ahead.
func parseStopTime(preset, raw string, now time.Time, zone *time.Location) (time.Time, string) {
	var at time.Time
	switch preset = strings.TrimSpace(preset); preset {
	case "1h", "2h", "4h":
		at = now.Add(stopPresetDurations[preset])
	case "tonight":
		at = tonight(now, zone)
		if at.Sub(now) < minStopAhead {
			return time.Time{}, "timed.err.tonight_past"
		}
	case "":
		raw = strings.TrimSpace(raw)
		if raw == "" {
			return time.Time{}, "timed.err.missing"
		}
		if len(raw) > len("2006-01-02T15:04:05") {
			return time.Time{}, "timed.err.format"
		}
		ok := false
		for _, layout := range stopTimeLayouts {
			if t, err := time.ParseInLocation(layout, raw, zone); err == nil {
				at, ok = t, true
				break
			}
		}
		if !ok {
			return time.Time{}, "timed.err.format"
		}
	default:
		return time.Time{}, "timed.err.format"
	}
	switch {
	case at.Sub(now) < minStopAhead:
		return time.Time{}, "timed.err.past"
	case at.Sub(now) > maxStopAhead:
		return time.Time{}, "timed.err.too_far"
	}
	return at.Truncate(time.Second), ""
}
