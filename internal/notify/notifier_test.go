package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/notify"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// fakeOpener reaches one of the testbed's fakes, and records the options
// it was asked for.
type fakeOpener struct {
	url, key, secret string
	mu               sync.Mutex
	asked            []endpoint.Options
}

func (f *fakeOpener) open(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error) {
	f.mu.Lock()
	f.asked = append(f.asked, o)
	f.mu.Unlock()
	return &endpoint.Endpoint{Name: o.Profile, Region: testbed.Region, Config: aws.Config{
		Region:       testbed.Region,
		BaseEndpoint: aws.String(f.url),
		Credentials:  credentials.NewStaticCredentialsProvider(f.key, f.secret, ""),
		HTTPClient:   awshttp.NewBuildableClient(),
	}}, nil
}

func newNotifier(t *testing.T, cfg *config.Notifications, open notify.Opener, log *slog.Logger) *notify.Notifier {
	t.Helper()
	n, err := notify.New(context.Background(), cfg, open, log)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func closeNotifier(t *testing.T, n *notify.Notifier) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// parse reads a delivered message as an S3 consumer would.
func parse(t *testing.T, body string) events.S3EventRecord {
	t.Helper()
	var ev events.S3Event
	if err := json.Unmarshal([]byte(body), &ev); err != nil || len(ev.Records) != 1 {
		t.Fatalf("message %s: %v (%d records)", body, err, len(ev.Records))
	}
	return ev.Records[0]
}

func checkStats(t *testing.T, n *notify.Notifier, want notify.Stats) {
	t.Helper()
	if got := n.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}

func TestNotifierWebhook(t *testing.T) {
	const token = "hook-s3cret-token"
	t.Setenv("FERRY_TEST_HOOK_TOKEN", token)
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s with Content-Type %q, want a JSON POST", r.Method, r.Header.Get("Content-Type"))
		}
		if got := r.Header.Get("Authorization"); got != "Bearer "+token {
			t.Errorf("Authorization %q, want the bearer token", got)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	var log testbed.Buffer
	n := newNotifier(t, &config.Notifications{
		Targets: []config.NotifyTarget{{Webhook: &config.NotifyWebhook{URL: srv.URL + "/ferry", TokenEnv: "FERRY_TEST_HOOK_TOKEN"}}},
	}, nil, log.Logger())
	if s := n.Secrets(); len(s) != 1 || s[0] != token {
		t.Errorf("Secrets = %q", s)
	}
	e := docEvent()
	n.Send(e)
	e.Kind, e.FailureReason, e.Key = notify.MissedThreshold, "", "late.bin"
	n.Send(e)
	closeNotifier(t, n)

	checkStats(t, n, notify.Stats{Sent: 2})
	if len(bodies) != 2 {
		t.Fatalf("webhook got %d messages, want 2", len(bodies))
	}
	got := map[string]string{}
	for _, b := range bodies {
		r := parse(t, b)
		got[r.EventName] = r.S3.Object.URLDecodedKey
		if r.ReplicationEventData == nil || r.ReplicationEventData.DestinationBucket != "arn:aws:s3:::amzn-s3-demo-bucket2" {
			t.Errorf("replicationEventData = %+v", r.ReplicationEventData)
		}
	}
	if got["Replication:OperationFailedReplication"] != "replication-object-put-test.png" || got["Replication:OperationMissedThreshold"] != "late.bin" {
		t.Errorf("delivered %v", got)
	}
	if strings.Contains(log.String(), token) {
		t.Errorf("the token is in the log:\n%s", log.String())
	}
}

// Only the configured events are sent; the others are not counted.
func TestNotifierEventFilter(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	n := newNotifier(t, &config.Notifications{
		Events:  []string{"s3:Replication:OperationFailedReplication"},
		Targets: []config.NotifyTarget{{Webhook: &config.NotifyWebhook{URL: srv.URL}}},
	}, nil, nil)
	e := docEvent()
	n.Send(e)
	e.Kind = notify.ReplicatedAfterThreshold
	n.Send(e)
	closeNotifier(t, n)
	if calls.Load() != 1 {
		t.Errorf("%d deliveries, want only the failure", calls.Load())
	}
	checkStats(t, n, notify.Stats{Sent: 1})
}

func TestNotifierSQS(t *testing.T) {
	fake := testbed.NewSQS(t)
	q, err := fake.Client().CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("ferry-events")})
	if err != nil {
		t.Fatal(err)
	}
	open := &fakeOpener{url: fake.URL, key: fake.AccessKey, secret: fake.SecretKey}
	n := newNotifier(t, &config.Notifications{Targets: []config.NotifyTarget{{
		SQS: &config.NotifySQS{Options: endpoint.Options{Profile: "ops"}, QueueURL: aws.ToString(q.QueueUrl)},
	}}}, open.open, nil)
	n.Send(docEvent())
	closeNotifier(t, n)

	checkStats(t, n, notify.Stats{Sent: 1})
	if len(open.asked) != 1 || open.asked[0].Profile != "ops" {
		t.Errorf("opened %+v, want profile ops", open.asked)
	}
	msgs := fake.Messages("ferry-events")
	if len(msgs) != 1 {
		t.Fatalf("queue holds %d messages, want 1", len(msgs))
	}
	r := parse(t, msgs[0])
	if r.EventName != "Replication:OperationFailedReplication" || r.S3.Bucket.Name != "amzn-s3-demo-bucket1" ||
		r.ReplicationEventData.FailureReason != "AssumeRoleNotPermitted" {
		t.Errorf("message = %+v", r)
	}
}

