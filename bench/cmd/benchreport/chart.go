package main

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
)

// The chart: one panel per case and metric, stacked; in each, a horizontal
// bar per tool for its median, with a whisker from min to max, on the
// panel's own axis from 0, and a dashed line at the limit. Tools keep their
// colour across panels; the legend at the top names them.

const (
	chartMargin = 24
	textScale   = 2 // labels: 10x14 pixel glyphs
	titleScale  = 3
	rowH        = 30
	barH        = 18
	valueW      = 130 // room right of the bars for the median
	lineGap     = 8
)

var (
	colBackground = color.RGBA{0xff, 0xff, 0xff, 0xff}
	colText       = color.RGBA{0x22, 0x22, 0x22, 0xff}
	colMuted      = color.RGBA{0x70, 0x70, 0x70, 0xff}
	colGrid       = color.RGBA{0xe2, 0xe2, 0xe2, 0xff}
	colAxis       = color.RGBA{0x55, 0x55, 0x55, 0xff}
	colWhisker    = color.RGBA{0x20, 0x20, 0x20, 0xff}
	colLimitLine  = color.RGBA{0x55, 0x55, 0x55, 0xff}
	colSeparator  = color.RGBA{0xc8, 0xc8, 0xc8, 0xff}

	colRef    = color.RGBA{0xf2, 0x8e, 0x2b, 0xff} // the reference tool (ferry): orange
	colPeers  = []color.RGBA{{0x4e, 0x79, 0xa7, 0xff}, {0x59, 0xa1, 0x4f, 0xff}, {0xb0, 0x7a, 0xa1, 0xff}, {0x76, 0xb7, 0xb2, 0xff}, {0xed, 0xc9, 0x48, 0xff}, {0xe1, 0x57, 0x59, 0xff}, {0x9c, 0x75, 0x5f, 0xff}, {0xff, 0x9d, 0xa7, 0xff}}
	colLimits = []color.RGBA{{0xa0, 0xa0, 0xa0, 0xff}, {0xc4, 0xbc, 0xb8, 0xff}, {0x80, 0x80, 0x80, 0xff}}
)

// toolColors gives every tool of the report its colour: the reference
// orange, peers from a palette in order, limits grey.
func toolColors(rep *report) map[string]color.RGBA {
	m := map[string]color.RGBA{}
	peers, limits := 0, 0
	for _, t := range rep.Tools {
		switch {
		case t == rep.Ref:
			m[t] = colRef
		case isLimit(t):
			m[t] = colLimits[limits%len(colLimits)]
			limits++
		default:
			m[t] = colPeers[peers%len(colPeers)]
			peers++
		}
	}
	return m
}

// canvas draws on img, or only measures when img is nil: the chart is laid
// out once to find its height, then drawn.
type canvas struct {
	img *image.RGBA
	w   int
}

func (c *canvas) rect(x0, y0, x1, y1 int, col color.RGBA) {
	if c.img == nil {
		return
	}
	draw.Draw(c.img, image.Rect(x0, y0, x1, y1), image.NewUniform(col), image.Point{}, draw.Src)
}

func (c *canvas) text(x, y int, s string, scale int, col color.RGBA) {
	if c.img == nil {
		return
	}
	drawText(c.img, x, y, s, scale, col)
}

// boldText draws s twice, one pixel apart.
func (c *canvas) boldText(x, y int, s string, scale int, col color.RGBA) {
	c.text(x, y, s, scale, col)
	c.text(x+1, y, s, scale, col)
}

// dashedV draws a vertical dashed line at x from y0 to y1.
func (c *canvas) dashedV(x, y0, y1 int, col color.RGBA) {
	for y := y0; y < y1; y += 8 {
		c.rect(x-1, y, x+1, min(y+5, y1), col)
	}
}

