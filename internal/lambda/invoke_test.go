package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ferry-s3/ferry/internal/event"
)

// failFor is the rule of the tests' handlers: keys containing "fail" fail.
func failFor(evs []event.Event) error {
	for _, e := range evs {
		if strings.Contains(e.Key, "fail") {
			return fmt.Errorf("copy %s/%s: refused by the test handler", e.Bucket, e.Key)
		}
	}
	return nil
}

// recorder is a Handler that records the events it is given.
type recorder struct {
	mu    sync.Mutex
	calls []string // "kind bucket/key", one per event
}

func (r *recorder) handle(_ context.Context, evs []event.Event) error {
	r.mu.Lock()
	for _, e := range evs {
		r.calls = append(r.calls, e.Kind.String()+" "+e.Bucket+"/"+e.Key)
	}
	r.mu.Unlock()
	return failFor(evs)
}

// quiet is the test's context, with a logger that drops Invoke's lines.
func quiet(t *testing.T) context.Context {
	return withLogger(t.Context(), slog.New(slog.DiscardHandler))
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	malformedID = "3c5f7a2e-9d0b-4e61-a8f3-5b2c1d0e9f84"
	failedID    = "6c8d0e2f-3a4b-4c5d-9e7f-8a9b0c1d2e3f"
	// sqsBatchResponse is what sqs-batch.json must answer: the malformed
	// message and the one the handler failed, in batch order.
	sqsBatchResponse = `{"batchItemFailures":[{"itemIdentifier":"` + malformedID + `"},{"itemIdentifier":"` + failedID + `"}]}`
)

func TestInvoke(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string // in testdata, or
		payload string
		resp    string   // JSON of the response; "null" when none
		err     string   // in the error
		calls   []string // sorted
	}{
		{name: "S3 multipart upload", file: "s3-put.json", resp: "null",
			calls: []string{"put photos-src/2024/summer trip(1).jpg"}},
		{name: "S3 delete marker", file: "s3-delete-marker.json", resp: "null",
			calls: []string{"delete-marker photos-src/2024/old.jpg"}},
		{name: "S3 handler fails", file: "s3-put-fail.json", err: "fail/broken.jpg: refused",
			calls: []string{"put photos-src/fail/broken.jpg"}},
		{name: "S3 malformed", file: "s3-missing-key.json", err: "malformed S3 notification: event: record 0: missing s3.object.key"},
		{name: "not JSON", file: "malformed.json", err: "not a JSON object"},
		{name: "SQS batch", file: "sqs-batch.json", resp: sqsBatchResponse, calls: []string{
			"delete-marker photos-src/2024/a.jpg", // EventBridge event through SQS
			"put photos-src/2024/a.jpg",           // S3 notification
			"put photos-src/2024/b.jpg",           // SNS-wrapped
			"put photos-src/fail/c.jpg",           // fails
		}},
		{name: "SQS batch all good", resp: `{"batchItemFailures":[]}`, calls: []string{"put b/k"},
			payload: sqsBatch(s3Body("b", "k", "01"))},
		{name: "EventBridge created", file: "eventbridge-created.json", resp: "null",
			calls: []string{"put photos-src/2024/report.pdf"}},
		{name: "EventBridge deleted", file: "eventbridge-deleted.json", resp: "null",
			calls: []string{"delete-marker photos-src/2024/report.pdf"}},
		{name: "EventBridge other", err: "malformed EventBridge event",
			payload: `{"version":"0","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`},
		{name: "SNS", file: "sns.json", resp: "null", calls: []string{"put photos-src/2024/from-sns.jpg"}},
		{name: "SNS malformed message", err: "malformed S3 notification in SNS message m-1",
			payload: `{"Records":[{"EventSource":"aws:sns","Sns":{"MessageId":"m-1","Message":"{\"Records\":[{"}}]}`},
		{name: "CodePipeline not configured", file: "codepipeline.json", err: "no CodePipeline action configured"},
		{name: "empty object", payload: `{}`, err: "expected an S3 event notification, an SQS batch"},
		{name: "no records", payload: `{"Records":[]}`, err: "unsupported invocation payload"},
		{name: "not an object", payload: `[1,2]`, err: "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := []byte(tc.payload)
			if tc.file != "" {
				payload = readTestdata(t, tc.file)
			}
			var rec recorder
			resp, err := Invoke(quiet(t), Handlers{Events: rec.handle}, payload)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error = %v, want one containing %q", err, tc.err)
				}
			} else if err != nil {
				t.Errorf("error = %v", err)
			}
			if err == nil {
				got, _ := json.Marshal(resp)
				if string(got) != tc.resp {
					t.Errorf("response = %s, want %s", got, tc.resp)
				}
			}
			slices.Sort(rec.calls)
			if !slices.Equal(rec.calls, tc.calls) {
				t.Errorf("handled %q, want %q", rec.calls, tc.calls)
			}
		})
	}
}

