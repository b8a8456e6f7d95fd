package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"strings"
	"testing"
)

func testReport(t *testing.T) *report {
	t.Helper()
	lines, err := os.ReadFile("testdata/measurements.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	metaJSON, err := os.ReadFile("testdata/meta.json")
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, string(lines), string(metaJSON))
}

func TestChartPNG(t *testing.T) {
	rep := testReport(t)
	var buf bytes.Buffer
	if err := writeChart(&buf, rep, 1200); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	wantH := layoutChart(&canvas{w: 1200}, rep)
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != wantH || wantH < 600 {
		t.Fatalf("chart is %v, want 1200 x %d (and taller than 600 for 4 panels)", b.Size(), wantH)
	}

	counts := map[color.RGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	if len(counts) < 8 {
		t.Errorf("only %d distinct colours", len(counts))
	}
	if white := counts[colBackground]; white > b.Dx()*b.Dy()*97/100 {
		t.Errorf("%d of %d pixels are background: blank?", white, b.Dx()*b.Dy())
	}
	// Every tool's colour is there: its bar and its legend swatch.
	for tool, col := range toolColors(rep) {
		if counts[col] < 300 {
			t.Errorf("%s's colour %v covers %d pixels", tool, col, counts[col])
		}
	}
	if toolColors(rep)["ferry"] != colRef {
		t.Error("ferry is not drawn in the reference colour")
	}
	if counts[colText] == 0 {
		t.Error("no text drawn")
	}
}

func TestChartColoursStable(t *testing.T) {
	rep := parse(t, `
{"case":"a","tool":"rclone","metric":"m","value":1}
{"case":"a","tool":"limit","metric":"m","value":3}
{"case":"b","tool":"ferry","metric":"m","value":2}
{"case":"b","tool":"mc mirror","metric":"m","value":2}
`, "")
	c := toolColors(rep)
	if c["ferry"] != colRef || c["rclone"] != colPeers[0] || c["mc mirror"] != colPeers[1] || c["limit"] != colLimits[0] {
		t.Errorf("colours = %v", c)
	}
}

func TestChartEdgeCases(t *testing.T) {
	for name, lines := range map[string]string{
		"empty":        "",
		"only skipped": `{"case":"c","tool":"rclone","skipped":"no"}`,
		"zeros":        `{"case":"c","tool":"ferry","metric":"m","value":0}`,
		"long names": `{"case":"c","title":"` + strings.Repeat("very long title ", 20) + `","tool":"` +
			strings.Repeat("x", 200) + `","metric":"m","value":1e9}`,
	} {
		rep := parse(t, lines, "")
		img := renderChart(rep, 400)
		if img.Bounds().Dx() != 400 || img.Bounds().Dy() < 50 {
			t.Errorf("%s: chart is %v", name, img.Bounds())
		}
	}
}

func TestNiceAxis(t *testing.T) {
	for _, tc := range []struct {
		hi    float64
		steps int
		step  float64
		end   float64
	}{
		{1250, 5, 250, 1250}, {1251, 5, 500, 1500}, {901, 5, 200, 1000}, {1010, 5, 250, 1250}, {0, 5, 1, 1},
		{0.3, 5, 0.1, 0.3}, {7, 5, 2, 8}, {1010, 2, 1000, 2000}, {250, 3, 100, 300}, {250, 0, 250, 250},
	} {
		step, end := niceAxis(tc.hi, tc.steps)
		if math.Abs(step-tc.step) > 1e-9 || math.Abs(end-tc.end) > 1e-9 {
			t.Errorf("niceAxis(%v, %d) = %v, %v; want %v, %v", tc.hi, tc.steps, step, end, tc.step, tc.end)
		}
	}
}

func TestFont(t *testing.T) {
	for _, tc := range []struct {
		s     string
		scale int
		want  int
	}{
		{"", 1, 0}, {"A", 1, 5}, {"AB", 1, 11}, {"AB", 2, 22}, {"ferry 1.80x", 2, 130}, {"a->b", 1, 23}, {"a→b", 1, 23},
	} {
		if got := textWidth(tc.s, tc.scale); got != tc.want {
			t.Errorf("textWidth(%q, %d) = %d, want %d", tc.s, tc.scale, got, tc.want)
		}
	}
	if textHeight(2) != 16 {
		t.Errorf("textHeight(2) = %d", textHeight(2))
	}

	// Every printable character but space has pixels, within 5 x 8.
	for r := rune(0x21); r <= 0x7e; r++ {
		g := glyph(r)
		if len(g) != glyphW || bytes.Equal(g, make([]byte, glyphW)) {
			t.Errorf("glyph %q is %x", r, g)
		}
	}
	if !bytes.Equal(glyph('é'), glyph('?')) {
		t.Error("a character outside ASCII is not drawn as ?")
	}

	// Drawn pixels match the glyph's bits, scaled: 'I' is 2 + 7 + 2 bits,
	// 'T' 1 + 1 + 7 + 1 + 1, and the descender of 'g' reaches the 8th row.
	for _, tc := range []struct {
		s     string
		scale int
		want  int
	}{{"I", 1, 11}, {"I", 3, 99}, {"T", 2, 44}, {"IT", 1, 22}, {" ", 2, 0}} {
		img := image.NewRGBA(image.Rect(0, 0, 40, 30))
		end := drawText(img, 1, 1, tc.s, tc.scale, color.Black)
		if end != 1+len(tc.s)*glyphAdvance*tc.scale {
			t.Errorf("drawText(%q) ended at x %d", tc.s, end)
		}
		n := 0
		for i := 3; i < len(img.Pix); i += 4 {
			if img.Pix[i] != 0 {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("drawText(%q, scale %d) set %d pixels, want %d", tc.s, tc.scale, n, tc.want)
		}
	}
	if bitsIn(glyph('g'), 0x80) == 0 || bitsIn(glyph('a'), 0x80) != 0 {
		t.Error("g should descend to the 8th row, a not")
	}

	// Drawing off the image is clipped, not a panic.
	drawText(image.NewRGBA(image.Rect(0, 0, 5, 5)), -3, -3, "WW", 4, color.Black)

	for _, w := range []int{0, 5, 30, 100} {
		s := fitText("replication lag", w, 1)
		if textWidth(s, 1) > w {
			t.Errorf("fitText(w=%d) = %q, %d wide", w, s, textWidth(s, 1))
		}
	}
	if s := fitText("replication", 1000, 2); s != "replication" {
		t.Errorf("fitText shortened a fitting string to %q", s)
	}
}

// bitsIn counts the columns of g with a bit of mask set.
func bitsIn(g []byte, mask byte) int {
	n := 0
	for _, c := range g {
		if c&mask != 0 {
			n++
		}
	}
	return n
}
