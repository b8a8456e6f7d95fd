package daemon_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// runFlow starts `ferry run` with the given run section, PUTs objects at
// the source, waits until every one is at the destination, then stops
// ferry with SIGTERM and checks it exits cleanly. publish, if set, sends
// the notifications itself (for intakes MinIO cannot feed).
func runFlow(t *testing.T, bed *testbed.Bed, src, dst, runSection string, env []string, publish func(keys []string)) {
	t.Helper()
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ferry.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("source: {bucket: %s, profile: tb-a}\ndestinations: [{bucket: %s, profile: tb-b}]\nrun:\n  listen: 127.0.0.1:0\n  data_dir: %s\n  reconcile_interval: 0s\n%s",
		src, dst, filepath.Join(dir, "data"), runSection)), 0o644)
	p := startFerry(t, testbed.FerryBinary(t), append(bed.Env(), env...), "run", "--config", cfg)
	defer p.cmd.Process.Kill()

	var keys []string
	for i := range 20 {
		k := fmt.Sprintf("flow/%d é+.txt", i)
		keys = append(keys, k)
		if _, err := a.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(k),
			Body: strings.NewReader("body " + k)}); err != nil {
			t.Fatal(err)
		}
	}
	if publish != nil {
		publish(keys)
	}
	waitFor(t, 30*time.Second, func() bool {
		for _, k := range keys {
			if _, err := b.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String(k)}); err != nil {
				return false
			}
		}
		return true
	})
	p.cmd.Process.Signal(syscall.SIGTERM)
	errc := make(chan error, 1)
	go func() { errc <- p.cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("ferry run exited with %v after SIGTERM:\n%s", err, tail(p.log.String(), 3000))
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("ferry run did not stop within 20s of SIGTERM")
	}
	if !strings.Contains(p.log.String(), "stopped") {
		t.Errorf("no clean shutdown in the log:\n%s", tail(p.log.String(), 3000))
	}
}

// TestFlowNATS: MinIO publishes its bucket notifications to NATS
// JetStream; `ferry run` consumes them and replicates.
func TestFlowNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: -short skips it")
	}
	bed := testbed.Require(t)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	bed.Notify(t, src, bed.NATS.Target)
	durable := "flow-" + strings.ReplaceAll(src, ".", "-")
	runFlow(t, bed, src, dst, fmt.Sprintf("  webhook: {disabled: true}\n  nats: {url: %q, stream: %s, subject: %s, durable: %s}\n",
		bed.NATS.URL, bed.NATS.Stream, bed.NATS.Subject, durable), nil, nil)
}

// TestFlowSQS: S3 -> SQS notifications (some SNS-wrapped, as with S3 ->
// SNS -> SQS) consumed by `ferry run`; every message is deleted once done.
// No SQS-compatible server installs here, so the queue is testbed.SQS,
// which checks the SDK's real requests (JSON protocol, SigV4).
func TestFlowSQS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: -short skips it")
	}
	bed := testbed.Require(t)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	fake := testbed.NewSQS(t)
	client := fake.Client()
	q, err := client.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("ferry-events")})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(q.QueueUrl)
	publish := func(keys []string) {
		for i, k := range keys {
			body := fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
"eventTime":"2026-11-21T10:00:00.000Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0",
"bucket":{"name":"%s","arn":"arn:aws:s3:::%s"},"object":{"key":"%s","size":1,"eTag":"x","sequencer":"0A"}}}]}`,
				src, src, escapeKey(k))
			if i%2 == 1 { // S3 -> SNS -> SQS
				body = fmt.Sprintf(`{"Type":"Notification","MessageId":"m%d","TopicArn":"arn:aws:sns:us-east-1:123456789012:t","Message":%q}`, i, body)
			}
			if _, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	runFlow(t, bed, src, dst, fmt.Sprintf("  webhook: {disabled: true}\n  sqs: {queue_url: %q, endpoint_url: %q, region: us-east-1}\n", url, fake.URL),
		[]string{"AWS_ACCESS_KEY_ID=" + fake.AccessKey, "AWS_SECRET_ACCESS_KEY=" + fake.SecretKey}, publish)
	if n := len(fake.Messages("ferry-events")); n != 0 {
		t.Errorf("%d messages left in the queue after replication", n)
	}
}
