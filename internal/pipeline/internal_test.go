package pipeline

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestReserve(t *testing.T) {
	for _, tc := range []struct{ left, want time.Duration }{
		{15 * time.Minute, 30 * time.Second}, // 10% is 90s: capped
		{3 * time.Minute, 18 * time.Second},  // 10%
		{30 * time.Second, 5 * time.Second},  // at least 5s
		{4 * time.Second, 2 * time.Second},   // at most half
		{0, 0},                               // deadline passed
		{-time.Second, 0},
	} {
		if got := reserve(tc.left); got != tc.want {
			t.Errorf("reserve(%v) = %v, want %v", tc.left, got, tc.want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven chars", 10, "eleven ch…"},
		{strings.Repeat("é", 5), 3, "éé…"},
	} {
		got := clip(tc.s, tc.max)
		if got != tc.want || utf8.RuneCountInString(got) > tc.max {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.s, tc.max, got, tc.want)
		}
	}
}