func TestNotifierSNS(t *testing.T) {
	fake := testbed.NewSNS(t)
	topic := fake.NewTopic("ferry-events")
	queue := testbed.NewSQS(t) // subscribed to the topic, as S3 users do
	if _, err := queue.Client().CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("sub")}); err != nil {
		t.Fatal(err)
	}
	fake.Subscribe(topic, queue, "sub", false)

	open := &fakeOpener{url: fake.URL, key: fake.AccessKey, secret: fake.SecretKey}
	n := newNotifier(t, &config.Notifications{Targets: []config.NotifyTarget{{
		SNS: &config.NotifySNS{Options: endpoint.Options{Profile: "ops"}, TopicARN: topic},
	}}}, open.open, nil)
	e := docEvent()
	e.Kind, e.FailureReason, e.ReplicationTime = notify.ReplicatedAfterThreshold, "", 20*time.Minute
	n.Send(e)
	closeNotifier(t, n)

	checkStats(t, n, notify.Stats{Sent: 1})
	// Without a region in the config, the topic's own is used.
	if len(open.asked) != 1 || open.asked[0].Region != "us-east-1" || open.asked[0].Profile != "ops" {
		t.Errorf("opened %+v, want profile ops in the topic's region us-east-1", open.asked)
	}
	pub := fake.Published(topic)
	if len(pub) != 1 || pub[0].Subject != "Amazon S3 Notification" {
		t.Fatalf("published %+v, want one message with S3's subject", pub)
	}
	r := parse(t, pub[0].Message)
	if r.EventName != "Replication:OperationReplicatedAfterThreshold" || r.S3.Object.Key != "replication-object-put-test.png" {
		t.Errorf("message = %+v", r)
	}
	// What a subscribed queue receives: SNS's envelope around the record.
	sub := queue.Messages("sub")
	if len(sub) != 1 {
		t.Fatalf("subscribed queue holds %d messages", len(sub))
	}
	var env struct{ Type, TopicArn, Subject, Message string }
	if err := json.Unmarshal([]byte(sub[0]), &env); err != nil || env.TopicArn != topic || env.Message != pub[0].Message {
		t.Errorf("envelope %s: %v", sub[0], err)
	}
}

// A webhook answering 500 gets the message again.
func TestNotifierRetriesWebhook(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "busy, try later", http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	var log testbed.Buffer
	n := newNotifier(t, &config.Notifications{
		Targets: []config.NotifyTarget{{Webhook: &config.NotifyWebhook{URL: srv.URL}}},
	}, nil, log.Logger())
	n.Send(docEvent())
	closeNotifier(t, n)
	if calls.Load() != 2 {
		t.Errorf("%d requests, want 2 (500, then 200)", calls.Load())
	}
	checkStats(t, n, notify.Stats{Sent: 1})
	if strings.Contains(log.String(), "not delivered") {
		t.Errorf("a retried success was logged as a failure:\n%s", log.String())
	}
}

// An error retrying cannot fix is not retried, is counted and logged,
// and the log holds no secret.
func TestNotifierWebhookRejected(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "bad token", http.StatusUnauthorized)
	}))
	defer srv.Close()
	var log testbed.Buffer
	n := newNotifier(t, &config.Notifications{Targets: []config.NotifyTarget{{
		Webhook: &config.NotifyWebhook{URL: srv.URL + "/hook?key=query-s3cret", Token: "token-s3cret"},
	}}}, nil, log.Logger())
	n.Send(docEvent())
	closeNotifier(t, n)
	if calls.Load() != 1 {
		t.Errorf("%d requests, want 1: a 401 is not retried", calls.Load())
	}
	checkStats(t, n, notify.Stats{Failed: 1})
	out := log.String()
	for _, want := range []string{"replication notification not delivered", "401 Unauthorized", "check the webhook's token", srv.URL + "/hook?"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Errorf("a secret is in the log:\n%s", out)
	}
}

