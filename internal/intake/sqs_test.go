package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// s3Event is an S3 notification as AWS sends it to SQS: one
// ObjectCreated:Put record, the key URL-encoded.
func s3Event(bucket, key string) string {
	rec := map[string]any{
		"eventVersion": "2.1",
		"eventSource":  "aws:s3",
		"awsRegion":    "us-east-1",
		"eventTime":    time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"eventName":    "ObjectCreated:Put",
		"s3": map[string]any{
			"s3SchemaVersion": "1.0",
			"configurationId": "ferry",
			"bucket":          map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
			"object": map[string]any{
				"key":       url.QueryEscape(key),
				"size":      3,
				"eTag":      "acbd18db4cc2f85cedc6b3a2b3dc6b50",
				"sequencer": fmt.Sprintf("%016X", time.Now().UnixNano()),
			},
		},
	}
	b, _ := json.Marshal(map[string]any{"Records": []any{rec}})
	return string(b)
}

// snsWrapped wraps msg in an SNS notification, as an SQS queue subscribed
// to an SNS topic receives it.
func snsWrapped(msg string) string {
	b, _ := json.Marshal(map[string]any{
		"Type":      "Notification",
		"MessageId": "5d2d1b6a-0000-4000-8000-000000000000",
		"TopicArn":  "arn:aws:sns:us-east-1:123456789012:s3-events",
		"Subject":   "Amazon S3 Notification",
		"Message":   msg,
		"Timestamp": time.Now().UTC().Format(time.RFC3339),
	})
	return string(b)
}

// eventually polls cond until it holds or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recorder is a Handler that records its calls and returns what fail says.
type recorder struct {
	mu    sync.Mutex
	calls []call
	fail  func(evs []event.Event, n int) error // n counts the calls, from 1
}

type call struct {
	at  time.Time
	evs []event.Event
}

func (r *recorder) handle(ctx context.Context, evs []event.Event) error {
	r.mu.Lock()
	r.calls = append(r.calls, call{time.Now(), evs})
	n := len(r.calls)
	fail := r.fail
	r.mu.Unlock()
	if fail != nil {
		return fail(evs, n)
	}
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func (r *recorder) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var keys []string
	for _, c := range r.calls {
		for _, e := range c.evs {
			keys = append(keys, e.Bucket+"/"+e.Key)
		}
	}
	return keys
}

func (r *recorder) times() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ts []time.Time
	for _, c := range r.calls {
		ts = append(ts, c.at)
	}
	return ts
}

// run starts Run in the background; the returned function stops it and
// returns its error.
func run(t *testing.T, r interface{ Run(context.Context) error }) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-errc:
			case <-time.After(30 * time.Second):
				err = errors.New("Run did not return within 30s of the cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// sqsQueues creates a queue with attrs in fake, and a dead-letter queue for
// it when maxReceives > 0. It returns the queue's URL.
func sqsQueue(t *testing.T, fake *testbed.SQS, name string, maxReceives int, attrs map[string]string) string {
	t.Helper()
	c := fake.Client()
	ctx := context.Background()
	if attrs == nil {
		attrs = map[string]string{}
	}
	if maxReceives > 0 {
		dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq")})
		if err != nil {
			t.Fatal(err)
		}
		a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl,
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatal(err)
		}
		attrs["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, a.Attributes["QueueArn"], maxReceives)
	}
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl)
}

