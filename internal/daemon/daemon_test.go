package daemon_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/daemon"
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/queue"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/testbed"
	"github.com/ferry-s3/ferry/internal/worker"
)

// start runs a daemon in process and returns its base URL once ready.
func start(t *testing.T, bed *testbed.Bed, yaml, token string, log io.Writer) (string, *daemon.Daemon) {
	t.Helper()
	bed.Setenv(t)
	cfg, err := config.Parse([]byte(yaml), t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	rc := cfg.Run.WithDefaults()
	rc.Listen, rc.DataDir = "127.0.0.1:0", t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	lg := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	open := func(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error) {
		return endpoint.Open(ctx, o)
	}
	w, err := worker.New(ctx, cfg, open, replicate.Options{}, lg)
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.Open(rc.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon.Daemon{Run: rc, Worker: w, Queue: q, Token: token, Log: lg}
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		q.Close()
	})
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if a := d.Addr(); a != nil {
			if r, err := http.Get("http://" + a.String() + "/readyz"); err == nil {
				r.Body.Close()
				if r.StatusCode == 200 {
					return "http://" + a.String(), d
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("daemon not ready after 10s")
	return "", nil
}

func post(t *testing.T, url, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/events", strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, string(b)
}

// minioEvent is a notification as MinIO's webhook target sends it.
func minioEvent(bucket, key, name string) string {
	return fmt.Sprintf(`{"EventName":"s3:%s","Key":"%s/%s","Records":[{"eventVersion":"2.0","eventSource":"minio:s3",
"awsRegion":"","eventTime":"2026-11-21T10:00:00.000Z","eventName":"s3:%s","userIdentity":{"principalId":"minio"},
"requestParameters":{"sourceIPAddress":"127.0.0.1"},"responseElements":{},"s3":{"s3SchemaVersion":"1.0",
"configurationId":"Config","bucket":{"name":"%s","ownerIdentity":{"principalId":"minio"},"arn":"arn:aws:s3:::%s"},
"object":{"key":"%s","size":3,"eTag":"abc","sequencer":"17A0000000000001"}}}]}`, name, bucket, key, name, bucket, bucket, key)
}

// TestWebhook: bad requests get a 4xx and a log line and the daemon keeps
// serving; a good one is answered once queued and replicated soon after.
func TestWebhook(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	var log testbed.Buffer
	url, _ := start(t, bed, fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b}]
run: {reconcile_interval: 0s}
`, src, dst), "t0ken", &log)

	key := "dir/with space+plus.txt"
	ctx := context.Background()
	if _, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(key), Body: strings.NewReader("abc")}); err != nil {
		t.Fatal(err)
	}
	encoded := "dir/with+space%2Bplus.txt" // as S3 and MinIO send keys
	for _, tc := range []struct {
		name, token, body string
		want              int
	}{
		{"no token", "", minioEvent(src, encoded, "ObjectCreated:Put"), 401},
		{"wrong token", "nope", minioEvent(src, encoded, "ObjectCreated:Put"), 401},
		{"malformed", "t0ken", `{"Records":[{"s3":`, 400},
		{"no key", "t0ken", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"x"},"object":{}}}]}`, 400},
		{"good", "t0ken", minioEvent(src, encoded, "ObjectCreated:Put"), 200},
	} {
		if code, body := post(t, url, tc.token, tc.body); code != tc.want {
			t.Errorf("%s: HTTP %d (%s), want %d", tc.name, code, strings.TrimSpace(body), tc.want)
		}
	}
	waitFor(t, 10*time.Second, func() bool {
		out, err := b.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(dst), Key: aws.String(key)})
		if err != nil {
			return false
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		return string(got) == "abc"
	})
	for _, want := range []string{"missing or wrong bearer token", "malformed event refused", "replicated"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	if strings.Contains(log.String(), "t0ken") {
		t.Errorf("the token appears in the log")
	}
}

func waitFor(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
