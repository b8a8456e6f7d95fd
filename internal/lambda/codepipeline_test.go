package lambda

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"

	"github.com/ferry-s3/ferry/internal/pipeline"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestInvokeCodePipeline checks that a CodePipeline job goes, whole, to
// the Pipeline handler with the invocation's deadline, and only there.
func TestInvokeCodePipeline(t *testing.T) {
	payload := readTestdata(t, "codepipeline.json")
	deadline := time.Now().Add(42 * time.Second).Truncate(time.Millisecond)
	ctx, cancel := context.WithDeadline(quiet(t), deadline)
	defer cancel()

	var (
		gotPayload  []byte
		gotDeadline time.Time
		events      recorder
	)
	h := Handlers{
		Events: events.handle,
		Pipeline: func(_ context.Context, p []byte, d time.Time) error {
			gotPayload, gotDeadline = p, d
			return nil
		},
	}
	resp, err := Invoke(ctx, h, payload)
	if err != nil || resp != nil {
		t.Fatalf("Invoke = %v, %v; want nil, nil", resp, err)
	}
	if !bytes.Equal(gotPayload, payload) || !gotDeadline.Equal(deadline) {
		t.Errorf("Pipeline got %d bytes and deadline %v, want the payload and %v", len(gotPayload), gotDeadline, deadline)
	}
	if len(events.calls) != 0 {
		t.Errorf("the event handler was called: %v", events.calls)
	}

	// An unreported job fails the invocation.
	h.Pipeline = func(context.Context, []byte, time.Time) error {
		return errors.New("report failure: JobNotFoundException")
	}
	if _, err := Invoke(ctx, h, payload); err == nil || !strings.Contains(err.Error(), "JobNotFoundException") {
		t.Errorf("Invoke = %v, want the Pipeline handler's error", err)
	}

	// Events without an event handler are refused, not a panic.
	if _, err := Invoke(ctx, Handlers{Pipeline: h.Pipeline}, readTestdata(t, "sqs-batch.json")); !errors.Is(err, errNoEvents) {
		t.Errorf("SQS batch without an event handler: %v", err)
	}
}

// pipelineEnv gives the function of TestRuntimeAPICodePipeline the fake
// CodePipeline: "URL ACCESS-KEY SECRET-KEY".
const pipelineEnv = "FERRY_LAMBDA_TEST_CODEPIPELINE"

// childPipeline is the function's Pipeline handler: the test action below,
// reporting to the fake named by pipelineEnv; nil without it.
func childPipeline(log *slog.Logger) PipelineHandler {
	f := strings.Fields(os.Getenv(pipelineEnv))
	if len(f) != 3 {
		return nil
	}
	c := codepipeline.New(codepipeline.Options{
		Region:       testbed.Region,
		BaseEndpoint: aws.String(f[0]),
		Credentials:  credentials.NewStaticCredentialsProvider(f[1], f[2], ""),
		HTTPClient:   awshttp.NewBuildableClient(),
	})
	return pipeline.Handler(testAction, pipeline.NewReporter(c), log)
}

// testAction does what the job's UserParameters say.
func testAction(ctx context.Context, job pipeline.Job) (pipeline.Outcome, error) {
	switch job.UserParameters {
	case "ok":
		return pipeline.Outcome{Summary: fmt.Sprintf("deployed %s", job.Inputs[0].Key)}, nil
	case "bad config":
		return pipeline.Outcome{}, pipeline.Fail(pipeline.ConfigurationError, errors.New("no such site"))
	case "overrun":
		pipeline.Doing(ctx, "uploading the site")
		time.Sleep(time.Minute) // deaf to ctx
	}
	return pipeline.Outcome{}, fmt.Errorf("test action: unknown UserParameters %q", job.UserParameters)
}

