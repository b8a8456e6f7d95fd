package config_test

import (
	"strings"
	"testing"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/rules"
)

func TestWithTagTargets(t *testing.T) {
	cfg, err := config.Parse([]byte("source: {bucket: src, profile: prod, region: us-east-1, target_bucket_tag: true}\n"), "", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.WithTagTargets("  copy-a copy-b@eu-west-1 ")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Destinations) != 2 {
		t.Fatalf("destinations: %d, want 2", len(got.Destinations))
	}
	a, b := got.Destination("copy-a"), got.Destination("copy-b")
	if a.Region != "us-east-1" || a.Profile != "prod" || b.Region != "eu-west-1" || b.Profile != "prod" {
		t.Fatalf("destinations: %+v %+v", a, b)
	}
	if ts := got.Targets(rules.Object{Key: "x/y"}); len(ts) != 2 {
		t.Fatalf("an object goes to %d destinations, want 2", len(ts))
	}
	if len(cfg.Destinations) != 0 {
		t.Fatalf("the original config was changed")
	}
	for _, bad := range []string{"", "Bad_Name", "src"} {
		if _, err := cfg.WithTagTargets(bad); err == nil {
			t.Errorf("tag %q accepted", bad)
		}
	}
	_, err = config.Parse([]byte("source: {bucket: src, target_bucket_tag: true}\nreplication_file: r.json\n"), "", "")
	if err == nil || !strings.Contains(err.Error(), "target_bucket_tag") {
		t.Fatalf("target_bucket_tag with rules: %v", err)
	}
}