func sqsSend(t *testing.T, fake *testbed.SQS, queueURL string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		_, err := fake.Client().SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(b)})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		b    Backoff
		n    int
		want time.Duration
	}{
		{Backoff{}, 1, time.Second},
		{Backoff{}, 2, 2 * time.Second},
		{Backoff{}, 5, 16 * time.Second},
		{Backoff{}, 11, 15 * time.Minute},
		{Backoff{}, 1000, 15 * time.Minute},
		{Backoff{Min: 100 * time.Millisecond, Max: time.Second}, 3, 400 * time.Millisecond},
		{Backoff{Min: 100 * time.Millisecond, Max: time.Second}, 9, time.Second},
		{Backoff{Min: time.Minute, Max: time.Second}, 2, time.Minute}, // Max below Min: Min wins
		{Backoff{}, 0, time.Second},
	} {
		if got := tc.b.Delay(tc.n); got != tc.want {
			t.Errorf("%+v.Delay(%d) = %v, want %v", tc.b, tc.n, got, tc.want)
		}
	}
}

func TestSQSDeliversAndDeletes(t *testing.T) {
	t.Parallel()
	fake := testbed.NewSQS(t)
	q := sqsQueue(t, fake, "events", 0, nil)
	sqsSend(t, fake, q,
		s3Event("src", "a.txt"),
		snsWrapped(s3Event("src", "dir/b c+d.txt")),
		`{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-01-01T00:00:00.000Z","Bucket":"src"}`,
	)
	rec := &recorder{}
	stop := run(t, &SQS{Client: fake.Client(), QueueURL: q, Handle: rec.handle, Workers: 4})
	eventually(t, 10*time.Second, "the queue to be empty", func() bool { return len(fake.Messages("events")) == 0 })
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := strings.Join(rec.keys(), ",")
	if rec.count() != 2 || !strings.Contains(got, "src/a.txt") || !strings.Contains(got, "src/dir/b c+d.txt") {
		t.Errorf("handled %d messages with %q; want a.txt and the SNS-wrapped dir/b c+d.txt (the test event is not handled)", rec.count(), got)
	}
	if n := fake.Calls("DeleteMessageBatch"); n < 1 {
		t.Errorf("%d DeleteMessageBatch calls", n)
	}
}

// TestSQSBackoffToDLQ: a message whose handler fails is hidden for a
// growing delay, and SQS moves it to the DLQ after maxReceiveCount.
func TestSQSBackoffToDLQ(t *testing.T) {
	t.Parallel()
	fake := testbed.NewSQS(t)
	q := sqsQueue(t, fake, "failing", 3, nil)
	sqsSend(t, fake, q, s3Event("src", "k"))
	rec := &recorder{fail: func([]event.Event, int) error { return errors.New("destination down") }}
	var logs testbed.Buffer
	stop := run(t, &SQS{Client: fake.Client(), QueueURL: q, Handle: rec.handle,
		Backoff: Backoff{Min: time.Second, Max: 2 * time.Second}, Log: logs.Logger()})
	eventually(t, 20*time.Second, "the message in the DLQ", func() bool { return len(fake.Messages("failing-dlq")) == 1 })
	stop()
	ts := rec.times()
	if len(ts) != 3 {
		t.Fatalf("handler called %d times, want 3 (maxReceiveCount)", len(ts))
	}
	const slack = 150 * time.Millisecond
	if d := ts[1].Sub(ts[0]); d < time.Second-slack || d > 3*time.Second {
		t.Errorf("second delivery after %v, want about 1s", d)
	}
	if d := ts[2].Sub(ts[1]); d < 2*time.Second-slack || d > 4*time.Second {
		t.Errorf("third delivery after %v, want about 2s", d)
	}
	if len(fake.Messages("failing")) != 0 {
		t.Error("message still in the source queue")
	}
	if n := len(logs.Lines("handler failed")); n != 3 {
		t.Errorf("%d 'handler failed' log lines, want 3:\n%s", n, logs.String())
	}
}

