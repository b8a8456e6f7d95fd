package intake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/testbed"
)

func TestSubjectCovered(t *testing.T) {
	for _, tc := range []struct {
		subj, pattern string
		want          bool
	}{
		{"minio.events", "minio.events", true},
		{"minio.events", "minio.*", true},
		{"minio.events", "minio.>", true},
		{"minio.events", ">", true},
		{"minio.events.a", "minio.*", false},
		{"minio.events.a", "minio.>", true},
		{"minio", "minio.>", false},
		{"minio.*", "minio.*", true},
		{"minio.*", "minio.events", false},
		{"minio.>", "minio.*", false},
		{"minio.>", "minio.>", true},
		{"other.events", "minio.*", false},
		{"minio.events", "minio.events.x", false},
	} {
		if got := subjectCovered(tc.subj, tc.pattern); got != tc.want {
			t.Errorf("subjectCovered(%q, %q) = %v, want %v", tc.subj, tc.pattern, got, tc.want)
		}
	}
}

// jetStream connects to the bed's NATS server.
func jetStream(t *testing.T, bed *testbed.Bed) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(bed.NATSURL())
	if err != nil {
		t.Fatalf("connect to the bed's NATS: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// natsScratch returns a unique stream name and subject, and deletes the
// stream when the test ends.
func natsScratch(t *testing.T, js jetstream.JetStream) (stream, subject string) {
	t.Helper()
	var b [5]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	stream, subject = "T_"+strings.ToUpper(id), "test."+id+".events"
	t.Cleanup(func() {
		if err := js.DeleteStream(context.Background(), stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Logf("delete stream %s: %v", stream, err)
		}
	})
	return stream, subject
}

func publish(t *testing.T, js jetstream.JetStream, subject string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		if _, err := js.Publish(context.Background(), subject, []byte(b)); err != nil {
			t.Fatalf("publish to %s: %v", subject, err)
		}
	}
}

func consumerInfo(t *testing.T, js jetstream.JetStream, stream, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := js.Consumer(context.Background(), stream, durable)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// settled reports whether the consumer has nothing pending or unacked.
func settled(t *testing.T, js jetstream.JetStream, stream, durable string) bool {
	info := consumerInfo(t, js, stream, durable)
	return info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
}

func TestNATSDeliversAndAcks(t *testing.T) {
	t.Parallel()
	bed := testbed.Require(t)
	js := jetStream(t, bed)
	stream, subject := natsScratch(t, js)
	rec := &recorder{}
	in := &NATS{URL: bed.NATSURL(), Stream: stream, Subject: subject, Durable: "ferry", Handle: rec.handle}
	stop := run(t, in)
	// Run creates the stream; wait for it before publishing.
	eventually(t, 10*time.Second, "the stream", func() bool { _, err := js.Stream(context.Background(), stream); return err == nil })
	publish(t, js, subject, s3Event("src", "a.txt"), snsWrapped(s3Event("src", "ü/b+c d.txt")), `{"Event":"s3:TestEvent"}`)
	eventually(t, 10*time.Second, "all messages acked", func() bool {
		info := consumerInfo(t, js, stream, "ferry")
		return info.AckFloor.Stream == 3 && info.NumAckPending == 0
	})
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := rec.keys(); !slices.Equal(got, []string{"src/a.txt", "src/ü/b+c d.txt"}) && !slices.Equal(got, []string{"src/ü/b+c d.txt", "src/a.txt"}) {
		t.Errorf("handled %q", got)
	}

	// A second Run finds the stream and the consumer as they are.
	rec2 := &recorder{}
	in.Handle = rec2.handle
	stop = run(t, in)
	publish(t, js, subject, s3Event("src", "later"))
	eventually(t, 10*time.Second, "the next message", func() bool { return rec2.count() == 1 })
	stop()
	if got := rec2.keys(); !slices.Equal(got, []string{"src/later"}) {
		t.Errorf("second run handled %q, want only the new message", got)
	}
}

// TestNATSBackoffMaxDeliver: a failed message is delivered again after a
// growing delay, MaxDeliver times in all.
func TestNATSBackoffMaxDeliver(t *testing.T) {
	t.Parallel()
	bed := testbed.Require(t)
	js := jetStream(t, bed)
	stream, subject := natsScratch(t, js)
	rec := &recorder{fail: func([]event.Event, int) error { return errors.New("destination down") }}
	var logs testbed.Buffer
	stop := run(t, &NATS{URL: bed.NATSURL(), Stream: stream, Subject: subject, Durable: "ferry", Handle: rec.handle,
		MaxDeliver: 3, Backoff: Backoff{Min: 500 * time.Millisecond, Max: time.Second}, Log: logs.Logger()})
	eventually(t, 10*time.Second, "the stream", func() bool { _, err := js.Stream(context.Background(), stream); return err == nil })
	publish(t, js, subject, s3Event("src", "k"))
	eventually(t, 10*time.Second, "three deliveries", func() bool { return rec.count() == 3 })
	time.Sleep(2 * time.Second) // no fourth
	stop()
	ts := rec.times()
	if len(ts) != 3 {
		t.Fatalf("%d deliveries, want 3 (MaxDeliver)", len(ts))
	}
	const slack = 100 * time.Millisecond
	if d := ts[1].Sub(ts[0]); d < 500*time.Millisecond-slack || d > 2*time.Second {
		t.Errorf("second delivery after %v, want about 500ms", d)
	}
	if d := ts[2].Sub(ts[1]); d < time.Second-slack || d > 3*time.Second {
		t.Errorf("third delivery after %v, want about 1s", d)
	}
	if n := len(logs.Lines("gives up")); n != 1 {
		t.Errorf("%d 'gives up' log lines, want 1:\n%s", n, logs.String())
	}
}

// TestNATSMalformed: a malformed message is terminated with a log line and
// does not stop the intake.
func TestNATSMalformed(t *testing.T) {
	t.Parallel()
	bed := testbed.Require(t)
	js := jetStream(t, bed)
	stream, subject := natsScratch(t, js)
	rec := &recorder{}
	var logs testbed.Buffer
	stop := run(t, &NATS{URL: bed.NATSURL(), Stream: stream, Subject: subject, Durable: "ferry", Handle: rec.handle, Log: logs.Logger()})
	eventually(t, 10*time.Second, "the stream", func() bool { _, err := js.Stream(context.Background(), stream); return err == nil })
	publish(t, js, subject, "garbage SECRET-BODY", s3Event("src", "good"))
	eventually(t, 10*time.Second, "both messages settled", func() bool {
		info := consumerInfo(t, js, stream, "ferry")
		return info.AckFloor.Stream == 2 && info.NumAckPending == 0
	})
	stop()
	if got := rec.keys(); !slices.Equal(got, []string{"src/good"}) {
		t.Errorf("handled %q, want [src/good]", got)
	}
	lines := logs.Lines("malformed")
	if len(lines) != 1 || !strings.Contains(lines[0], "stream_seq=1") || strings.Contains(lines[0], "SECRET") {
		t.Errorf("malformed log lines %q: want one, with the sequence and without the body", lines)
	}
}

// TestNATSInProgress: a handler slower than AckWait keeps its message.
func TestNATSInProgress(t *testing.T) {
	t.Parallel()
	bed := testbed.Require(t)
	js := jetStream(t, bed)
	stream, subject := natsScratch(t, js)
	rec := &recorder{fail: func([]event.Event, int) error { time.Sleep(3 * time.Second); return nil }}
	stop := run(t, &NATS{URL: bed.NATSURL(), Stream: stream, Subject: subject, Durable: "ferry", Handle: rec.handle,
		Workers: 3, AckWait: time.Second})
	eventually(t, 10*time.Second, "the stream", func() bool { _, err := js.Stream(context.Background(), stream); return err == nil })
	publish(t, js, subject, s3Event("src", "big"))
	eventually(t, 15*time.Second, "the ack", func() bool {
		return rec.count() > 0 && consumerInfo(t, js, stream, "ferry").AckFloor.Stream == 1
	})
	stop()
	if n := rec.count(); n != 1 {
		t.Errorf("handler called %d times, want 1", n)
	}
}

// TestNATSStream: Run adds its subject to an existing stream and leaves
// the rest of it alone.
func TestNATSStream(t *testing.T) {
	t.Parallel()
	bed := testbed.Require(t)
	js := jetStream(t, bed)
	stream, subject := natsScratch(t, js)
	other := subject + ".other"
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: stream, Subjects: []string{other}, MaxMsgs: 1234}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	stop := run(t, &NATS{URL: bed.NATSURL(), Stream: stream, Subject: subject, Durable: "ferry", Handle: rec.handle})
	eventually(t, 10*time.Second, "the subject added", func() bool {
		s, err := js.Stream(context.Background(), stream)
		return err == nil && slices.Contains(s.CachedInfo().Config.Subjects, subject)
	})
	publish(t, js, subject, s3Event("src", "k"))
	eventually(t, 10*time.Second, "the message", func() bool { return rec.count() == 1 })
	stop()
	s, err := js.Stream(context.Background(), stream)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := s.CachedInfo().Config; !slices.Equal(cfg.Subjects, []string{other, subject}) || cfg.MaxMsgs != 1234 {
		t.Errorf("stream config: subjects %q, max msgs %d", cfg.Subjects, cfg.MaxMsgs)
	}

	// No subject and no stream: an error, not a guess.
	err = (&NATS{URL: bed.NATSURL(), Stream: stream + "_MISSING", Durable: "ferry", Handle: rec.handle}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Run without stream or subject: %v", err)
	}
}

// TestNATSFromMinIO: a PUT on MinIO a reaches Handle through MinIO's
// JetStream notification target.
func TestNATSFromMinIO(t *testing.T) {
	t.Parallel()
	bed := testbed.Require(t)
	js := jetStream(t, bed)
	bucket := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	var b [5]byte
	rand.Read(b[:])
	durable := "test-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		if err := js.DeleteConsumer(context.Background(), bed.NATS.Stream, durable); err != nil {
			t.Logf("delete consumer %s: %v", durable, err)
		}
	})

	// The stream is shared with other tests: keep only this bucket's events.
	found := make(chan event.Event, 10)
	handle := func(ctx context.Context, evs []event.Event) error {
		for _, e := range evs {
			if e.Bucket == bucket {
				found <- e
			}
		}
		return nil
	}
	// DeliverNew: the shared stream may hold many thousands of other
	// tests' events (the scale-out test alone writes 21,000).
	stop := run(t, &NATS{URL: bed.NATSURL(), Stream: bed.NATS.Stream, Subject: bed.NATS.Subject, Durable: durable, Handle: handle,
		DeliverNew: true})
	bed.Notify(t, bucket, bed.NATS.Target, "s3:ObjectCreated:*")

	const key = "dir/ünï code+plus.txt"
	_, err := bed.Client(t, testbed.A).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-found:
		if e.Key != key || e.Kind != event.Put || e.Size != 5 {
			t.Errorf("event %+v, want a put of %q, 5 bytes", e, key)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no event from MinIO within 30s")
	}
	stop()
	eventually(t, 10*time.Second, "the consumer settled", func() bool { return settled(t, js, bed.NATS.Stream, durable) })
}
