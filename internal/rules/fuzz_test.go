package rules

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseJSON: any input either fails cleanly or yields a configuration
// that validates and can be matched against without panicking.
func FuzzParseJSON(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"Rules":[{"Status":"Enabled","Filter":{"And":{"Tags":[{"Key":"a","Value":"b"}]}},"Destination":{}}]}`))
	f.Add([]byte(`{"ReplicationConfiguration":null}`))
	f.Add([]byte(`[]`))

	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseJSON(data)
		if err != nil {
			if c != nil {
				t.Fatalf("ParseJSON returned both a configuration and %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed configuration does not validate again: %v", err)
		}
		for _, obj := range []Object{
			{Key: ""},
			{Key: "logs/a", Tags: map[string]string{"a": "b"}},
			{Key: "x", SSEKMS: true},
		} {
			seen := map[string]bool{}
			for _, r := range c.Match(obj) {
				dest := r.Destination.BucketName()
				if seen[dest] {
					t.Fatalf("Match returned two rules for %q", dest)
				}
				seen[dest] = true
				_ = r.Name() + r.KeyPrefix()
				_ = r.DeleteMarkersEnabled()
			}
		}
	})
}