func TestNotifierUnknownSNSTopic(t *testing.T) {
	fake := testbed.NewSNS(t)
	missing := fake.TopicARN("no-such-topic")
	var log testbed.Buffer
	open := &fakeOpener{url: fake.URL, key: fake.AccessKey, secret: fake.SecretKey}
	n := newNotifier(t, &config.Notifications{Targets: []config.NotifyTarget{{SNS: &config.NotifySNS{TopicARN: missing}}}},
		open.open, log.Logger())
	n.Send(docEvent())
	closeNotifier(t, n)

	checkStats(t, n, notify.Stats{Failed: 1})
	if c := fake.Calls("Publish"); c != 1 {
		t.Errorf("%d Publish calls, want 1 (NotFound is not retried)", c)
	}
	out := log.String()
	for _, want := range []string{"level=ERROR", "replication notification not delivered", "target=\"sns " + missing, "Topic does not exist", "check topic_arn"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

// A full buffer drops events without blocking, counts them, and says so
// once per burst.
func TestNotifierDropsWhenFull(t *testing.T) {
	release := make(chan struct{})
	var arrived, calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		arrived.Add(1)
		<-release
	}))
	defer srv.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	var log testbed.Buffer
	n := newNotifier(t, &config.Notifications{Targets: []config.NotifyTarget{{Webhook: &config.NotifyWebhook{URL: srv.URL}}}},
		nil, log.Logger())

	// Occupy every worker, then fill the buffer (10,000), then overflow.
	const workers, buffer, extra = 4, 10000, 50
	for range workers {
		n.Send(docEvent())
	}
	deadline := time.Now().Add(10 * time.Second)
	for arrived.Load() < workers && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if arrived.Load() != workers {
		t.Fatalf("%d deliveries in flight, want %d", arrived.Load(), workers)
	}
	start := time.Now()
	for range buffer + extra {
		n.Send(docEvent())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Send blocked: %v for %d events", d, buffer+extra)
	}
	if got := n.Stats(); got.Dropped != extra {
		t.Fatalf("Dropped = %d, want %d", got.Dropped, extra)
	}
	if c := strings.Count(log.String(), "buffer full"); c != 1 {
		t.Errorf("%d 'buffer full' lines, want 1 per burst:\n%s", c, log.String())
	}

	close(release)
	for n.Stats().Sent < 100 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	n.Send(docEvent()) // room again: queued, and the burst's end is logged
	closeNotifier(t, n)
	checkStats(t, n, notify.Stats{Sent: workers + buffer + 1, Dropped: extra})
	if !strings.Contains(log.String(), "queued again") || !strings.Contains(log.String(), "dropped=50") {
		t.Errorf("log lacks the end of the burst:\n%s", log.String())
	}
}

// Close gives up when its context ends: what is in flight is canceled and
// counted, and Close says so.
func TestNotifierCloseDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)   // then the server notices the client leave
		<-r.Context().Done() // never answers
	}))
	defer srv.Close()
	n := newNotifier(t, &config.Notifications{Targets: []config.NotifyTarget{{Webhook: &config.NotifyWebhook{URL: srv.URL}}}}, nil, nil)
	for range 6 {
		n.Send(docEvent())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := n.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v", d)
	}
	// Four in flight fail; two never started are dropped.
	checkStats(t, n, notify.Stats{Failed: 4, Dropped: 2})
	n.Send(docEvent()) // after Close: dropped, no panic
	if got := n.Stats().Dropped; got != 3 {
		t.Errorf("Dropped after a Send past Close = %d, want 3", got)
	}
	if err := n.Close(context.Background()); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestNotifierNothingConfigured(t *testing.T) {
	var nilN *notify.Notifier
	nilN.Send(docEvent())
	if err := nilN.Close(context.Background()); err != nil || nilN.Stats() != (notify.Stats{}) || nilN.Secrets() != nil {
		t.Errorf("nil Notifier: Close %v, Stats %+v", err, nilN.Stats())
	}
	for _, cfg := range []*config.Notifications{nil, {}} {
		n := newNotifier(t, cfg, nil, nil)
		n.Send(docEvent())
		if err := n.Close(context.Background()); err != nil || n.Stats() != (notify.Stats{}) {
			t.Errorf("New(%v): Close %v, Stats %+v", cfg, err, n.Stats())
		}
	}
}

func TestNewErrors(t *testing.T) {
	t.Setenv("FERRY_TEST_EMPTY_TOKEN", "")
	_, err := notify.New(context.Background(), &config.Notifications{Targets: []config.NotifyTarget{
		{Webhook: &config.NotifyWebhook{URL: "https://hooks.example.com/x", TokenEnv: "FERRY_TEST_EMPTY_TOKEN"}},
	}}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "notifications.targets[0]: webhook https://hooks.example.com/x: environment variable FERRY_TEST_EMPTY_TOKEN is empty or not set") {
		t.Errorf("New with an empty token variable: %v", err)
	}

	failing := func(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error) {
		return nil, errors.New(`profile "ops" not found in the AWS config files`)
	}
	_, err = notify.New(context.Background(), &config.Notifications{Targets: []config.NotifyTarget{
		{Webhook: &config.NotifyWebhook{URL: "https://hooks.example.com/x"}},
		{SQS: &config.NotifySQS{Options: endpoint.Options{Profile: "ops"}, QueueURL: "https://sqs.eu-west-1.amazonaws.com/123456789012/q"}},
	}}, failing, nil)
	if err == nil || !strings.Contains(err.Error(), `notifications.targets[1]: sqs https://sqs.eu-west-1.amazonaws.com/123456789012/q: profile "ops" not found`) {
		t.Errorf("New with a bad profile: %v", err)
	}
}
