package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// notifications is a bucket's notification configuration, one line per
// configuration ("ID ARN EVENTS prefix=P"), sorted, for comparing.
func notifications(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.GetBucketNotificationConfiguration(context.Background(), &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("notifications of %s: %v", bucket, err)
	}
	var lines []string
	for _, q := range out.QueueConfigurations {
		prefix := ""
		if q.Filter != nil && q.Filter.Key != nil {
			for _, r := range q.Filter.Key.FilterRules {
				prefix += " " + strings.ToLower(string(r.Name)) + "=" + aws.ToString(r.Value)
			}
		}
		events := fmt.Sprint(q.Events)
		lines = append(lines, aws.ToString(q.Id)+" "+aws.ToString(q.QueueArn)+" "+events+prefix)
	}
	slices.Sort(lines)
	return lines
}

// putNotifications sets a bucket's queue configurations; the test's end
// removes them all (before NewBucket's cleanup deletes the bucket).
func putNotifications(t *testing.T, c *s3.Client, bucket string, qs ...types.QueueConfiguration) {
	t.Helper()
	put := func(qs []types.QueueConfiguration) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String(bucket), NotificationConfiguration: &types.NotificationConfiguration{QueueConfigurations: qs}})
		return err
	}
	if err := put(qs); err != nil {
		t.Fatalf("notifications of %s: %v", bucket, err)
	}
	t.Cleanup(func() {
		if err := put(nil); err != nil {
			t.Logf("cleanup: notifications of %s: %v", bucket, err)
		}
	})
}

// setupConfig writes a ferry.yaml for source bucket src on server a with
// the given rules.
func setupConfig(t *testing.T, src, rules string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ferry.yaml")
	yaml := fmt.Sprintf("source: {bucket: %s, profile: tb-a}\ndestinations: [{bucket: setup-dst, profile: tb-b}]\n%s\n", src, rules)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// stdin makes the process's standard input a pipe holding s (not a
// terminal), until the test ends. Tests that run ferry are never parallel
// (they set the environment), so swapping os.Stdin is safe.
func stdin(t *testing.T, s string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString(s)
	w.Close()
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = old; r.Close() })
}

