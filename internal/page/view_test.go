package page

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestPageFormat(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "–"}, {-time.Second, "–"}, {400 * time.Microsecond, "400µs"}, {850 * time.Millisecond, "850ms"},
		{4200 * time.Millisecond, "4.2s"}, {41 * time.Second, "41s"}, {4*time.Minute + 5*time.Second, "4m5s"},
		{15 * time.Minute, "15m"}, {time.Hour, "1h"}, {3*time.Hour + 20*time.Minute, "3h20m"},
		{47 * time.Hour, "47h"}, {52 * time.Hour, "2d4h"}, {59*time.Minute + 59600*time.Millisecond, "1h"},
	} {
		if got := fmtDuration(tc.d); got != tc.want {
			t.Errorf("fmtDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KiB"}, {12 << 20, "12.0 MiB"}, {300 << 30, "300 GiB"}, {5 << 50, "5.0 PiB"},
	} {
		if got := fmtBytes(tc.n); got != tc.want {
			t.Errorf("fmtBytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    any
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {int64(1482113), "1,482,113"}, {-1234, "-1,234"},
	} {
		if got := fmtCount(tc.n); got != tc.want {
			t.Errorf("fmtCount(%v) = %q, want %q", tc.n, got, tc.want)
		}
	}
	for _, bps := range []float64{math.NaN(), math.Inf(1), -5} {
		if got := fmtRate(bps); got != "0 B/s" {
			t.Errorf("fmtRate(%v) = %q", bps, got)
		}
	}
}

func TestPageChart(t *testing.T) {
	end := time.Date(2026, 5, 1, 12, 0, 30, 0, time.UTC)
	at := func(min int) time.Time { return end.Truncate(time.Minute).Add(time.Duration(min) * time.Minute) }

	if c := newChart(nil, end); !c.Empty {
		t.Error("no points: not the empty state")
	}
	quiet := []Point{{Time: at(-2)}, {Time: at(-1)}, {Time: at(-90), Count: 5, P50: time.Second, P99: time.Second}}
	if c := newChart(quiet, end); !c.Empty {
		t.Error("minutes without operations, and one outside the hour: not the empty state")
	}

	// Two joined minutes, a gap, then a lone minute drawn as a dot.
	points := []Point{
		{Time: at(-10), Count: 3, P50: time.Second, P99: 3 * time.Second},
		{Time: at(-9), Count: 4, P50: 2 * time.Second, P99: 7 * time.Second},
		{Time: at(-5), Count: 1, P50: time.Second, P99: time.Second},
	}
	c := newChart(points, end)
	if c.Empty {
		t.Fatal("empty state despite operations")
	}
	for _, s := range c.Series {
		if strings.Count(s.D, "M") != 1 || strings.Count(s.D, "L") != 1 || len(s.Dots) != 1 {
			t.Errorf("series %s: path %q, dots %v; want one two-point segment and one dot", s.Name, s.D, s.Dots)
		}
	}
	// p99 peaks at 7s: the axis runs to 8s in steps of 2s.
	var labels []string
	for _, tk := range c.YTicks {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, " "); got != "0 2.0s 4.0s 6.0s 8.0s" {
		t.Errorf("y labels %q", got)
	}
	if got := c.YTicks[len(c.YTicks)-1].Pos; got != c.Top {
		t.Errorf("top tick at %v, want the top of the plot %v", got, c.Top)
	}
	var xs []string
	for _, tk := range c.XTicks {
		xs = append(xs, tk.Label)
	}
	if got := strings.Join(xs, " "); got != "11:10 11:20 11:30 11:40 11:50 12:00" {
		t.Errorf("x labels %q", got)
	}
	if len(c.Hover) != 3 || !strings.Contains(c.Hover[1].Title, "11:51 UTC: 4 operations; p50 2.0s, p95 –, p99 7.0s") {
		t.Errorf("hover titles %+v", c.Hover)
	}
	for _, h := range c.Hover {
		if h.X < c.Left || h.X+h.W > c.Right+0.01 {
			t.Errorf("hover column %+v outside the plot [%v, %v]", h, c.Left, c.Right)
		}
	}
}
