package testbed_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ferry-s3/ferry/internal/testbed"
)

func receive(t *testing.T, c *sqs.Client, url string, wait int32) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(ctx(t), &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(url),
		MaxNumberOfMessages:         10,
		WaitTimeSeconds:             wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

func send(t *testing.T, c *sqs.Client, url, body string) {
	t.Helper()
	if _, err := c.SendMessage(ctx(t), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
}

// TestSQSFake checks the fake against the SDK: the semantics the SQS intake
// relies on.
func TestSQSFake(t *testing.T) {
	t.Parallel()
	fake := testbed.NewSQS(t)
	c := fake.Client()

	dlq, err := c.CreateQueue(ctx(t), &sqs.CreateQueueInput{QueueName: aws.String("dlq")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := c.GetQueueAttributes(ctx(t), &sqs.GetQueueAttributesInput{
		QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, attrs.Attributes["QueueArn"])
	q, err := c.CreateQueue(ctx(t), &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{
		"VisibilityTimeout": "1", "RedrivePolicy": redrive}})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(q.QueueUrl)
	if got, err := c.GetQueueUrl(ctx(t), &sqs.GetQueueUrlInput{QueueName: aws.String("q")}); err != nil || aws.ToString(got.QueueUrl) != url {
		t.Fatalf("GetQueueUrl = %v, %v; want %s", got, err, url)
	}
	var missing *types.QueueDoesNotExist
	if _, err := c.GetQueueUrl(ctx(t), &sqs.GetQueueUrlInput{QueueName: aws.String("nope")}); !errors.As(err, &missing) {
		t.Fatalf("GetQueueUrl of a missing queue: %v, want QueueDoesNotExist", err)
	}
	if _, err := c.CreateQueue(ctx(t), &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{"VisibilityTimeout": "5"}}); err == nil {
		t.Error("CreateQueue with other attributes succeeded")
	}

	// A long poll waits, and answers as soon as a message arrives.
	start := time.Now()
	if msgs := receive(t, c, url, 1); len(msgs) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("empty long poll: %d messages after %v", len(msgs), time.Since(start))
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		send(t, c, url, "hello")
	}()
	start = time.Now()
	msgs := receive(t, c, url, 10)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "hello" || time.Since(start) > 3*time.Second {
		t.Fatalf("long poll: %d messages after %v", len(msgs), time.Since(start))
	}
	first := msgs[0]
	if n := first.Attributes["ApproximateReceiveCount"]; n != "1" {
		t.Errorf("ApproximateReceiveCount = %q, want 1", n)
	}
	// In flight: invisible.
	if msgs := receive(t, c, url, 0); len(msgs) != 0 {
		t.Fatalf("received an in-flight message")
	}
	// Visible again at once; received a second time with a new handle.
	if _, err := c.ChangeMessageVisibility(ctx(t), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(url), ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	msgs = receive(t, c, url, 1)
	if len(msgs) != 1 || msgs[0].Attributes["ApproximateReceiveCount"] != "2" || aws.ToString(msgs[0].ReceiptHandle) == aws.ToString(first.ReceiptHandle) {
		t.Fatalf("second receive: %+v", msgs)
	}
	// A stale handle deletes nothing (and does not fail), as on AWS.
	if _, err := c.DeleteMessage(ctx(t), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: first.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage with a stale handle: %v", err)
	}
	if got := fake.Messages("q"); len(got) != 1 {
		t.Fatalf("stale handle deleted the message: %v", got)
	}
	var notInflight *types.MessageNotInflight
	if _, err := c.ChangeMessageVisibility(ctx(t), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(url), ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 5}); !errors.As(err, &notInflight) {
		t.Errorf("ChangeMessageVisibility with a stale handle: %v, want MessageNotInflight", err)
	}
	var invalid *types.ReceiptHandleIsInvalid
	if _, err := c.DeleteMessage(ctx(t), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("bogus")}); !errors.As(err, &invalid) {
		t.Errorf("DeleteMessage with a bogus handle: %v, want ReceiptHandleIsInvalid", err)
	}

	// Received twice (maxReceiveCount): the next receive moves it to the DLQ.
	time.Sleep(1100 * time.Millisecond)
	if msgs := receive(t, c, url, 0); len(msgs) != 0 {
		t.Fatalf("third receive returned %d messages, want the message moved to the DLQ", len(msgs))
	}
	msgs = receive(t, c, aws.ToString(dlq.QueueUrl), 0)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "hello" || msgs[0].Attributes["DeadLetterQueueSourceArn"] == "" {
		t.Fatalf("DLQ: %+v", msgs)
	}

	// DeleteMessageBatch reports each entry.
	for i := range 3 {
		send(t, c, url, fmt.Sprint("m", i))
	}
	msgs = receive(t, c, url, 0)
	if len(msgs) != 3 {
		t.Fatalf("received %d of 3", len(msgs))
	}
	entries := []types.DeleteMessageBatchRequestEntry{{Id: aws.String("bad"), ReceiptHandle: aws.String("bogus")}}
	for i, m := range msgs[:2] {
		entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
	}
	out, err := c.DeleteMessageBatch(ctx(t), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "bad" {
		t.Errorf("DeleteMessageBatch: %d ok, failed %+v", len(out.Successful), out.Failed)
	}
	if got := fake.Messages("q"); len(got) != 1 || got[0] != "m2" {
		t.Errorf("left after batch delete: %v, want [m2]", got)
	}
}

// recorder is a testing.TB that keeps the fake's complaints.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestSQSFakeChecksSignature(t *testing.T) {
	t.Parallel()
	rec := &recorder{TB: t}
	fake := testbed.NewSQS(rec)
	wrong := sqs.New(sqs.Options{
		Region:           testbed.Region,
		BaseEndpoint:     aws.String(fake.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(fake.AccessKey, "not-the-secret", ""),
		HTTPClient:       awshttp.NewBuildableClient(),
		RetryMaxAttempts: 1,
	})
	if _, err := wrong.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("q")}); err == nil {
		t.Fatal("a request signed with the wrong secret succeeded")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "signature mismatch") {
		t.Errorf("fake reported %q, want one signature mismatch", rec.errs)
	}
	if n := len(fake.Queues()); n != 0 {
		t.Errorf("%d queues created by a bad request", n)
	}
}
