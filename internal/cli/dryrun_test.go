package cli_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/cli"
	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/queue"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// destructive lists every command that writes, deletes or changes remote
// configuration, and what it changes: each must have --dry-run, and
// TestDryRunWritesNothing runs each one's dry run.
var destructive = map[string]string{
	"ferry sync":                "copies and (--delete) deletes objects",
	"ferry backfill":            "copies objects",
	"ferry deploy":              "uploads, deletes, invalidates CloudFront",
	"ferry retry":               "re-queues FAILED operations in the daemon's queue",
	"ferry setup notifications": "replaces the source bucket's notification configuration",
	"ferry check":               "writes (and deletes) a probe object at each destination",
}

// notDestructive lists the other commands, with why they need no dry run.
// A new command must be added to one of the two lists.
var notDestructive = map[string]string{
	"ferry":                 "the root: no action of its own",
	"ferry run":             "the daemon replicates as events come; its plan is sync --config --dry-run or backfill --dry-run",
	"ferry lambda":          "runs inside AWS Lambda as the daemon does; the same plan commands apply",
	"ferry status":          "reads the queue and the buckets",
	"ferry policy":          "prints IAM documents; applies nothing",
	"ferry config":          "a group: validate only reads",
	"ferry config validate": "reads the config",
	"ferry setup":           "a group of set-up commands",
	"ferry version":         "prints the version",
	"ferry help":            "cobra's help",
	"ferry completion":      "cobra's shell completion scripts",
}

// TestDryRunFlags walks the command tree: every destructive command has a
// boolean --dry-run, and every command is classified.
func TestDryRunFlags(t *testing.T) {
	seen := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := c.CommandPath()
		seen[path] = true
		_, bad := destructive[path]
		_, good := notDestructive[path]
		switch {
		case bad:
			f := c.Flags().Lookup("dry-run")
			if f == nil {
				t.Errorf("%s %s but has no --dry-run", path, destructive[path])
			} else if f.Value.Type() != "bool" || f.DefValue != "false" {
				t.Errorf("%s --dry-run is a %s defaulting to %q, want a bool defaulting to false", path, f.Value.Type(), f.DefValue)
			}
		case !good:
			t.Errorf("%s is in neither list: say whether it writes, deletes or changes remote configuration (and give it --dry-run) in dryrun_test.go", path)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cli.RootCommand())
	for path := range destructive {
		if !seen[path] {
			t.Errorf("%s is listed as destructive but is not a command", path)
		}
	}
}