// writeChart draws the report's chart, width pixels wide, as a PNG.
func writeChart(w io.Writer, rep *report, width int) error {
	img := renderChart(rep, width)
	return (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(w, img)
}

// renderChart lays the chart out, then draws it.
func renderChart(rep *report, width int) *image.RGBA {
	h := layoutChart(&canvas{w: width}, rep)
	img := image.NewRGBA(image.Rect(0, 0, width, h))
	c := &canvas{img: img, w: width}
	c.rect(0, 0, width, h, colBackground)
	layoutChart(c, rep)
	return img
}

// layoutChart draws the whole chart on c and returns its height.
func layoutChart(c *canvas, rep *report) int {
	colors := toolColors(rep)
	lh := textHeight(textScale)
	inner := c.w - 2*chartMargin
	y := chartMargin

	title := rep.Meta.Title
	if title == "" {
		title = "Benchmarks: " + rep.Ref + " against its peers"
	}
	ts := titleScale
	if textWidth(title, ts) > inner {
		ts = textScale
	}
	c.boldText(chartMargin, y, fitText(title, inner, ts), ts, colText)
	y += textHeight(ts) + lineGap + 4
	sub := "bars: median of the runs; whiskers: min to max; dashed: servers' limit"
	if rep.Meta.Date != "" {
		sub = rep.Meta.Date + " - " + sub
	}
	c.text(chartMargin, y, fitText(sub, inner, textScale), textScale, colMuted)
	y += lh + lineGap + 6

	// The legend, wrapped.
	x := chartMargin
	for _, t := range rep.Tools {
		name := fitText(t, inner/2, textScale)
		w := 20 + 8 + textWidth(name, textScale) + 24
		if x > chartMargin && x+w > c.w-chartMargin {
			x = chartMargin
			y += lh + lineGap + 4
		}
		c.rect(x, y-2, x+20, y+lh+2, colors[t])
		c.text(x+28, y, name, textScale, colText)
		x += w
	}
	y += lh + lineGap + 12

	// The label column fits the longest tool name, up to a quarter of the width.
	labelW := 0
	for _, t := range rep.Tools {
		labelW = max(labelW, textWidth(t, textScale))
	}
	labelW = min(labelW, inner/4) + 16
	x0 := chartMargin + labelW
	x1 := c.w - chartMargin - valueW

	if len(rep.Cases) == 0 {
		c.text(chartMargin, y, "no measurements", textScale, colMuted)
		return y + lh + chartMargin
	}
	for ci, cs := range rep.Cases {
		if ci > 0 {
			c.rect(chartMargin, y, c.w-chartMargin, y+2, colSeparator)
			y += 16
		}
		head := cs.Name
		if cs.Title != "" {
			head += ": " + cs.Title
		}
		c.boldText(chartMargin, y, fitText(head, inner, textScale), textScale, colText)
		y += lh + lineGap + 4
		for _, t := range cs.Metrics {
			y = drawPanel(c, rep, cs, t, colors, x0, x1, labelW, y)
		}
		if len(cs.Metrics) == 0 {
			for _, s := range cs.Skipped {
				c.text(chartMargin, y, fitText(s.Tool+": skipped: "+s.Reason, inner, textScale), textScale, colMuted)
				y += rowH
			}
		}
		y += 8
	}
	return y + chartMargin
}

// drawPanel draws one metric of one case from y and returns the y below it.
func drawPanel(c *canvas, rep *report, cs *caseResult, t *metricTable, colors map[string]color.RGBA, x0, x1, labelW, y int) int {
	lh := textHeight(textScale)
	c.text(chartMargin, y, fitText(t.Metric+" ("+t.direction()+")", c.w-2*chartMargin, textScale), textScale, colMuted)
	y += lh + lineGap + 2

	// The skipped tools of this metric (or of the whole case) get a row too.
	var skipped []skip
	for _, s := range cs.Skipped {
		if (s.Metric == "" || s.Metric == t.Metric) && t.tool(s.Tool) == nil {
			skipped = append(skipped, s)
		}
	}
	rows := len(t.Tools) + len(skipped)
	top := y
	bottom := y + rows*rowH

	hi := 0.0
	for _, tr := range t.Tools {
		hi = math.Max(hi, tr.Value.Max)
	}
	// As many ticks as fit (up to 5 steps), each label with room around it.
	labelRoom := textWidth(fmtNum(hi*2), textScale) + 24
	step, axisMax := niceAxis(hi, max(1, min(5, (x1-x0)/labelRoom)))
	scaleX := func(v float64) int {
		v = math.Max(0, math.Min(v, axisMax))
		return x0 + int(math.Round(v/axisMax*float64(x1-x0)))
	}

	// Grid lines and the axis.
	ticks := int(math.Round(axisMax / step))
	for i := 0; i <= ticks; i++ {
		gx := scaleX(float64(i) * step)
		c.rect(gx, top-4, gx+1, bottom, colGrid)
	}
	c.rect(x0, top-4, x0+2, bottom+4, colAxis)
	c.rect(x0, bottom, x1+1, bottom+2, colAxis)

	for i, tr := range t.Tools {
		ry := top + i*rowH
		cy := ry + rowH/2
		label := fitText(tr.Tool, labelW-16, textScale)
		if tr == t.Ref {
			c.boldText(x0-12-textWidth(label, textScale), cy-lh/2, label, textScale, colText)
		} else {
			c.text(x0-12-textWidth(label, textScale), cy-lh/2, label, textScale, colText)
		}
		bx := scaleX(tr.Value.Median)
		c.rect(x0+2, cy-barH/2, max(bx, x0+3), cy+barH/2, colors[tr.Tool])
		// The whisker: min to max, with caps.
		wl, wr := scaleX(tr.Value.Min), scaleX(tr.Value.Max)
		if tr.Value.N > 1 {
			c.rect(wl, cy-1, wr+1, cy+1, colWhisker)
			c.rect(wl, cy-6, wl+2, cy+6, colWhisker)
			c.rect(wr-1, cy-6, wr+1, cy+6, colWhisker)
		}
		c.text(max(bx, wr)+10, cy-lh/2, fmtNum(tr.Value.Median), textScale, colText)
	}
	for i, s := range skipped {
		ry := top + (len(t.Tools)+i)*rowH
		cy := ry + rowH/2
		label := fitText(s.Tool, labelW-16, textScale)
		c.text(x0-12-textWidth(label, textScale), cy-lh/2, label, textScale, colMuted)
		c.text(x0+12, cy-lh/2, fitText("skipped: "+s.Reason, c.w-chartMargin-x0-12, textScale), textScale, colMuted)
	}
	if t.Limit != nil {
		c.dashedV(scaleX(t.Limit.Value.Median), top-4, top+len(t.Tools)*rowH, colLimitLine)
	}

	// Tick labels, centred under their grid line; the unit left of them,
	// under the tool names.
	y = bottom + 8
	for i := 0; i <= ticks; i++ {
		v := float64(i) * step
		s := fmtNum(v)
		gx := scaleX(v) - textWidth(s, textScale)/2
		c.text(gx, y, s, textScale, colAxis)
	}
	unit := fitText(t.Metric, labelW-16-textWidth("0", textScale), textScale)
	c.text(x0-12-textWidth(unit, textScale)-textWidth("0", textScale)/2, y, unit, textScale, colMuted)
	return y + lh + 18
}

// niceAxis picks a tick step of 1, 2, 2.5 or 5 times a power of ten that
// divides the axis into at most steps steps, and the axis end: hi rounded
// up to a step.
func niceAxis(hi float64, steps int) (step, end float64) {
	if !(hi > 0) || math.IsInf(hi, 0) {
		return 1, 1
	}
	raw := hi / float64(max(steps, 1))
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		step = m * pow
		if step >= raw {
			break
		}
	}
	end = math.Ceil(hi/step-1e-9) * step
	return step, end
}