// jobPayload is a CodePipeline job invocation.
func jobPayload(id, params string) []byte {
	return fmt.Appendf(nil, `{"CodePipeline.job":{"id":%q,"accountId":"123456789012","data":{
		"actionConfiguration":{"configuration":{"FunctionName":"ferry","UserParameters":%q}},
		"inputArtifacts":[{"name":"Site","revision":null,"location":{"type":"S3","s3Location":{"bucketName":"codepipeline-us-east-1-1","objectKey":"site/Site/abc.zip"}}}],
		"outputArtifacts":[],
		"artifactCredentials":{"accessKeyId":"ASIAPIPELINETESTKEY1","secretAccessKey":"runtime-secret-marker-Kq8z","sessionToken":"runtime-token-marker-Zp3x"}}}}`, id, params)
}

// TestRuntimeAPICodePipeline runs CodePipeline jobs through the real
// runtime loop, in a child process, reporting to a fake CodePipeline: the
// deadline comes from the Runtime API, every job is answered, and the
// invocation fails only when the answer could not be given.
func TestRuntimeAPICodePipeline(t *testing.T) {
	cp := testbed.NewCodePipeline(t)
	api := testbed.NewLambdaAPI(t)
	cmd, stderr := startFunction(t, api, pipelineEnv+"="+cp.URL+" "+cp.AccessKey+" "+cp.SecretKey)

	for _, tc := range []struct {
		name, params string
		timeout      time.Duration
		unknownJob   bool
		want         testbed.CodePipelineResult
		errMessage   string // in the invocation's error instead
	}{
		{name: "success", params: "ok", timeout: 10 * time.Second,
			want: testbed.CodePipelineResult{Success: true, Summary: "deployed site/Site/abc.zip"}},
		{name: "failure", params: "bad config", timeout: 10 * time.Second,
			want: testbed.CodePipelineResult{FailureType: "ConfigurationError", FailureMessage: "no such site"}},
		// 2s left: the action's context ends at 1s; the report follows.
		{name: "overrun", params: "overrun", timeout: 2 * time.Second,
			want: testbed.CodePipelineResult{FailureType: "JobFailed", FailureMessage: "ran out of time after 1s: uploading the site"}},
		{name: "unknown job", params: "ok", timeout: 10 * time.Second, unknownJob: true, errMessage: "JobNotFoundException"},
	} {
		id := "0badbad0-0000-4000-8000-000000000000"
		if !tc.unknownJob {
			id = cp.NewJob()
		}
		start := time.Now()
		resp, errPayload, err := api.Invoke(jobPayload(id, tc.params), tc.timeout)
		if err != nil {
			t.Fatalf("%s: %v\nfunction stderr:\n%s", tc.name, err, stderr.String())
		}
		if tc.errMessage != "" {
			if !strings.Contains(string(errPayload), tc.errMessage) {
				t.Errorf("%s: response %s, error %s; want an error with %q", tc.name, resp, errPayload, tc.errMessage)
			}
			continue
		}
		if errPayload != nil || string(bytes.TrimSpace(resp)) != "null" {
			t.Errorf("%s: response %s, error %s; want null", tc.name, resp, errPayload)
		}
		if took := time.Since(start); took >= tc.timeout {
			t.Errorf("%s: answered after %v, past the %v timeout", tc.name, took, tc.timeout)
		}
		if got, _ := cp.Result(id); got != tc.want {
			t.Errorf("%s: job result %+v, want %+v", tc.name, got, tc.want)
		}
	}

	cmd.Process.Kill()
	cmd.Wait()
	logs := stderr.String()
	for _, secret := range []string{"runtime-secret-marker-Kq8z", "runtime-token-marker-Zp3x", "ASIAPIPELINETESTKEY1"} {
		if strings.Contains(logs, secret) {
			t.Errorf("artifact credentials logged:\n%s", logs)
		}
	}
	if !strings.Contains(logs, "could not report") {
		t.Errorf("the unreported job was not logged:\n%s", logs)
	}
}
