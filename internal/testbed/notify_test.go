package testbed_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// delivery is one POST of MinIO to a webhook target.
type delivery struct {
	at   time.Time
	auth string
	evs  []event.Event
}

// TestNotifyWebhook checks what docs/testing.md says of MinIO's webhook
// targets: the bearer token, events kept while the receiver is down and
// sent once it listens, and a failed POST sent again about 3s later.
func TestNotifyWebhook(t *testing.T) {
	t.Parallel()
	bed := testbed.Require(t)
	bucket := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	addr, token := bed.Hook(t, 3)
	bed.Notify(t, bucket, "hook3")
	a := bed.Client(t, testbed.A)
	putObject := func(key string) {
		t.Helper()
		if _, err := a.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}

	// Nothing listens: MinIO keeps the event in its queue dir.
	putObject("while-down")
	time.Sleep(4 * time.Second) // more than one retry interval

	var mu sync.Mutex
	got := map[string][]delivery{} // by key, this bucket only
	failLate := true
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on hook3's address: %v", err)
	}
	listening := time.Now()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		evs, err := event.Parse(body)
		if r.Method != http.MethodPost || r.URL.Path != "/events" || err != nil {
			t.Errorf("MinIO sent %s %s (%v): %.200s", r.Method, r.URL.Path, err, body)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, e := range evs {
			if e.Bucket != bucket {
				continue // left over from an earlier test
			}
			got[e.Key] = append(got[e.Key], delivery{time.Now(), r.Header.Get("Authorization"), evs})
			if e.Key == "while-up" && failLate {
				failLate = false
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			}
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	putObject("while-up")

	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		down, up := got["while-down"], got["while-up"]
		mu.Unlock()
		if len(down) >= 1 && len(up) >= 2 {
			t.Logf("queued event delivered %v after the receiver came up; failed POST sent again after %v",
				down[0].at.Sub(listening).Round(time.Millisecond), up[1].at.Sub(up[0].at).Round(time.Millisecond))
			if d := down[0].at.Sub(listening); d > 6*time.Second {
				t.Errorf("queued event delivered %v after the receiver came up, want within about 3s", d)
			}
			if d := up[1].at.Sub(up[0].at); d < 2*time.Second || d > 8*time.Second {
				t.Errorf("failed POST sent again after %v, want about 3s", d)
			}
			if want := "Bearer " + token; down[0].auth != want {
				t.Errorf("Authorization %q, want Bearer <hook3's token>", down[0].auth)
			}
			if e := down[0].evs[0]; e.Kind != event.Put {
				t.Errorf("event %+v, want a put", e)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: %d deliveries of the event queued while down, %d of the later one (want 1 and 2)", len(down), len(up))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestTargetARN(t *testing.T) {
	bed := testbed.Require(t)
	for target, want := range map[string]string{
		"hook1":                  "arn:minio:sqs::hook1:webhook",
		"hook3":                  "arn:minio:sqs::hook3:webhook",
		bed.NATS.Target:          "arn:minio:sqs::" + bed.NATS.Target + ":nats",
		"arn:minio:sqs::x:kafka": "arn:minio:sqs::x:kafka",
	} {
		if got := bed.TargetARN(t, target); got != want {
			t.Errorf("TargetARN(%q) = %q, want %q", target, got, want)
		}
	}
	if bed.Hooks() != 3 {
		t.Errorf("%d webhook targets, want 3", bed.Hooks())
	}
}
