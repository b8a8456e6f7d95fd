package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestLambda runs the ferry binary as a Lambda function's bootstrap
// (AWS_LAMBDA_RUNTIME_API set, no arguments) against a Runtime API server,
// and invokes it as S3 and as an SQS event source mapping would: the
// objects named are replicated, and a batch's failed message is reported
// in batchItemFailures so SQS redelivers only that one.
func TestLambda(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: -short skips it")
	}
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ferry.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("source: {bucket: %s, profile: tb-a}\ndestinations: [{bucket: %s, profile: tb-b}]\n", src, dst)), 0o644)
	for _, k := range []string{"direct/a b.txt", "queued/c.txt"} {
		put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(k), Body: strings.NewReader("body of " + k)})
	}

	api := testbed.NewLambdaAPI(t)
	cmd := exec.Command(testbed.FerryBinary(t))
	cmd.Env = append(os.Environ(), bed.Env()...)
	cmd.Env = append(cmd.Env, "AWS_LAMBDA_RUNTIME_API="+api.Addr(), "FERRY_CONFIG="+cfg)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		t.Logf("function log:\n%s", clip(log.String()))
		for _, s := range bed.Servers {
			if strings.Contains(log.String(), s.SecretKey) {
				t.Errorf("a secret key appears in the function's log")
			}
		}
	})

	record := func(key string) string {
		return fmt.Sprintf(`{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-11-21T10:00:00.000Z",
"eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","bucket":{"name":"%s","arn":"arn:aws:s3:::%s"},
"object":{"key":"%s","size":10,"eTag":"x","sequencer":"0055AED6DCD90281E5"}}}`, src, src, key)
	}
	// S3 -> Lambda: the key arrives URL-encoded.
	resp, errp, err := api.Invoke([]byte(`{"Records":[`+record("direct/a+b.txt")+`]}`), 30*time.Second)
	if err != nil || errp != nil {
		t.Fatalf("S3 invocation: err %v, error payload %s", err, errp)
	}
	t.Logf("S3 invocation answered %s", resp)

	// S3 -> SQS -> Lambda: one good message, one about an object deleted
	// since (nothing to do), one malformed.
	msg := func(id, body string) string {
		b, _ := json.Marshal(body)
		return fmt.Sprintf(`{"messageId":"%s","receiptHandle":"rh-%s","body":%s,"attributes":{"ApproximateReceiveCount":"1"},
"messageAttributes":{},"md5OfBody":"","eventSource":"aws:sqs","eventSourceARN":"arn:aws:sqs:us-east-1:123456789012:ferry","awsRegion":"us-east-1"}`, id, id, b)
	}
	missing := record("queued/gone.txt")
	batch := `{"Records":[` + msg("m-good", `{"Records":[`+record("queued/c.txt")+`]}`) + `,` +
		msg("m-missing-source-object", `{"Records":[`+missing+`]}`) + `,` +
		msg("m-bad", `{"Records":[{"s3":`) + `]}`
	resp, errp, err = api.Invoke([]byte(batch), 30*time.Second)
	if err != nil || errp != nil {
		t.Fatalf("SQS invocation: err %v, error payload %s", err, errp)
	}
	var sqsResp struct {
		BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(resp, &sqsResp); err != nil {
		t.Fatalf("SQS response %s: %v", resp, err)
	}
	var failed []string
	for _, f := range sqsResp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	// A source object that no longer exists is not a failure: there is
	// nothing to replicate (S3 replication behaves the same).
	if strings.Join(failed, ",") != "m-bad" {
		t.Fatalf("batchItemFailures = %v, want [m-bad]", failed)
	}
	for _, k := range []string{"direct/a b.txt", "queued/c.txt"} {
		out, err := b.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(dst), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("%s not replicated: %v", k, err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(got) != "body of "+k {
			t.Fatalf("%s: replica holds %q", k, got)
		}
	}

	// The figures CloudWatch would record: embedded-metric-format lines,
	// one per rule and destination per invocation: two objects copied, and
	// one whose source is gone, where nothing was to be done.
	cmd.Process.Kill()
	cmd.Wait()
	var completed float64
	var latencies int
	for _, line := range strings.Split(log.String(), "\n") {
		if !strings.Contains(line, `"_aws":`) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("EMF line %q: %v", line, err)
		}
		if m["Destination"] != dst {
			t.Errorf("EMF line for destination %v, want %s", m["Destination"], dst)
		}
		completed += m["OperationsCompleted"].(float64)
		lat, _ := m["ReplicationLatency"].([]any)
		latencies += len(lat)
	}
	if completed != 3 || latencies != 2 {
		t.Errorf("EMF lines count %v operations completed and %d latencies, want 3 and 2 (one per copy)", completed, latencies)
	}
}
