package check_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/check"
	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/policy"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// runCheck writes yaml as a ferry.yaml, loads it and runs every check with
// the profiles the environment names.
func runCheck(t *testing.T, yaml string) []check.Result {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ferry.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yaml, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs := check.Run(ctx, cfg, check.Options{Timeout: 10 * time.Second})
	for _, r := range rs {
		t.Logf("%-4s %-13s %s: %s | %s | %s | %s", r.Status, r.Check, r.Target, r.Detail, r.Error, r.Reason, r.Fix)
	}
	return rs
}

// results returns the results of one check whose target contains target.
func results(rs []check.Result, name, target string) []check.Result {
	var out []check.Result
	for _, r := range rs {
		if r.Check == name && strings.Contains(r.Target, target) {
			out = append(out, r)
		}
	}
	return out
}

// one returns the only result of a check on target, failing otherwise.
func one(t *testing.T, rs []check.Result, name, target string) check.Result {
	t.Helper()
	got := results(rs, name, target)
	if len(got) != 1 {
		t.Fatalf("%d results of check %q on %q, want 1", len(got), name, target)
	}
	return got[0]
}

func want(t *testing.T, r check.Result, status check.Status, fixHas ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s %s: %s (%s: %s), want %s", r.Check, r.Target, r.Status, r.Detail, r.Error, status)
	}
	for _, s := range fixHas {
		if !strings.Contains(r.Fix, s) {
			t.Errorf("%s %s: fix %q does not say %q", r.Check, r.Target, r.Fix, s)
		}
	}
}

// versions lists every version and delete marker key of a bucket.
func versions(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, v := range out.Versions {
		keys = append(keys, aws.ToString(v.Key))
	}
	for _, m := range out.DeleteMarkers {
		keys = append(keys, aws.ToString(m.Key)+" (delete marker)")
	}
	return keys
}

// setup is a source on A holding one tagged object, and the config's
// common part.
func setup(t *testing.T, opts testbed.BucketOpts) (*testbed.Bed, string) {
	t.Helper()
	bed := testbed.Require(t)
	bed.Setenv(t)
	src := bed.NewBucket(t, testbed.A, opts)
	_, err := bed.Client(t, testbed.A).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(src), Key: aws.String("logs/a.txt"), Body: strings.NewReader("hello"),
		Tagging: aws.String("team=infra"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return bed, src
}

const ruleDM = `replication:
  Rules:
    - ID: logs
      Priority: 1
      Status: Enabled
      Filter: {Prefix: logs/}
      DeleteMarkerReplication: {Status: Enabled}
      Destination: {Bucket: "arn:aws:s3:::%s"}
`

// TestCheckGood: a set-up that works passes every check, and the probe
// leaves nothing behind on a versioned destination (version and delete
// marker removed).
func TestCheckGood(t *testing.T) {
	bed, src := setup(t, testbed.BucketOpts{Versioning: true})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{Versioning: true})
	bed.Notify(t, src, bed.NATS.Target)
	rs := runCheck(t, fmt.Sprintf(`source: {bucket: %s, profile: tb-a}
destinations:
  - bucket: %s
    profile: tb-b
    encryption: {type: aws:kms, kms_key_id: %s}
run:
  webhook: {disabled: true}
  nats: {url: %q}
`+ruleDM, src, dst, bed.KMSKey, bed.NATSURL(), dst))

	for _, r := range rs {
		want(t, r, check.Pass)
	}
	for _, c := range []string{"profile", "clock"} {
		if n := len(results(rs, c, "")); n != 2 {
			t.Errorf("%d %s results, want 2 (one per endpoint)", n, c)
		}
	}
	for _, c := range []string{"source", "read", "tags", "intake", "notifications", "bucket", "versions", "write", "tagging", "head", "kms", "cleanup"} {
		one(t, rs, c, "")
	}
	if n := len(results(rs, "versioning", "")); n != 2 {
		t.Errorf("%d versioning results, want 2", n)
	}
	if w := one(t, rs, "write", dst); !strings.HasPrefix(w.Target, "s3://"+dst+"/"+policy.ProbePrefix) {
		t.Errorf("probe %s is not under %s", w.Target, policy.ProbePrefix)
	}
	if d := one(t, rs, "cleanup", dst).Detail; !strings.Contains(d, "delete marker") {
		t.Errorf("cleanup %q: a delete marker should have been made (delete markers are replicated)", d)
	}
	if left := versions(t, bed.Client(t, testbed.B), dst); len(left) != 0 {
		t.Errorf("the probe left %v in %s", left, dst)
	}
}

