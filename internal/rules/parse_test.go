package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The testdata documents are the replication.json files from the reference
// write-ups (placeholders filled in) plus AWS's documented examples. They
// must all parse and validate, in both the put and the get shape.
func TestParseJSONExamples(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, c *Configuration)
	}{
		{"002_put_cross_account_v1.json", func(t *testing.T, c *Configuration) {
			r := c.Rules[0]
			if r.IsV2() || r.KeyPrefix() != "" || !r.DeleteMarkersEnabled() {
				t.Errorf("V1 whole-bucket rule: IsV2=%v prefix=%q deletes=%v", r.IsV2(), r.KeyPrefix(), r.DeleteMarkersEnabled())
			}
			if got := r.Destination.BucketName(); got != "sre-bucket-destination" {
				t.Errorf("BucketName = %q", got)
			}
			if r.Name() != "Rules[0]" {
				t.Errorf("Name of unnamed rule = %q, want Rules[0]", r.Name())
			}
		}},
		{"002_get_cross_account_v1.json", func(t *testing.T, c *Configuration) {
			if c.Rules[0].Name() != "fdsafdsafdsafdsafdsafdsa" {
				t.Errorf("Name = %q", c.Rules[0].Name())
			}
			if c.Rules[0].Destination.AccessControlTranslation.Owner != "Destination" {
				t.Error("AccessControlTranslation lost")
			}
		}},
		{"003_get_kms_rtc_v2.json", func(t *testing.T, c *Configuration) {
			r := c.Rules[0]
			if !r.IsV2() || !r.ReplicatesKMS() || !r.DeleteMarkersEnabled() || *r.Priority != 0 {
				t.Errorf("V2 KMS rule: IsV2=%v kms=%v deletes=%v", r.IsV2(), r.ReplicatesKMS(), r.DeleteMarkersEnabled())
			}
			if r.Destination.ReplicationTime.Time.Minutes != 15 {
				t.Error("ReplicationTime lost")
			}
		}},
		{"put_rtc_v2.json", func(t *testing.T, c *Configuration) {
			if c.Rules[0].KeyPrefix() != "Tax" {
				t.Errorf("KeyPrefix = %q", c.Rules[0].KeyPrefix())
			}
		}},
		{"put_multi_destination_v2.json", func(t *testing.T, c *Configuration) {
			if len(c.Rules) != 3 || c.Rules[0].KeyPrefix() != "logs/" {
				t.Errorf("rules = %d, first prefix %q", len(c.Rules), c.Rules[0].KeyPrefix())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			c, err := ParseJSON(data)
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseJSONDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
		line int
	}{
		{"empty", ``, "empty document", 0},
		{"null", `null`, "null", 0},
		{"syntax", "{\n\"Rules\": [,]}", "invalid character", 2},
		{"truncated", `{"Rules": [`, "unexpected end", 1},
		{"trailing data", `{"Rules": []} {}`, "unexpected data after", 1},
		{"wrong type", "{\"Rules\": [{\n\"Priority\": \"high\"}]}", "Rules.Priority: JSON string where int was expected", 2},
		{"unknown field", "{\"Rules\": [{\n  \"Destination\": {\"Bucket\": \"arn:aws:s3:::b\",\n  \"Bukcet\": 1}}]}", `unknown field "Bukcet"`, 3},
		{"unknown top-level field", `{"Role": "", "Rules": [], "Version": 2}`, `unknown field "Version"`, 1},
		{"field name case", "{\"Rules\": [{\"ID\": \"a\",\n \"destination\": {}}]}", `unknown field "destination" (did you mean "Destination"?)`, 2},
		{"nested field name case", "{\"Rules\": [{\"Destination\": {\n\"Bucket\": \"arn:aws:s3:::b\", \"storageClass\": \"STANDARD\"}}]}", `unknown field "storageClass" (did you mean "StorageClass"?)`, 2},
		{"unknown field in get output", `{"ReplicationConfiguration": {"Rule": []}}`, `unknown field "Rule"`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseJSON([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseJSON error = %v, want it to contain %q", err, tt.want)
			}
			var de *DecodeError
			if errors.As(err, &de) && de.Line != tt.line {
				t.Errorf("line = %d, want %d", de.Line, tt.line)
			}
		})
	}
}
