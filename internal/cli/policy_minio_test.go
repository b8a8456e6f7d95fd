package cli_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestPolicyIsEnoughOnMinIO: the permission policy `ferry policy` writes is
// given to MinIO users on both servers, and nothing else. With them,
// `ferry check` passes and `ferry sync --config --versions` replicates
// (tags, delete markers, SSE-KMS); and they cannot do what the config does
// not need, such as writing outside the rule's prefix. So the policy is
// enough for ferry and no broader, checked by a real server's IAM.
func TestPolicyIsEnoughOnMinIO(t *testing.T) {
	bed := testbed.Require(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{Versioning: true})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{Versioning: true})
	dir := t.TempDir()
	write := func(name, srcProfile, dstProfile string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(fmt.Sprintf(`
source: {bucket: %s, profile: %s}
destinations:
  - {bucket: %s, profile: %s, encryption: {type: aws:kms, kms_key_id: %s}}
replication:
  Rules:
    - {ID: data, Status: Enabled, Priority: 1, Filter: {Prefix: data/}, DeleteMarkerReplication: {Status: Enabled},
       Destination: {Bucket: "arn:aws:s3:::%s"}}
`, src, srcProfile, dst, dstProfile, bed.KMSKey, dst)), 0o644)
		return p
	}
	cfg := write("ferry.yaml", "tb-a", "tb-b")
	r := ferry(t, bed, "policy", "--config", cfg, "--runtime", "user", "--document", "permissions")
	if r.code != 0 {
		t.Fatalf("ferry policy: exit %d\n%s", r.code, r.stderr)
	}
	policy := r.stdout
	srcUser := bed.NewUser(t, testbed.A, policy)
	dstUser := bed.NewUser(t, testbed.B, policy)
	least := write("least.yaml", srcUser, dstUser)

	for i, k := range []string{"data/a.txt", "data/b.txt", "data/a.txt", "other/c.txt"} {
		put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(k), Body: strings.NewReader(fmt.Sprint("v", i)),
			Tagging: aws.String("team=ops")})
	}
	if _, err := a.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String("data/b.txt")}); err != nil {
		t.Fatal(err)
	}

	if r := ferry(t, bed, "check", "--config", least); r.code != 0 {
		t.Fatalf("ferry check with the generated policy: exit %d\n%s", r.code, r.stdout)
	}
	if r := ferry(t, bed, "sync", "--config", least, "--versions"); r.code != 0 {
		t.Fatalf("ferry sync with the generated policy: exit %d\n%s", r.code, r.stdout+r.stderr)
	}
	b := bed.Client(t, testbed.B)
	vs, err := b.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(dst)})
	if err != nil {
		t.Fatal(err)
	}
	if len(vs.Versions) != 3 || len(vs.DeleteMarkers) != 1 {
		t.Fatalf("destination holds %d versions and %d delete markers, want 3 and 1", len(vs.Versions), len(vs.DeleteMarkers))
	}
	if tags := tagsOf(t, b, dst, "data/a.txt"); tags["team"] != "ops" {
		t.Errorf("tags not replicated: %v", tags)
	}

	// No broader: the same users cannot write outside the rule's prefix,
	// nor read a bucket the config does not name.
	bed.Setenv(t)
	r = ferry(t, bed, "sync", "s3://"+src+"/other", "s3://"+dst+"/other", "--src-profile", srcUser, "--dst-profile", dstUser)
	if out := r.stdout + r.stderr; r.code != 1 || !strings.Contains(out, "FAILED s3://"+src+"/other/c.txt") || !strings.Contains(out, "AccessDenied") {
		t.Errorf("a copy outside the rule's prefix was allowed: exit %d\n%s", r.code, r.stdout+r.stderr)
	}
}
