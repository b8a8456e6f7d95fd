package event

import (
	"path/filepath"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed corpus: %v", err)
	}
	for _, name := range files {
		f.Add(readTestdata(f, filepath.Base(name)))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := Parse(body)
		if err != nil && events != nil {
			t.Fatalf("events %+v returned with error %v", events, err)
		}
		if len(events) > maxRecords {
			t.Fatalf("%d events, more than the limit", len(events))
		}
		for i, e := range events {
			if e.Bucket == "" || e.Key == "" {
				t.Errorf("event %d without bucket or key: %+v", i, e)
			}
			if e.Kind < Put || e.Kind > Delete {
				t.Errorf("event %d with kind %v: %+v", i, e.Kind, e)
			}
		}
	})
}
