package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// runtimeChild, when set, makes the test binary the Lambda function:
// TestRuntimeAPI runs it as a child process, as Lambda runs a bootstrap.
const runtimeChild = "FERRY_LAMBDA_TEST_RUNTIME_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(runtimeChild) != "" {
		log := slog.New(slog.NewTextHandler(os.Stderr, nil))
		Start(Handlers{
			Events: func(_ context.Context, evs []event.Event) error {
				for _, e := range evs {
					log.Info("handled", "kind", e.Kind.String(), "object", e.Bucket+"/"+e.Key)
				}
				return failFor(evs)
			},
			Pipeline: childPipeline(log),
		}, log)
		os.Exit(3) // Start returned: the test sees the exit
	}
	os.Exit(m.Run())
}

// TestRuntimeAPI runs the real runtime loop (Start, aws-lambda-go) in a
// child process against a Lambda Runtime API server and checks what it
// posts back for each kind of invocation.
func TestRuntimeAPI(t *testing.T) {
	api := testbed.NewLambdaAPI(t)
	cmd, stderr := startFunction(t, api)

	for _, tc := range []struct {
		name, file string
		response   string // JSON the runtime posts to .../response, or
		errMessage string // in errorMessage of what it posts to .../error
	}{
		{name: "S3", file: "s3-put.json", response: "null"},
		{name: "S3 handler fails", file: "s3-put-fail.json", errMessage: "copy photos-src/fail/broken.jpg: refused"},
		{name: "SQS batch", file: "sqs-batch.json", response: sqsBatchResponse},
		// Lambda accepts only JSON payloads, so malformed means broken content.
		{name: "malformed", file: "s3-missing-key.json", errMessage: "malformed S3 notification: event: record 0: missing s3.object.key"},
		{name: "CodePipeline not configured", file: "codepipeline.json", errMessage: "no CodePipeline action configured"},
		{name: "EventBridge after errors", file: "eventbridge-created.json", response: "null"},
	} {
		resp, errPayload, err := api.Invoke(readTestdata(t, tc.file), 10*time.Second)
		if err != nil {
			t.Fatalf("%s: %v\nfunction stderr:\n%s", tc.name, err, stderr.String())
		}
		if tc.errMessage != "" {
			var e struct{ ErrorMessage, ErrorType string }
			if err := json.Unmarshal(errPayload, &e); err != nil || !strings.Contains(e.ErrorMessage, tc.errMessage) || e.ErrorType == "" {
				t.Errorf("%s: error payload %s (response %s), want errorMessage containing %q and an errorType",
					tc.name, errPayload, resp, tc.errMessage)
			}
			continue
		}
		if errPayload != nil || string(bytes.TrimSpace(resp)) != tc.response {
			t.Errorf("%s: response %s, error %s; want response %s", tc.name, resp, errPayload, tc.response)
		}
	}

	// Errors were answered, not fatal: one process served every invocation.
	cmd.Process.Kill()
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != -1 {
		t.Errorf("function exited by itself (code %d):\n%s", code, stderr.String())
	}
	logs := stderr.String()
	for _, want := range []string{
		"object=photos-src/2024/a.jpg", // from the SQS batch
		"object=photos-src/2024/report.pdf",
		`malformed SQS message" messageId=` + malformedID,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("function log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "secret-body-marker") {
		t.Errorf("a message body was logged:\n%s", logs)
	}
}

// startFunction runs the test binary as the Lambda function of api, with
// the extra environment; the function stops with the test.
func startFunction(t *testing.T, api *testbed.LambdaAPI, env ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), runtimeChild+"=1", "AWS_LAMBDA_RUNTIME_API="+api.Addr())
	cmd.Env = append(cmd.Env, env...)
	stderr := &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, stderr
}
