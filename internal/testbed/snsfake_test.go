package testbed_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestSNSFake checks the fake against the SDK: topics, Publish and its
// errors, and delivery to subscribed SQS queues.
func TestSNSFake(t *testing.T) {
	t.Parallel()
	fake := testbed.NewSNS(t)
	c := fake.Client()

	out, err := c.CreateTopic(ctx(t), &sns.CreateTopicInput{Name: aws.String("events")})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	arn := aws.ToString(out.TopicArn)
	if want := "arn:aws:sns:us-east-1:" + testbed.SQSAccount + ":events"; arn != want || fake.TopicARN("events") != want {
		t.Fatalf("topic ARN %q, want %q", arn, want)
	}
	again, err := c.CreateTopic(ctx(t), &sns.CreateTopicInput{Name: aws.String("events")})
	if err != nil || aws.ToString(again.TopicArn) != arn {
		t.Fatalf("CreateTopic again = %v, %v; want the same ARN (idempotent)", again, err)
	}

	// Subscribed queues get each message: in SNS's envelope, or raw.
	q := testbed.NewSQS(t)
	for _, name := range []string{"wrapped", "raw"} {
		if _, err := q.Client().CreateQueue(ctx(t), &sqs.CreateQueueInput{QueueName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	fake.Subscribe(arn, q, "wrapped", false)
	fake.Subscribe(arn, q, "raw", true)

	msg := `{"Records":[{"eventName":"Replication:OperationFailedReplication"}]}`
	pub, err := c.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String(msg), Subject: aws.String("Amazon S3 Notification")})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	id := aws.ToString(pub.MessageId)
	got := fake.Published(arn)
	if len(got) != 1 || got[0].ID != id || got[0].Message != msg || got[0].Subject != "Amazon S3 Notification" {
		t.Fatalf("Published = %+v, want one message %s", got, id)
	}
	if m := fake.Messages(arn); len(m) != 1 || m[0] != msg {
		t.Errorf("Messages = %q", m)
	}
	if raw := q.Messages("raw"); len(raw) != 1 || raw[0] != msg {
		t.Errorf("raw delivery = %q, want the message alone", raw)
	}
	wrapped := q.Messages("wrapped")
	if len(wrapped) != 1 {
		t.Fatalf("wrapped delivery: %d messages", len(wrapped))
	}
	var env struct{ Type, MessageId, TopicArn, Subject, Message, Timestamp string }
	if err := json.Unmarshal([]byte(wrapped[0]), &env); err != nil {
		t.Fatalf("envelope %s: %v", wrapped[0], err)
	}
	if env.Type != "Notification" || env.MessageId != id || env.TopicArn != arn || env.Subject != "Amazon S3 Notification" || env.Message != msg || env.Timestamp == "" {
		t.Errorf("envelope = %+v", env)
	}

	// SNS's errors, as the SDK's typed errors.
	var nf *types.NotFoundException
	_, err = c.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(fake.TopicARN("nope")), Message: aws.String("x")})
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "Topic does not exist") {
		t.Errorf("Publish to a missing topic: %v, want NotFound", err)
	}
	var bad *types.InvalidParameterException
	if _, err := c.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("")}); !errors.As(err, &bad) {
		t.Errorf("Publish of an empty message: %v, want InvalidParameter", err)
	}
	if _, err := c.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x"), Subject: aws.String("two\nlines")}); !errors.As(err, &bad) {
		t.Errorf("Publish with a subject on two lines: %v, want InvalidParameter", err)
	}
	if _, err := c.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String(strings.Repeat("x", 256<<10+1))}); !errors.As(err, &bad) {
		t.Errorf("Publish of 256 KiB + 1: %v, want InvalidParameter", err)
	}
	if n := len(fake.Messages(arn)); n != 1 {
		t.Errorf("%d messages after refused publishes, want 1", n)
	}
	if n := fake.Calls("Publish"); n != 5 {
		t.Errorf("Calls(Publish) = %d, want 5", n)
	}

	if _, err := c.DeleteTopic(ctx(t), &sns.DeleteTopicInput{TopicArn: aws.String(arn)}); err != nil {
		t.Fatalf("DeleteTopic: %v", err)
	}
	if _, err := c.Publish(ctx(t), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x")}); !errors.As(err, &nf) {
		t.Errorf("Publish to a deleted topic: %v, want NotFound", err)
	}
	if topics := fake.Topics(); len(topics) != 0 {
		t.Errorf("topics after delete: %q", topics)
	}
}

func TestSNSFakeChecksSignature(t *testing.T) {
	t.Parallel()
	rec := &recorder{TB: t}
	fake := testbed.NewSNS(rec)
	arn := fake.NewTopic("t")
	wrong := sns.New(sns.Options{
		Region:           testbed.Region,
		BaseEndpoint:     aws.String(fake.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(fake.AccessKey, "not-the-secret", ""),
		HTTPClient:       awshttp.NewBuildableClient(),
		RetryMaxAttempts: 1,
	})
	if _, err := wrong.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("x")}); err == nil {
		t.Fatal("a request signed with the wrong secret succeeded")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "signature mismatch") {
		t.Errorf("fake reported %q, want one signature mismatch", rec.errs)
	}
	if n := len(fake.Messages(arn)); n != 0 {
		t.Errorf("%d messages published by a bad request", n)
	}
}