// TestSQSMalformed: a malformed message is logged once per delivery,
// without its body, is not deleted (it ends in the DLQ) and does not stop
// the intake.
func TestSQSMalformed(t *testing.T) {
	t.Parallel()
	fake := testbed.NewSQS(t)
	q := sqsQueue(t, fake, "mixed", 2, nil)
	sqsSend(t, fake, q, "garbage SECRET-BODY", s3Event("src", "good"))
	rec := &recorder{}
	var logs testbed.Buffer
	stop := run(t, &SQS{Client: fake.Client(), QueueURL: q, Handle: rec.handle,
		Backoff: Backoff{Min: time.Second, Max: time.Second}, Log: logs.Logger()})
	eventually(t, 20*time.Second, "the malformed message in the DLQ", func() bool { return len(fake.Messages("mixed-dlq")) == 1 })
	stop()
	if got := rec.keys(); len(got) != 1 || got[0] != "src/good" {
		t.Errorf("handled %v, want [src/good]", got)
	}
	lines := logs.Lines("malformed")
	if len(lines) != 2 {
		t.Fatalf("%d 'malformed' log lines, want 2 (one per delivery):\n%s", len(lines), logs.String())
	}
	for _, l := range lines {
		if !strings.Contains(l, "message_id=") || strings.Contains(l, "SECRET") {
			t.Errorf("log line %q: want the message id and no body", l)
		}
	}
	if got := fake.Messages("mixed-dlq"); got[0] != "garbage SECRET-BODY" {
		t.Errorf("DLQ holds %q", got)
	}
}

// TestSQSSlowHandler: a handler slower than the visibility timeout keeps
// its message hidden, so no other worker gets it.
func TestSQSSlowHandler(t *testing.T) {
	t.Parallel()
	fake := testbed.NewSQS(t)
	q := sqsQueue(t, fake, "slow", 0, map[string]string{"VisibilityTimeout": "1"})
	sqsSend(t, fake, q, s3Event("src", "big"))
	rec := &recorder{fail: func([]event.Event, int) error { time.Sleep(3 * time.Second); return nil }}
	stop := run(t, &SQS{Client: fake.Client(), QueueURL: q, Handle: rec.handle, Workers: 3})
	eventually(t, 15*time.Second, "the queue to be empty", func() bool { return len(fake.Messages("slow")) == 0 })
	stop()
	if n := rec.count(); n != 1 {
		t.Errorf("handler called %d times, want 1", n)
	}
	if n := fake.Calls("ChangeMessageVisibility"); n < 2 {
		t.Errorf("%d visibility extensions in 3s with a 1s timeout", n)
	}
}

// TestSQSStop: a cancel waits for the running handler and deletes its
// message; messages not received stay.
func TestSQSStop(t *testing.T) {
	t.Parallel()
	fake := testbed.NewSQS(t)
	q := sqsQueue(t, fake, "stop", 0, nil)
	sqsSend(t, fake, q, s3Event("src", "first"))
	started, release := make(chan struct{}), make(chan struct{})
	rec := &recorder{fail: func([]event.Event, int) error {
		close(started)
		<-release
		return nil
	}}
	s := &SQS{Client: fake.Client(), QueueURL: q, Handle: rec.handle, Workers: 1}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx) }()
	<-started
	sqsSend(t, fake, q, s3Event("src", "second"))
	cancel()
	select {
	case err := <-errc:
		t.Fatalf("Run returned (%v) while a handler was running", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the handler finished")
	}
	if got := fake.Messages("stop"); len(got) != 1 || !strings.Contains(got[0], "second") {
		t.Errorf("left in the queue: %q, want only the second message", got)
	}
	if n := rec.count(); n != 1 {
		t.Errorf("handler called %d times, want 1", n)
	}
}

func TestSQSMissingQueue(t *testing.T) {
	t.Parallel()
	fake := testbed.NewSQS(t)
	err := (&SQS{Client: fake.Client(), QueueURL: fake.URL + "/" + testbed.SQSAccount + "/nope", Handle: (&recorder{}).handle}).Run(context.Background())
	var missing *types.QueueDoesNotExist
	if !errors.As(err, &missing) {
		t.Errorf("Run on a missing queue: %v, want QueueDoesNotExist", err)
	}
}