// TestCheckBrokenBuckets: versioning off on the destination while delete
// markers are replicated, a destination that does not exist, a KMS key
// that does not exist, and a source without event notifications are each
// a FAIL with the fix; an ACL the server ignores is a WARN.
func TestCheckBrokenBuckets(t *testing.T) {
	bed, src := setup(t, testbed.BucketOpts{Versioning: true})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	badKey := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	missing := testbed.BucketName("no-such-bucket")
	rs := runCheck(t, fmt.Sprintf(`source: {bucket: %s, profile: tb-a}
destinations:
  - {bucket: %s, profile: tb-b, acl: bucket-owner-full-control}
  - {bucket: %s, profile: tb-b}
  - {bucket: %s, profile: tb-b, encryption: {type: aws:kms, kms_key_id: no-such-key}}
run: {}
replication:
  Rules:
    - {ID: logs, Priority: 1, Status: Enabled, Filter: {Prefix: logs/}, DeleteMarkerReplication: {Status: Enabled}, Destination: {Bucket: "arn:aws:s3:::%s"}}
    - {ID: gone, Priority: 2, Status: Enabled, Filter: {}, DeleteMarkerReplication: {Status: Disabled}, Destination: {Bucket: "arn:aws:s3:::%s"}}
    - {ID: kms, Priority: 3, Status: Enabled, Filter: {}, DeleteMarkerReplication: {Status: Disabled}, Destination: {Bucket: "arn:aws:s3:::%s"}}
`, src, dst, missing, badKey, dst, missing, badKey))

	v := one(t, rs, "versioning", dst)
	want(t, v, check.Fail, "put-bucket-versioning --bucket "+dst, "Status=Enabled", "--profile tb-b")
	if !strings.Contains(v.Detail, `"logs"`) {
		t.Errorf("versioning detail %q does not name the rule", v.Detail)
	}
	want(t, one(t, rs, "versioning", "s3://"+src), check.Pass)
	// The probe still runs: versioning is a setting, not a permission.
	want(t, one(t, rs, "write", dst), check.Pass)
	want(t, one(t, rs, "cleanup", dst), check.Pass)
	// MinIO answers PutObjectAcl with NotImplemented, and ignores x-amz-acl.
	want(t, one(t, rs, "acl", dst), check.Warn, "remove acl")

	k := one(t, rs, "write", badKey)
	want(t, k, check.Fail, "KMS key")
	if k.Reason != "DstKmsKeyNotFound" {
		t.Errorf("write with a missing KMS key: reason %q, want DstKmsKeyNotFound", k.Reason)
	}
	if r := one(t, rs, "kms", badKey); r.Status != check.Skip {
		t.Errorf("kms after a refused write: %s, want skipped", r.Status)
	}

	b := one(t, rs, "bucket", missing)
	want(t, b, check.Fail, "Create the destination bucket")
	if b.Reason != "DstBucketNotFound" || !strings.Contains(b.Error, "NoSuchBucket") {
		t.Errorf("missing bucket: reason %q error %q, want DstBucketNotFound and NoSuchBucket", b.Reason, b.Error)
	}
	for _, c := range []string{"versioning", "write", "tagging", "head", "cleanup"} {
		if r := one(t, rs, c, missing); r.Status != check.Skip || !strings.Contains(r.Detail, "needs the destination bucket") {
			t.Errorf("%s on the missing bucket: %s %q, want skipped: needs the destination bucket", c, r.Status, r.Detail)
		}
	}

	n := one(t, rs, "notifications", src)
	want(t, n, check.Fail, "ferry setup notifications --config ")
	if !strings.Contains(n.Detail, "no event notifications") {
		t.Errorf("notifications detail %q", n.Detail)
	}
}

