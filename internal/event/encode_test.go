package event

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Every good example parses, encodes and parses again to the same events.
func TestEncodeRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.json")
	n := 0
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "bad_") {
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Parse(body)
		if err != nil || len(want) == 0 {
			continue
		}
		n++
		roundTrip(t, filepath.Base(f), want)
	}
	if n < 3 {
		t.Fatalf("only %d examples round-tripped", n)
	}
	roundTrip(t, "made", []Event{
		{Kind: Put, Bucket: "b", Key: "dir/a key+with%odd&chars/ü.txt", Size: 7, ETag: "abc", VersionID: "v1", Sequencer: "0055AED6DCD90281E5", Time: time.Date(2026, 11, 22, 1, 2, 3, 456e6, time.UTC)},
		{Kind: DeleteMarker, Bucket: "b", Key: "gone"},
		{Kind: Delete, Bucket: "b", Key: "v", VersionID: "3"},
	})
}

func roundTrip(t *testing.T, name string, want []Event) {
	t.Helper()
	body, err := Encode(want)
	if err != nil {
		t.Fatalf("%s: encode: %v", name, err)
	}
	got, err := Parse(body)
	if err != nil {
		t.Fatalf("%s: parse of %s: %v", name, body, err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d events back, want %d", name, len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.Name == "" {
			w.Name = nameOf(w.Kind)
		}
		if !g.Time.Equal(w.Time) {
			t.Errorf("%s[%d]: time %v, want %v", name, i, g.Time, w.Time)
		}
		g.Time, w.Time = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("%s[%d]:\n got %+v\nwant %+v", name, i, g, w)
		}
	}
}