func TestSQSMalformedLogsIDNotBody(t *testing.T) {
	var logs bytes.Buffer
	ctx := withLogger(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)))
	var rec recorder
	if _, err := Invoke(ctx, Handlers{Events: rec.handle}, readTestdata(t, "sqs-batch.json")); err != nil {
		t.Fatal(err)
	}
	var malformed []string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "malformed") {
			malformed = append(malformed, line)
		}
	}
	if len(malformed) != 1 || !strings.Contains(malformed[0], malformedID) {
		t.Errorf("want one line naming %s about the malformed message, got:\n%s", malformedID, logs.String())
	}
	if strings.Contains(logs.String(), "secret-body-marker") {
		t.Errorf("a message body was logged:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), failedID) {
		t.Errorf("the failed message %s was not logged:\n%s", failedID, logs.String())
	}
}

// TestSQSSameObjectInOrder checks that messages of one object run one at a
// time in batch order, while other objects' messages run alongside, at
// most maxConcurrent at once.
func TestSQSSameObjectInOrder(t *testing.T) {
	var bodies []string
	for i := range 16 {
		bodies = append(bodies, s3Body("b", fmt.Sprintf("k%d", i%5), fmt.Sprintf("%02d", i)))
	}
	// One message naming the same object twice must not wait for itself.
	bodies = append(bodies, `{"Records":[`+s3Record("b", "k0", "16")+`,`+s3Record("b", "k0", "17")+`]}`)

	var (
		mu               sync.Mutex
		running          = map[string]bool{}
		seen             = map[string][]string{} // key -> sequencers in handling order
		inFlight, maxRun int
	)
	h := func(ctx context.Context, evs []event.Event) error {
		k := evs[0].Key
		mu.Lock()
		if running[k] {
			t.Errorf("two messages of %s at once", k)
		}
		running[k] = true
		inFlight++
		maxRun = max(maxRun, inFlight)
		for _, e := range evs {
			seen[k] = append(seen[k], e.Sequencer)
		}
		mu.Unlock()

		time.Sleep(20 * time.Millisecond)

		mu.Lock()
		running[k] = false
		inFlight--
		mu.Unlock()
		return nil
	}
	resp, err := Invoke(quiet(t), Handlers{Events: h}, []byte(sqsBatch(bodies...)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(failures(t, resp)); n != 0 {
		t.Errorf("%d failures", n)
	}
	for k, seqs := range seen {
		if !slices.IsSorted(seqs) {
			t.Errorf("%s handled in order %v", k, seqs)
		}
	}
	if len(seen["k0"]) != 6 {
		t.Errorf("k0 handled %v", seen["k0"])
	}
	if maxRun > maxConcurrent || maxRun < 2 {
		t.Errorf("%d messages ran at once, want 2..%d", maxRun, maxConcurrent)
	}
}

// TestSQSDeadline checks that no message starts when the deadline is near,
// that those not started are reported for redelivery, and that a handler
// still running is cancelled in time for the response to reach Lambda.
func TestSQSDeadline(t *testing.T) {
	slowThenRest := sqsBatch(s3Body("b", "slow", "1"), s3Body("b", "slow", "2"), s3Body("b", "other", "3"))

	t.Run("stop starting", func(t *testing.T) {
		// 1s left: no start after 0.5s. The first message takes 0.6s.
		ctx, cancel := context.WithTimeout(quiet(t), time.Second)
		defer cancel()
		var calls []string
		var mu sync.Mutex
		h := func(ctx context.Context, evs []event.Event) error {
			mu.Lock()
			calls = append(calls, evs[0].Sequencer)
			mu.Unlock()
			if evs[0].Key == "slow" {
				time.Sleep(600 * time.Millisecond)
			}
			return nil
		}
		resp, err := Invoke(ctx, Handlers{Events: h}, []byte(slowThenRest))
		if err != nil {
			t.Fatal(err)
		}
		// "other" runs alongside the first; the second "slow" waits for it
		// and is then too late.
		if got := failures(t, resp); !slices.Equal(got, []string{"m-1"}) {
			t.Errorf("failures %v, want [m-1]", got)
		}
		slices.Sort(calls)
		if !slices.Equal(calls, []string{"1", "3"}) {
			t.Errorf("handled %v, want [1 3]", calls)
		}
	})

	t.Run("cancel running", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(quiet(t), time.Second)
		defer cancel()
		start := time.Now()
		h := func(ctx context.Context, evs []event.Event) error {
			if evs[0].Key == "slow" {
				<-ctx.Done() // a copy that would outlive the invocation
				return ctx.Err()
			}
			return nil
		}
		resp, err := Invoke(ctx, Handlers{Events: h}, []byte(slowThenRest))
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d >= time.Second {
			t.Errorf("answered after %v, past the deadline", d)
		}
		if got := failures(t, resp); !slices.Equal(got, []string{"m-0", "m-1"}) {
			t.Errorf("failures %v, want [m-0 m-1]", got)
		}
	})

	t.Run("deadline passed", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(quiet(t), time.Now().Add(-time.Second))
		defer cancel()
		var rec recorder
		resp, err := Invoke(ctx, Handlers{Events: rec.handle}, []byte(slowThenRest))
		if err != nil {
			t.Fatal(err)
		}
		if got := failures(t, resp); len(got) != 3 || len(rec.calls) != 0 {
			t.Errorf("failures %v, handled %v; want all three failed, none handled", got, rec.calls)
		}
	})
}

