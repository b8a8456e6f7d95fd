package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestSyncConfig applies an AWS ReplicationConfiguration (verbatim JSON)
// wrapped in ferry.yaml: the blog's case of prefix/ copied to another
// account's bucket under bdp/ with bucket-owner-full-control and the
// destination's KMS key, plus a tag-filtered rule to a second provider.
func TestSyncConfig(t *testing.T) {
	bed := testbed.Require(t)
	a, b, v := bed.Client(t, testbed.A), bed.Client(t, testbed.B), bed.Client(t, testbed.VGW)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dstB := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	dstV := bed.NewBucket(t, testbed.VGW, testbed.BucketOpts{})
	for key, tags := range map[string]string{
		"prefix/a.txt":     "",
		"prefix/sub/b.txt": "env=prod",
		"other/c.txt":      "env=prod",
		"other/d.txt":      "env=dev",
		"prefixless/e.txt": "",
	} {
		in := &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(key), Body: strings.NewReader("body of " + key)}
		if tags != "" {
			in.Tagging = aws.String(tags)
		}
		put(t, a, in)
	}
	dir := t.TempDir()
	replication := fmt.Sprintf(`{
  "Role": "arn:aws:iam::111122223333:role/replication",
  "Rules": [
    {"ID": "to-partner", "Priority": 1, "Status": "Enabled",
     "Filter": {"Prefix": "prefix/"},
     "DeleteMarkerReplication": {"Status": "Disabled"},
     "Destination": {"Bucket": "arn:aws:s3:::%s", "Account": "444455556666",
                     "AccessControlTranslation": {"Owner": "Destination"}}},
    {"ID": "prod-to-vgw", "Priority": 2, "Status": "Enabled",
     "Filter": {"Tag": {"Key": "env", "Value": "prod"}},
     "DeleteMarkerReplication": {"Status": "Disabled"},
     "Destination": {"Bucket": "arn:aws:s3:::%s"}}
  ]
}`, dstB, dstV)
	os.WriteFile(filepath.Join(dir, "replication.json"), []byte(replication), 0o644)
	cfg := fmt.Sprintf(`source:
  bucket: %s
  profile: tb-a
destinations:
  - bucket: %s
    profile: tb-b
    key_rewrite: {from: "prefix/", to: "bdp/"}
    encryption: {type: aws:kms, kms_key_id: %s}
  - bucket: %s
    profile: tb-vgw
replication_file: replication.json
`, src, dstB, bed.KMSKey, dstV)
	cfgPath := filepath.Join(dir, "ferry.yaml")
	os.WriteFile(cfgPath, []byte(cfg), 0o644)

	if r := ferry(t, bed, "config", "validate", cfgPath); r.code != 0 || !strings.Contains(r.stdout, "valid") {
		t.Fatalf("config validate: exit %d %s", r.code, r.stderr)
	}
	r := ferry(t, bed, "sync", "--config", cfgPath, "--json")
	if r.code != 0 {
		t.Fatalf("sync --config: exit %d", r.code)
	}
	if got := fmt.Sprint(keysOf(t, b, dstB)); got != "[bdp/a.txt bdp/sub/b.txt]" {
		t.Errorf("partner bucket keys %s, want [bdp/a.txt bdp/sub/b.txt]", got)
	}
	if got := fmt.Sprint(keysOf(t, v, dstV)); got != "[other/c.txt prefix/sub/b.txt]" {
		t.Errorf("vgw bucket keys %s, want the env=prod objects [other/c.txt prefix/sub/b.txt]", got)
	}
	md5, out := getMD5(t, b, dstB, "bdp/sub/b.txt")
	if md5 != md5hex([]byte("body of prefix/sub/b.txt")) || out.ServerSideEncryption != types.ServerSideEncryptionAwsKms {
		t.Errorf("bdp/sub/b.txt: md5 %s, sse %q: want the source body, aws:kms", md5, out.ServerSideEncryption)
	}
	if r := ferry(t, bed, "sync", "--config", cfgPath, "--json"); !strings.Contains(r.stdout, `"copied":0`) {
		t.Errorf("second run copied something: %s", r.stdout)
	}

	// A broken config: every problem named, exit 2.
	os.WriteFile(cfgPath, []byte(strings.Replace(cfg, "profile: tb-vgw", "profile: tb-vgw\n    acl: owner-full", 1)), 0o644)
	r = ferry(t, bed, "config", "validate", cfgPath)
	if r.code != 2 || !strings.Contains(r.stderr, "acl") {
		t.Errorf("bad acl: exit %d, stderr %q; want exit 2 naming acl", r.code, r.stderr)
	}
}