// TestSetupNotifications: on a bucket that already sends some events
// elsewhere, --dry-run and a run without --yes (and without a terminal,
// even with "y" waiting on stdin) change nothing; --yes adds ferry's
// configuration (events, prefix of the rules) and keeps the other one; a
// second run has nothing to change.
func TestSetupNotifications(t *testing.T) {
	bed := testbed.Require(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	audit := types.QueueConfiguration{Id: aws.String("audit"), QueueArn: aws.String(bed.TargetARN(t, "hook1")),
		Events: []types.Event{"s3:ObjectRemoved:*"}, Filter: &types.NotificationConfigurationFilter{Key: &types.S3KeyFilter{
			FilterRules: []types.FilterRule{{Name: types.FilterRuleNamePrefix, Value: aws.String("logs/")}}}}}
	putNotifications(t, a, src, audit)
	before := notifications(t, a, src)
	cfg := setupConfig(t, src, `replication:
  Rules:
    - {ID: builds, Status: Enabled, Priority: 1, Filter: {Prefix: builds/}, DeleteMarkerReplication: {Status: Disabled},
       Destination: {Bucket: "arn:aws:s3:::setup-dst"}}`)
	hook := bed.TargetARN(t, "hook3")

	r := ferry(t, bed, "setup", "notifications", "--config", cfg, "--target", hook, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "+ ferry: queue "+hook+", s3:ObjectCreated:*, keys builds/*  (added)") ||
		!strings.Contains(r.stdout, "= audit: queue ") || !strings.Contains(r.stdout, "dry run: nothing changed") {
		t.Errorf("--dry-run: exit %d\n%s", r.code, r.stdout)
	}
	if got := notifications(t, a, src); !slices.Equal(got, before) {
		t.Errorf("--dry-run changed the configuration: %v", got)
	}

	stdin(t, "y\n")
	r = ferry(t, bed, "setup", "notifications", "--config", cfg, "--target", hook)
	if r.code != 2 || !strings.Contains(r.stderr, "re-run with --yes to apply (or --dry-run to only look)") {
		t.Errorf("no --yes, no terminal: exit %d, stderr %s", r.code, r.stderr)
	}
	if got := notifications(t, a, src); !slices.Equal(got, before) {
		t.Errorf("a refused run changed the configuration: %v", got)
	}

	r = ferry(t, bed, "setup", "notifications", "--config", cfg, "--target", hook, "--yes")
	want := []string{
		"audit " + bed.TargetARN(t, "hook1") + " [s3:ObjectRemoved:*] prefix=logs/",
		"ferry " + hook + " [s3:ObjectCreated:*] prefix=builds/",
	}
	if got := notifications(t, a, src); r.code != 0 || !slices.Equal(got, want) {
		t.Fatalf("--yes: exit %d, configuration\n%s\nwant\n%s", r.code, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(r.stdout, "applied: s3://"+src+" now sends s3:ObjectCreated:* of keys builds/* to "+hook) {
		t.Errorf("--yes: %s", r.stdout)
	}

	r = ferry(t, bed, "setup", "notifications", "--config", cfg, "--target", hook, "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "already configured; nothing to change") ||
		!strings.Contains(r.stdout, "= ferry: queue "+hook+", s3:ObjectCreated:*, keys builds/*  (already so)") {
		t.Errorf("second run: exit %d\n%s", r.code, r.stdout)
	}
	if got := notifications(t, a, src); !slices.Equal(got, want) {
		t.Errorf("second run changed the configuration: %v", got)
	}
}

// TestSetupDeleteMarkers: rules that replicate delete markers get
// s3:ObjectRemoved:* too, with the prefix the rules share; an older
// configuration of ferry's (Id ferry-...) is replaced; --json prints the
// plan and the configuration in the AWS CLI's shape.
func TestSetupDeleteMarkers(t *testing.T) {
	bed := testbed.Require(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	putNotifications(t, a, src, types.QueueConfiguration{Id: aws.String("ferry-old"), QueueArn: aws.String(bed.TargetARN(t, "hook2")),
		Events: []types.Event{"s3:ObjectCreated:Put"}})
	cfg := setupConfig(t, src, `replication:
  Rules:
    - {ID: x, Status: Enabled, Priority: 1, Filter: {Prefix: data/x/}, DeleteMarkerReplication: {Status: Enabled},
       Destination: {Bucket: "arn:aws:s3:::setup-dst"}}
    - {ID: y, Status: Enabled, Priority: 2, Filter: {Prefix: data/y/}, DeleteMarkerReplication: {Status: Disabled},
       Destination: {Bucket: "arn:aws:s3:::setup-dst"}}`)
	nats := bed.TargetARN(t, bed.NATS.Target)

	r := ferry(t, bed, "setup", "notifications", "--config", cfg, "--target", nats, "--yes", "--json")
	var plan struct {
		Changed bool
		Changes []struct {
			Action, ID string
			Was        *struct{ ID string }
		}
		Configuration struct {
			QueueConfigurations []struct {
				ID       string `json:"Id"`
				QueueArn string
				Events   []string
				Filter   struct {
					Key struct {
						FilterRules []struct{ Name, Value string }
					}
				}
			}
		}
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &plan) != nil {
		t.Fatalf("--json: exit %d\n%s", r.code, r.stdout)
	}
	qs := plan.Configuration.QueueConfigurations
	if !plan.Changed || len(plan.Changes) != 1 || plan.Changes[0].Action != "replace" || plan.Changes[0].Was == nil ||
		plan.Changes[0].Was.ID != "ferry-old" || len(qs) != 1 || qs[0].ID != "ferry" || qs[0].QueueArn != nats ||
		!slices.Equal(qs[0].Events, []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}) ||
		len(qs[0].Filter.Key.FilterRules) != 1 || qs[0].Filter.Key.FilterRules[0].Value != "data/" {
		t.Errorf("--json plan: %+v", plan)
	}
	want := []string{"ferry " + nats + " [s3:ObjectCreated:* s3:ObjectRemoved:*] prefix=data/"}
	if got := notifications(t, a, src); !slices.Equal(got, want) {
		t.Errorf("configuration %v, want %v", got, want)
	}
}

// TestSetupTargetErrors: a target the server does not have is refused by
// the server, and the refusal explained; a webhook config without
// --target says how to create the MinIO target. Nothing is changed.
func TestSetupTargetErrors(t *testing.T) {
	bed := testbed.Require(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	cfg := setupConfig(t, src, "")

	r := ferry(t, bed, "setup", "notifications", "--config", cfg, "--target", "arn:minio:sqs::nosuch:webhook", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "A specified destination ARN does not exist") ||
		!strings.Contains(r.stderr, "The server has no notification target arn:minio:sqs::nosuch:webhook") ||
		!strings.Contains(r.stderr, "mc admin config get ALIAS notify_webhook") {
		t.Errorf("unknown target: exit %d\n%s", r.code, r.stderr)
	}
	if got := notifications(t, a, src); len(got) != 0 {
		t.Errorf("unknown target: configuration %v", got)
	}

	r = ferry(t, bed, "setup", "notifications", "--config", cfg, "--dry-run")
	if r.code != 2 || !strings.Contains(r.stderr, "mc admin config set ALIAS notify_webhook:ferry endpoint=http://FERRY-HOST:8080/events") ||
		!strings.Contains(r.stderr, "--target arn:minio:sqs::ferry:webhook") {
		t.Errorf("no target: exit %d\n%s", r.code, r.stderr)
	}
}
