package manifest

import (
	"context"
	"testing"
)

// The manifest in examples/ stays valid and decodes as documented.
func TestExampleManifest(t *testing.T) {
	in, err := Open(context.Background(), "../../examples/backfill-manifest.csv", "csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	var keys, versions []string
	err = in.Each(context.Background(), Position{}, func(e Entry) error {
		keys = append(keys, e.Key)
		versions = append(versions, e.VersionID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"logs/2026/11/20/app.log.gz", "reports/Q3 summary.pdf", "images/cat+dog.png"}
	if len(keys) != len(want) || keys[0] != want[0] || keys[1] != want[1] || keys[2] != want[2] || versions[2] == "" {
		t.Fatalf("keys %q versions %q, want %q and a version id on the last", keys, versions, want)
	}
}