// TestCheckRestrictedUsers: a destination user without s3:PutObject gets
// a write FAIL naming the action and nothing is written; a user that can
// write but not delete leaves the probe behind, and the check says which.
func TestCheckRestrictedUsers(t *testing.T) {
	bed, src := setup(t, testbed.BucketOpts{})
	noPut := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	noDelete := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	userPolicy := func(bucket string, objectActions ...string) string {
		return fmt.Sprintf(`{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketVersioning", "s3:GetBucketLocation"], "Resource": ["arn:aws:s3:::%[1]s"]},
  {"Effect": "Allow", "Action": ["%[2]s"], "Resource": ["arn:aws:s3:::%[1]s/*"]}]}`, bucket, strings.Join(objectActions, `", "`))
	}
	noVersionDelete := bed.NewBucket(t, testbed.B, testbed.BucketOpts{Versioning: true})
	bed.Setenv(t)
	cannotPut := bed.NewUser(t, testbed.B, userPolicy(noPut, "s3:GetObject", "s3:DeleteObject", "s3:PutObjectTagging"))
	cannotDelete := bed.NewUser(t, testbed.B, userPolicy(noDelete, "s3:GetObject", "s3:PutObject", "s3:PutObjectTagging"))
	// MinIO lets s3:DeleteObject delete versions too, unless
	// s3:DeleteObjectVersion is denied outright.
	cannotDeleteVersions := bed.NewUser(t, testbed.B, strings.Replace(
		userPolicy(noVersionDelete, "s3:GetObject", "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"), "]}]}",
		fmt.Sprintf(`]}, {"Effect": "Deny", "Action": ["s3:DeleteObjectVersion"], "Resource": ["arn:aws:s3:::%s/*"]}]}`, noVersionDelete), 1))
	rule := func(id, bucket, markers string) string {
		return fmt.Sprintf("    - {ID: %s, Priority: %d, Status: Enabled, Filter: {}, DeleteMarkerReplication: {Status: %s}, Destination: {Bucket: \"arn:aws:s3:::%s\"}}\n",
			id, len(id), markers, bucket)
	}
	rs := runCheck(t, fmt.Sprintf(`source: {bucket: %s, profile: tb-a}
destinations:
  - {bucket: %s, profile: %s}
  - {bucket: %s, profile: %s}
  - {bucket: %s, profile: %s}
replication:
  Rules:
`, src, noPut, cannotPut, noDelete, cannotDelete, noVersionDelete, cannotDeleteVersions)+
		rule("a", noPut, "Disabled")+rule("bb", noDelete, "Disabled")+rule("ccc", noVersionDelete, "Enabled"))

	w := one(t, rs, "write", noPut)
	want(t, w, check.Fail, "grant s3:PutObject on arn:aws:s3:::"+noPut+"/* to profile "+cannotPut, "ferry policy")
	if w.Reason != "DstPutObjectNotPermitted" || !strings.Contains(w.Error, "AccessDenied") {
		t.Errorf("write: reason %q error %q, want DstPutObjectNotPermitted and AccessDenied", w.Reason, w.Error)
	}
	for _, c := range []string{"tagging", "head", "cleanup"} {
		if r := one(t, rs, c, noPut); r.Status != check.Skip || !strings.Contains(r.Detail, "needs the write probe") {
			t.Errorf("%s after a refused write: %s %q, want skipped", c, r.Status, r.Detail)
		}
	}
	if left := versions(t, bed.Client(t, testbed.B), noPut); len(left) != 0 {
		t.Errorf("a refused write left %v", left)
	}
	want(t, one(t, rs, "bucket", noPut), check.Pass)

	want(t, one(t, rs, "write", noDelete), check.Pass)
	c := one(t, rs, "cleanup", noDelete)
	want(t, c, check.Fail, "s3:DeleteObject", "aws s3api delete-object --bucket "+noDelete)
	left := versions(t, bed.Client(t, testbed.B), noDelete)
	if len(left) != 1 || c.Leftover != "s3://"+noDelete+"/"+left[0] || !strings.Contains(c.Detail, "LEFT BEHIND") {
		t.Errorf("cleanup leftover %q (detail %q); the bucket holds %v", c.Leftover, c.Detail, left)
	}
	// A head refused for lack of s3:GetObject is not what this user lacks.
	want(t, one(t, rs, "head", noDelete), check.Pass)

	// On a versioned bucket that gets delete markers, the probe makes one
	// (s3:DeleteObject, allowed) and then deletes both versions
	// (s3:DeleteObjectVersion, refused): both are left, and named.
	cs := results(rs, "cleanup", noVersionDelete)
	left = versions(t, bed.Client(t, testbed.B), noVersionDelete)
	if len(cs) != 2 || len(left) != 2 {
		t.Fatalf("%d cleanup results and %v left, want 2 of each (the probe and its delete marker)", len(cs), left)
	}
	for _, c := range cs {
		want(t, c, check.Fail, "s3:DeleteObjectVersion on arn:aws:s3:::"+noVersionDelete+"/"+policy.ProbePrefix+"*", "--version-id ")
		if !strings.Contains(c.Leftover, "?versionId=") {
			t.Errorf("leftover %q does not name the version", c.Leftover)
		}
	}
}

// TestCheckTargetBucketTag: with target_bucket_tag, the destinations the
// source's TargetBucket tag names are read and checked like listed ones.
func TestCheckTargetBucketTag(t *testing.T) {
	bed, src := setup(t, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	_, err := bed.Client(t, testbed.A).PutBucketTagging(context.Background(), &s3.PutBucketTaggingInput{
		Bucket:  aws.String(src),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("TargetBucket"), Value: aws.String(dst)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rs := runCheck(t, fmt.Sprintf("source: {bucket: %s, profile: tb-a, target_bucket_tag: true}\n", src))
	for _, r := range rs {
		want(t, r, check.Pass)
	}
	want(t, one(t, rs, "target-tag", src), check.Pass)
	want(t, one(t, rs, "bucket", dst), check.Pass)
	want(t, one(t, rs, "write", dst), check.Pass)
	want(t, one(t, rs, "cleanup", dst), check.Pass)
	if n := len(results(rs, "profile", "")); n != 1 {
		t.Errorf("%d profile results: the tag's destinations share the source's profile", n)
	}
}
