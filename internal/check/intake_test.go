package check_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ferry-s3/ferry/internal/check"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestCheckSQS: the SQS intake queue is asked for its attributes (a queue
// without a dead-letter queue is a warning), the source's notifications
// must name that very queue, and notification targets are checked
// without sending anything.
func TestCheckSQS(t *testing.T) {
	bed, src := setup(t, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	// MinIO cannot notify an SQS queue; a webhook target stands for
	// "some other queue".
	bed.Notify(t, src, "hook2")

	fake := testbed.NewSQS(t)
	ctx := context.Background()
	create := func(name string, attrs map[string]string) string {
		out, err := fake.Client().CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.QueueUrl)
	}
	create("dlq", nil)
	events := create("events", map[string]string{"RedrivePolicy": fmt.Sprintf(
		`{"deadLetterTargetArn":"arn:aws:sqs:%s:%s:dlq","maxReceiveCount":"3"}`, testbed.Region, testbed.SQSAccount)})
	bare := create("bare", nil)
	missing := fake.URL + "/" + testbed.SQSAccount + "/missing"
	bed.AddProfile(t, testbed.Profile{Name: "fake-sqs", URL: fake.URL, AccessKey: fake.AccessKey, SecretKey: fake.SecretKey})

	hook := httptest.NewServer(http.NotFoundHandler())
	defer hook.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadHook := "http://" + l.Addr().String() + "/hook"
	l.Close()

	cfg := func(intake string) string {
		return fmt.Sprintf(`source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b}]
run:
  webhook: {disabled: true}
  sqs: {queue_url: %q, profile: fake-sqs}
notifications:
  targets:
    - sqs: {queue_url: %q, profile: fake-sqs}
    - sqs: {queue_url: %q, profile: fake-sqs}
    - webhook: {url: %q}
    - webhook: {url: %q, token: s3cr3t-hook-token}
`, src, dst, intake, bare, missing, hook.URL, deadHook)
	}
	rs := runCheck(t, cfg(events))

	in := one(t, rs, "intake", events)
	want(t, in, check.Pass)
	if !strings.Contains(in.Detail, "arn:aws:sqs:us-east-1:123456789012:events") || !strings.Contains(in.Detail, "dead-letter queue after 3 receives") {
		t.Errorf("intake detail %q: want the queue's ARN and its dead-letter queue", in.Detail)
	}
	n := one(t, rs, "notifications", src)
	want(t, n, check.Fail, "ferry setup notifications --config")
	if !strings.Contains(n.Detail, "arn:minio:sqs::hook2:webhook") || !strings.Contains(n.Detail, "not to the SQS queue arn:aws:sqs:us-east-1:123456789012:events") {
		t.Errorf("notifications detail %q: want where events go and where they should", n.Detail)
	}
	want(t, one(t, rs, "notify-target", bare), check.Pass)
	m := one(t, rs, "notify-target", missing)
	want(t, m, check.Fail, "create the queue")
	if !strings.Contains(m.Error, "QueueDoesNotExist") && !strings.Contains(m.Error, "NonExistentQueue") {
		t.Errorf("missing queue error %q", m.Error)
	}
	want(t, one(t, rs, "notify-target", hook.URL), check.Pass)
	want(t, one(t, rs, "notify-target", deadHook), check.Warn)
	if n := fake.Calls("SendMessage"); n != 0 {
		t.Errorf("the check sent %d messages; it must send none", n)
	}
	// The write probe of a destination must not be mistaken for an intake.
	want(t, one(t, rs, "write", dst), check.Pass)

	rs = runCheck(t, cfg(bare))
	want(t, one(t, rs, "intake", bare), check.Warn, "RedrivePolicy")
}
