package main

import (
	"image"
	"image/color"
	"strings"
)

// A 5x7 pixel bitmap font for printable ASCII (0x20-0x7e), plus an eighth
// row for the descenders of g, j, p, q and y: the standard library draws no
// text. Each glyph is five columns, left to right, of eight bits, bit 0 the
// top row and bit 6 the baseline; a glyph advances 6 pixels (one of space).
const (
	glyphW       = 5
	glyphH       = 8
	glyphAdvance = glyphW + 1
)

// font5x7 holds the 95 glyphs, 10 hex digits (5 columns) each.
var font5x7 = strings.Join([]string{
	"0000000000", "00005f0000", "0007000700", "147f147f14", "242a7f2a12", // space ! " # $
	"2313086462", "3649552250", "0005030000", "001c224100", "0041221c00", // % & ' ( )
	"082a1c2a08", "08083e0808", "0050300000", "0808080808", "0060600000", // * + , - .
	"2010080402", "3e5149453e", "00427f4000", "4261514946", "2141454b31", // / 0 1 2 3
	"1814127f10", "2745454539", "3c4a494930", "0171090503", "3649494936", // 4 5 6 7 8
	"064949291e", "0036360000", "0056360000", "0814224100", "1414141414", // 9 : ; < =
	"0041221408", "0201510906", "324979413e", "7e1111117e", "7f49494936", // > ? @ A B
	"3e41414122", "7f4141221c", "7f49494941", "7f09090101", "3e41495132", // C D E F G
	"7f0808087f", "00417f4100", "2040413f01", "7f08142241", "7f40404040", // H I J K L
	"7f020c027f", "7f0408107f", "3e4141413e", "7f09090906", "3e4151215e", // M N O P Q
	"7f09192946", "4649494931", "01017f0101", "3f4040403f", "1f2040201f", // R S T U V
	"3f4038403f", "6314081463", "0708700807", "6151494543", "007f414100", // W X Y Z [
	"0204081020", "0041417f00", "0402010204", "4040404040", "0001020400", // \ ] ^ _ `
	"2054545478", "7f48444438", "3844444420", "384444487f", "3854545418", // a b c d e
	"087e090102", "18a4a4a47c", "7f08040478", "00447d4000", "4080847d00", // f g h i j
	"007f102844", "00417f4000", "7c04180478", "7c08040478", "3844444438", // k l m n o
	"fc24242418", "18242424fc", "7c08040408", "4854545420", "043f444020", // p q r s t
	"3c4040207c", "1c2040201c", "3c4030403c", "4428102844", "1ca0a0a07c", // u v w x y
	"4464544c44", "0008364100", "00007f0000", "0041360800", "0804080408", // z { | } ~
}, "")

// glyph returns the columns of r's glyph; characters outside printable
// ASCII get '?'.
func glyph(r rune) []byte {
	if r < 0x20 || r > 0x7e {
		r = '?'
	}
	i := int(r-0x20) * 2 * glyphW
	cols := make([]byte, glyphW)
	for c := range cols {
		cols[c] = unhex(font5x7[i+2*c])<<4 | unhex(font5x7[i+2*c+1])
	}
	return cols
}

func unhex(b byte) byte {
	if b >= 'a' {
		return b - 'a' + 10
	}
	return b - '0'
}

// asciiReplacer spells the few non-ASCII characters a title or tool name
// is likely to hold in ASCII, so they do not all come out as '?'.
var asciiReplacer = strings.NewReplacer(
	"→", "->", "←", "<-", "×", "x", "—", "-", "–", "-", "≥", ">=", "≤", "<=",
	"µ", "u", "…", "...", "’", "'", "‘", "'", "“", "\"", "”", "\"", "\u00a0", " ",
)

// toASCII is s as the font draws it.
func toASCII(s string) string { return asciiReplacer.Replace(s) }

// textWidth is the width in pixels of s drawn at scale (each font pixel a
// scale x scale square), without the gap after the last glyph.
func textWidth(s string, scale int) int {
	n := len([]rune(toASCII(s)))
	if n == 0 {
		return 0
	}
	return (n*glyphAdvance - 1) * scale
}

// textHeight is the height in pixels of a line drawn at scale.
func textHeight(scale int) int { return glyphH * scale }

// drawText draws s with its top-left corner at (x, y) and returns the x
// just after it. Pixels outside img are clipped.
func drawText(img *image.RGBA, x, y int, s string, scale int, c color.Color) int {
	rgba := color.RGBAModel.Convert(c).(color.RGBA)
	b := img.Bounds()
	for _, r := range toASCII(s) {
		for col, bits := range glyph(r) {
			for row := 0; row < glyphH; row++ {
				if bits&(1<<row) == 0 {
					continue
				}
				for dy := 0; dy < scale; dy++ {
					for dx := 0; dx < scale; dx++ {
						p := image.Pt(x+col*scale+dx, y+row*scale+dy)
						if p.In(b) {
							img.SetRGBA(p.X, p.Y, rgba)
						}
					}
				}
			}
		}
		x += glyphAdvance * scale
	}
	return x
}

// fitText shortens s with ".." until it is at most w pixels wide at scale.
func fitText(s string, w, scale int) string {
	s = toASCII(s)
	if textWidth(s, scale) <= w {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && textWidth(string(r)+"..", scale) > w {
		r = r[:len(r)-1]
	}
	if len(r) == 0 {
		return ""
	}
	return string(r) + ".."
}
