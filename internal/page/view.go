package page

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"
)

var (
	//go:embed assets/*.html
	templates embed.FS
	//go:embed assets/page.css
	pageCSS string
	//go:embed assets/page.js
	pageJS string
)

var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"bytes":   fmtBytes,
	"rate":    fmtRate,
	"count":   fmtCount,
	"dur":     fmtDuration,
	"clock":   fmtClock,
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"late":    func(r Rule) bool { return r.Threshold > 0 && r.P99 > r.Threshold },
	"f":       num,
}).ParseFS(templates, "assets/*.html"))

// contentSecurityPolicy lets the page run its own inline script and style
// (by hash) and fetch from its own origin, and nothing else: no other
// script, no external resource, no framing (the Retry buttons must not be
// clickable through someone else's page).
var contentSecurityPolicy = strings.Join([]string{
	"default-src 'none'",
	"script-src " + cspHash(pageJS),
	"style-src " + cspHash(pageCSS),
	"img-src data:",
	"connect-src 'self'",
	"form-action 'self'",
	"base-uri 'none'",
	"frame-ancestors 'none'",
}, "; ")

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// view is what the template renders.
type view struct {
	Snapshot
	Err        string    // the backend's error: the page shows it instead of the data
	Now        time.Time // ages are relative to this: Generated, or the time of rendering
	Chart      chart
	MoreFailed int // FAILED operations beyond those listed in Failures
	CSS        template.CSS
	JS         template.JS
}

func newView(s Snapshot, err error, now time.Time) view {
	v := view{Snapshot: s, Now: now, CSS: template.CSS(pageCSS), JS: template.JS(pageJS)}
	if err != nil {
		v.Err = err.Error()
		return v
	}
	if !s.Generated.IsZero() {
		v.Now = s.Generated
	}
	v.Chart = newChart(s.Latency, v.Now)
	v.MoreFailed = max(0, s.Queue.Failed-len(s.Failures))
	return v
}

func render(w io.Writer, v view) error {
	return tmpl.ExecuteTemplate(w, "page.html", v)
}

// Age is how long before the snapshot t was, or "–" for the zero time.
func (v view) Age(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return fmtDuration(max(v.Now.Sub(t), 0).Round(time.Second))
}

// fmtDuration is a short, human duration: 850ms, 4.2s, 4m5s, 15m, 3h20m,
// 2d4h. Zero is "–": a rule without a threshold or without recent
// latency shows no number rather than a misleading 0.
func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Round(time.Second).Seconds()))
	}
	d = d.Round(time.Second)
	const day = 24 * time.Hour
	switch {
	case d < time.Hour:
		return twoUnits(d/time.Minute, "m", d%time.Minute/time.Second, "s")
	case d < 2*day:
		return twoUnits(d/time.Hour, "h", d%time.Hour/time.Minute, "m")
	default:
		return twoUnits(d/day, "d", d%day/time.Hour, "h")
	}
}

// twoUnits writes "4m5s", or "4m" when the smaller unit is zero.
func twoUnits(hi time.Duration, hiUnit string, lo time.Duration, loUnit string) string {
	if lo == 0 {
		return fmt.Sprintf("%d%s", hi, hiUnit)
	}
	return fmt.Sprintf("%d%s%d%s", hi, hiUnit, lo, loUnit)
}

// fmtBytes is a byte count in binary units: 512 B, 1.5 KiB, 20 GiB.
func fmtBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		v /= 1024
		if v < 1024 || unit == "PiB" {
			if v < 100 {
				return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit
			}
			return strconv.FormatFloat(v, 'f', 0, 64) + " " + unit
		}
	}
	panic("unreachable")
}

func fmtRate(bps float64) string {
	if !(bps > 0) || bps > 1<<62 { // also NaN
		return "0 B/s"
	}
	return fmtBytes(int64(bps)) + "/s"
}

// fmtCount groups digits in thousands: 1,234,567.
func fmtCount(n any) string {
	var s string
	switch n := n.(type) {
	case int:
		s = strconv.Itoa(n)
	case int64:
		s = strconv.FormatInt(n, 10)
	default:
		return fmt.Sprint(n)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func fmtClock(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
