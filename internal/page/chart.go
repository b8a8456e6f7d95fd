package page

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The latency chart is drawn on the server as SVG: a fixed coordinate
// system (the viewBox) that the browser scales to the width of the page.
const (
	chartW, chartH = 960, 200
	padLeft        = 56 // room for the y labels
	padRight       = 12
	padTop         = 10
	padBottom      = 34 // room for the x labels and the axis title
	chartSpan      = time.Hour
	xTickEvery     = 10 * time.Minute
)

// chart is the geometry of the latency chart, in viewBox units.
type chart struct {
	Empty                  bool // no operation completed in the window
	W, H                   int
	Left, Right, Top, Base float64 // the plot area; Base is the y of zero
	PlotH, TickEnd         float64 // Base-Top; the lower end of an x tick mark
	XTicks, YTicks         []tick
	Series                 []series
	Hover                  []hover
}

type tick struct {
	Pos   float64 // x for XTicks, y for YTicks
	Label string
}

// series is one line. Minutes without operations break it; a minute with
// neighbours on neither side is drawn as a dot.
type series struct {
	Name string // "p50" or "p99", also its CSS class
	D    string // SVG path data
	Dots []dot
}

type dot struct{ X, Y float64 }

// hover is an invisible column over one minute whose title the browser
// shows as a tooltip.
type hover struct {
	X, W  float64
	Title string
}

func newChart(points []Point, end time.Time) chart {
	c := chart{W: chartW, H: chartH, Left: padLeft, Right: chartW - padRight, Top: padTop, Base: chartH - padBottom}
	c.PlotH, c.TickEnd = c.Base-c.Top, c.Base+4
	start := end.Add(-chartSpan)
	var shown []Point
	var top time.Duration
	for _, p := range points {
		if p.Time.Before(start.Add(-time.Minute)) || p.Time.After(end) {
			continue
		}
		shown = append(shown, p)
		if p.Count > 0 {
			top = max(top, p.P50, p.P99)
		}
	}
	if !hasOps(shown) {
		c.Empty = true
		return c
	}

	step := niceStep(top)
	top = max(step, (top+step-1)/step*step)
	x := func(t time.Time) float64 {
		frac := float64(t.Sub(start)) / float64(chartSpan)
		return c.Left + (c.Right-c.Left)*min(max(frac, 0), 1)
	}
	y := func(d time.Duration) float64 {
		return c.Base - (c.Base-c.Top)*float64(d)/float64(top)
	}
	for v := time.Duration(0); v <= top; v += step {
		c.YTicks = append(c.YTicks, tick{Pos: y(v), Label: axisDuration(v)})
	}
	for t := start.Truncate(xTickEvery); !t.After(end); t = t.Add(xTickEvery) {
		if !t.Before(start) {
			c.XTicks = append(c.XTicks, tick{Pos: x(t), Label: t.UTC().Format("15:04")})
		}
	}

	minuteW := (c.Right - c.Left) * float64(time.Minute) / float64(chartSpan)
	for _, p := range shown {
		if p.Count == 0 {
			continue
		}
		left := max(x(p.Time)-minuteW/2, c.Left)
		c.Hover = append(c.Hover, hover{
			X: left, W: min(x(p.Time)+minuteW/2, c.Right) - left,
			Title: fmt.Sprintf("%s UTC: %s operations; p50 %s, p95 %s, p99 %s",
				p.Time.UTC().Format("15:04"), fmtCount(p.Count), fmtDuration(p.P50), fmtDuration(p.P95), fmtDuration(p.P99)),
		})
	}
	// p99 first, so that p50 is drawn over it where they meet.
	c.Series = []series{
		line("p99", shown, x, func(p Point) float64 { return y(p.P99) }),
		line("p50", shown, x, func(p Point) float64 { return y(p.P50) }),
	}
	return c
}

func hasOps(points []Point) bool {
	for _, p := range points {
		if p.Count > 0 {
			return true
		}
	}
	return false
}

// line joins consecutive minutes that have operations; a missing or empty
// minute starts a new segment.
func line(name string, points []Point, x func(time.Time) float64, y func(Point) float64) series {
	s := series{Name: name}
	var d strings.Builder
	var seg []dot
	flush := func() {
		switch len(seg) {
		case 0:
		case 1:
			s.Dots = append(s.Dots, seg[0])
		default:
			for i, p := range seg {
				cmd := "L"
				if i == 0 {
					cmd = "M"
				}
				d.WriteString(cmd + num(p.X) + "," + num(p.Y) + " ")
			}
		}
		seg = seg[:0]
	}
	var prev time.Time
	for _, p := range points {
		if p.Count == 0 {
			flush()
			continue
		}
		if len(seg) > 0 && p.Time.Sub(prev) > 90*time.Second {
			flush()
		}
		seg = append(seg, dot{x(p.Time), y(p)})
		prev = p.Time
	}
	flush()
	s.D = strings.TrimSpace(d.String())
	return s
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// niceStep is a round step for the y axis that divides [0, top] into at
// most four intervals.
func niceStep(top time.Duration) time.Duration {
	steps := []time.Duration{
		time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
		10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
	}
	for _, s := range steps {
		if top <= 4*s {
			return s
		}
	}
	return (top + 3) / 4
}

// axisDuration labels a y tick: "0" rather than a dash.
func axisDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return fmtDuration(d)
}
