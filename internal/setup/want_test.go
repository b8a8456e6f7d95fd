package setup

import (
	"slices"
	"testing"
)

func TestSetupWant(t *testing.T) {
	hook := Target{Kind: Queue, ARN: "arn:minio:sqs::ferry:webhook"}
	for _, tc := range []struct {
		name, rules string
		dest        string // extra destination settings
		events      []string
		prefix      string
	}{
		{"implicit rules", "", "", []string{ObjectCreated}, ""},
		{"one prefix", `replication: {Rules: [{ID: a, Status: Enabled, Priority: 1, Filter: {Prefix: builds/}, DeleteMarkerReplication: {Status: Disabled}, Destination: {Bucket: "arn:aws:s3:::dst"}}]}`,
			"", []string{ObjectCreated}, "builds/"},
		{"shared prefix, delete markers", `replication: {Rules: [
  {ID: a, Status: Enabled, Priority: 1, Filter: {Prefix: logs/app/}, DeleteMarkerReplication: {Status: Enabled}, Destination: {Bucket: "arn:aws:s3:::dst"}},
  {ID: b, Status: Enabled, Priority: 2, Filter: {And: {Prefix: logs/web/, Tags: [{Key: k, Value: v}]}}, DeleteMarkerReplication: {Status: Disabled}, Destination: {Bucket: "arn:aws:s3:::dst"}},
  {ID: c, Status: Disabled, Priority: 3, Filter: {Prefix: other/}, DeleteMarkerReplication: {Status: Disabled}, Destination: {Bucket: "arn:aws:s3:::dst"}}]}`,
			"", []string{ObjectCreated, ObjectRemoved}, "logs/"},
		{"one rule for everything", `replication: {Rules: [
  {ID: a, Status: Enabled, Priority: 1, Filter: {Prefix: logs/}, DeleteMarkerReplication: {Status: Disabled}, Destination: {Bucket: "arn:aws:s3:::dst"}},
  {ID: b, Status: Enabled, Priority: 2, Filter: {Tag: {Key: k, Value: v}}, DeleteMarkerReplication: {Status: Disabled}, Destination: {Bucket: "arn:aws:s3:::dst"}}]}`,
			"", []string{ObjectCreated}, ""},
		{"V1 rules replicate delete markers", `replication: {Rules: [{ID: a, Status: Enabled, Prefix: "한국/가", Destination: {Bucket: "arn:aws:s3:::dst"}}, {ID: b, Status: Enabled, Prefix: "한국/각", Destination: {Bucket: "arn:aws:s3:::dst"}}]}`,
			"", []string{ObjectCreated, ObjectRemoved}, "한국/"},
		{"replicate_deletes", "", ", replicate_deletes: true", []string{ObjectCreated, ObjectRemoved}, ""},
	} {
		cfg := mustParse(t, "source: {bucket: src}\ndestinations: [{bucket: dst"+tc.dest+"}]\n"+tc.rules+"\n")
		e, err := Want(cfg, hook)
		if err != nil || e.ID != ID || e.ARN != hook.ARN || e.Kind != Queue || !slices.Equal(e.Events, tc.events) || e.Prefix != tc.prefix {
			t.Errorf("%s: %+v, %v; want events %v prefix %q", tc.name, e, err, tc.events, tc.prefix)
		}
	}
	cfg := mustParse(t, `source: {bucket: src}
destinations: [{bucket: dst}]
replication: {Rules: [{ID: a, Status: Disabled, Priority: 1, Filter: {}, DeleteMarkerReplication: {Status: Disabled}, Destination: {Bucket: "arn:aws:s3:::dst"}}]}`)
	if _, err := Want(cfg, hook); err == nil {
		t.Errorf("no enabled rule: want an error")
	}
}