// TestDryRunWritesNothing runs the dry run of each destructive command
// against the test bed through proxies that refuse (and count) every
// request but GET and HEAD: none may be attempted. The buckets, the
// source's notification configuration, the daemon's queue and the local
// folders are unchanged afterwards. A real check through the same proxies
// does write, which proves they see writes.
func TestDryRunWritesNothing(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	ctx := context.Background()
	for _, k := range []string{"a.txt", "dir/b.txt"} {
		put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(k), Body: strings.NewReader(k)})
	}
	for _, k := range []string{"stale.txt", "www/old.html", "a.txt"} {
		put(t, b, &s3.PutObjectInput{Bucket: aws.String(dst), Key: aws.String(k), Body: strings.NewReader("old " + k)})
	}
	pa := testbed.NewCountingProxy(t, bed.Servers[testbed.A].URL)
	pb := testbed.NewCountingProxy(t, bed.Servers[testbed.B].URL)
	for _, p := range []*testbed.CountingProxy{pa, pb} {
		p.SetReadOnly(true)
	}
	sa, sb := bed.Servers[testbed.A], bed.Servers[testbed.B]
	bed.AddProfile(t, testbed.Profile{Name: "dry-a", URL: pa.URL(), AccessKey: sa.AccessKey, SecretKey: sa.SecretKey})
	bed.AddProfile(t, testbed.Profile{Name: "dry-b", URL: pb.URL(), AccessKey: sb.AccessKey, SecretKey: sb.SecretKey})

	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cfg := filepath.Join(dir, "ferry.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
source: {bucket: %s, profile: dry-a}
destinations: [{bucket: %s, profile: dry-b}]
run: {data_dir: %s, listen: "127.0.0.1:0"}
`, src, dst, dataDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	// A FAILED operation in the daemon's queue, for retry.
	q, err := queue.Open(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	err = q.Record(ctx, event.Event{Name: "ObjectCreated:Put", Kind: event.Put, Bucket: src, Key: "a.txt", Time: time.Now()},
		[]queue.Failure{{Dest: dst, Reason: "DstPutObjectNotPermitted", Detail: "AccessDenied"}})
	q.Close()
	if err != nil {
		t.Fatal(err)
	}
	site := filepath.Join(dir, "site")
	os.MkdirAll(site, 0o755)
	os.WriteFile(filepath.Join(site, "index.html"), []byte("<h1>new</h1>"), 0o644)
	pull := filepath.Join(dir, "pull")

	dstBefore := drySnapshot(t, b, dst)
	notifyBefore := dryNotifications(t, a, src)
	failedBefore := dryFailedJobs(t, dataDir)

	covered := map[string]bool{}
	for _, tc := range []struct {
		cmd  string
		args []string
	}{
		{"ferry sync", []string{"sync", "s3://" + src, "s3://" + dst, "--src-profile", "dry-a", "--dst-profile", "dry-b", "--delete", "--dry-run"}},
		{"ferry sync", []string{"sync", "--config", cfg, "--dry-run"}},
		{"ferry sync", []string{"sync", "s3://" + src, pull, "--src-profile", "dry-a", "--dry-run"}},
		{"ferry sync", []string{"sync", site, "s3://" + dst + "/www", "--dst-profile", "dry-b", "--delete", "--dry-run"}},
		{"ferry backfill", []string{"backfill", "--config", cfg, "--dry-run", "--data-dir", filepath.Join(dir, "backfill")}},
		{"ferry backfill", []string{"backfill", "s3://" + src, "s3://" + dst, "--src-profile", "dry-a", "--dst-profile", "dry-b", "--dry-run", "--data-dir", filepath.Join(dir, "backfill")}},
		{"ferry deploy", []string{"deploy", site, "s3://" + dst + "/www", "--profile", "dry-b", "--delete", "--dry-run"}},
		{"ferry retry", []string{"retry", "--config", cfg, "--dry-run"}},
		{"ferry setup notifications", []string{"setup", "notifications", "--config", cfg, "--target", bed.TargetARN(t, "hook1"), "--dry-run"}},
		{"ferry check", []string{"check", "--config", cfg, "--dry-run"}},
	} {
		covered[tc.cmd] = true
		pa.Reset()
		pb.Reset()
		r := ferry(t, bed, tc.args...)
		if r.code != 0 && !(tc.cmd == "ferry check" && r.code == 1) { // check fails on the unset notifications
			t.Errorf("%s: exit %d\n%s%s", strings.Join(tc.args, " "), r.code, r.stdout, r.stderr)
		}
		if out := strings.ToLower(r.stdout + r.stderr); !strings.Contains(out, "dry run") && !strings.Contains(out, "would ") {
			t.Errorf("%s: the output does not say it is a dry run:\n%s%s", strings.Join(tc.args, " "), r.stdout, r.stderr)
		}
		for name, p := range map[string]*testbed.CountingProxy{"a": pa, "b": pb} {
			if w := dryWrites(p.Counts()); len(w) > 0 {
				t.Errorf("%s: requests other than reads reached server %s: %v", strings.Join(tc.args, " "), name, w)
			}
		}
		if tc.cmd == "ferry check" && !strings.Contains(r.stdout, "dry run, no probe written") {
			t.Errorf("check --dry-run does not say the probe was skipped:\n%s", r.stdout)
		}
	}
	for cmd := range destructive {
		if !covered[cmd] {
			t.Errorf("%s is destructive but its dry run is not run here", cmd)
		}
	}

	if after := drySnapshot(t, b, dst); !reflect.DeepEqual(after, dstBefore) {
		t.Errorf("the destination changed:\nbefore %v\nafter  %v", dstBefore, after)
	}
	if after := dryNotifications(t, a, src); after != notifyBefore {
		t.Errorf("the source's notification configuration changed: %s -> %s", notifyBefore, after)
	}
	if after := dryFailedJobs(t, dataDir); !reflect.DeepEqual(after, failedBefore) || len(after) != 1 {
		t.Errorf("the queue's FAILED operations changed: %v -> %v", failedBefore, after)
	}
	if _, err := os.Stat(pull); err == nil {
		t.Errorf("sync --dry-run to a folder created %s", pull)
	}

	// The control: without --dry-run, check writes its probe through the
	// same proxy, and the proxy sees it.
	pb.SetReadOnly(false)
	pb.Reset()
	ferry(t, bed, "check", "--config", cfg)
	if pb.Count("PutObject") == 0 {
		t.Errorf("a real check wrote nothing through the proxy (%v): the proxy would not see a dry run's writes either", pb.Counts())
	}
}

// dryWrites returns the operations in counts that are not reads.
func dryWrites(counts map[string]int64) []string {
	var out []string
	for op, n := range counts {
		read := strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "Head") || strings.HasPrefix(op, "List") ||
			op == "Other:GET" || op == "Other:HEAD"
		if !read && n > 0 {
			out = append(out, fmt.Sprintf("%s x%d", op, n))
		}
	}
	sort.Strings(out)
	return out
}

// drySnapshot lists a bucket's objects: key, ETag, size, last modified.
func drySnapshot(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, v := range out.Versions {
		s = append(s, fmt.Sprintf("%s %s %s %d %s", aws.ToString(v.Key), aws.ToString(v.VersionId), aws.ToString(v.ETag), aws.ToInt64(v.Size), v.LastModified))
	}
	for _, m := range out.DeleteMarkers {
		s = append(s, fmt.Sprintf("%s %s marker", aws.ToString(m.Key), aws.ToString(m.VersionId)))
	}
	sort.Strings(s)
	return s
}

// dryNotifications returns a bucket's notification configuration, printed.
func dryNotifications(t *testing.T, c *s3.Client, bucket string) string {
	t.Helper()
	out, err := c.GetBucketNotificationConfiguration(context.Background(), &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%+v %+v %+v %v", out.QueueConfigurations, out.TopicConfigurations, out.LambdaFunctionConfigurations, out.EventBridgeConfiguration != nil)
}

// dryFailedJobs lists the FAILED operations of the queue in dir.
func dryFailedJobs(t *testing.T, dir string) []string {
	t.Helper()
	q, err := queue.OpenShared(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var out []string
	err = q.Failed(context.Background(), func(j queue.Job) error {
		out = append(out, fmt.Sprintf("%s/%s %s %d %s", j.Event.Bucket, j.Event.Key, j.State, j.Attempts, j.Reason))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