func TestBudget(t *testing.T) {
	for _, tc := range []struct{ left, reserve time.Duration }{
		{15 * time.Minute, 90 * time.Second},       // 10%
		{30 * time.Second, 5 * time.Second},        // at least 5s
		{3 * time.Second, 1500 * time.Millisecond}, // at most half
	} {
		deadline := time.Now().Add(tc.left)
		ctx, cancel := context.WithDeadline(t.Context(), deadline)
		stop, end := budget(ctx)
		cancel()
		if d := deadline.Sub(stop) - tc.reserve; d.Abs() > 50*time.Millisecond {
			t.Errorf("%v left: stop %v before the deadline, want %v", tc.left, deadline.Sub(stop), tc.reserve)
		}
		if !end.After(stop) || !end.Before(deadline) {
			t.Errorf("%v left: handlers end %v before the deadline, want between stop and deadline", tc.left, deadline.Sub(end))
		}
	}
}

// failures returns the message ids of an SQS batch response.
func failures(t *testing.T, resp any) []string {
	t.Helper()
	r, ok := resp.(events.SQSEventResponse)
	if !ok {
		t.Fatalf("response is a %T, not an SQS batch response", resp)
	}
	var ids []string
	for _, f := range r.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// s3Record is an S3 notification record; seq is its sequencer.
func s3Record(bucket, key, seq string) string {
	return fmt.Sprintf(`{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1",`+
		`"eventTime":"2024-05-01T12:00:00.000Z","eventName":"ObjectCreated:Put",`+
		`"s3":{"s3SchemaVersion":"1.0","bucket":{"name":%q,"arn":"arn:aws:s3:::%s"},`+
		`"object":{"key":%q,"size":1,"eTag":"c4ca4238a0b923820dcc509a6f75849b","sequencer":%q}}}`,
		bucket, bucket, key, seq)
}

func s3Body(bucket, key, seq string) string {
	return `{"Records":[` + s3Record(bucket, key, seq) + `]}`
}

// sqsBatch is an SQS batch of the bodies, with message ids m-0, m-1, ...
func sqsBatch(bodies ...string) string {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	for i, body := range bodies {
		if i > 0 {
			b.WriteByte(',')
		}
		q, _ := json.Marshal(body)
		fmt.Fprintf(&b, `{"messageId":"m-%d","receiptHandle":"rh-%d","body":%s,"attributes":{},`+
			`"messageAttributes":{},"eventSource":"aws:sqs",`+
			`"eventSourceARN":"arn:aws:sqs:eu-west-1:123456789012:ferry-events","awsRegion":"eu-west-1"}`, i, i, q)
	}
	b.WriteString(`]}`)
	return b.String()
}
