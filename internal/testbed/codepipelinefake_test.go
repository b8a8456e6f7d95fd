package testbed_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
	"github.com/aws/smithy-go"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestCodePipelineFake checks the fake against the SDK: results are
// recorded, and what CodePipeline refuses is refused with its error codes.
func TestCodePipelineFake(t *testing.T) {
	t.Parallel()
	fake := testbed.NewCodePipeline(t)
	c := fake.Client(func(o *codepipeline.Options) { o.RetryMaxAttempts = 1 })
	bg := context.Background()

	success := func(id, summary, token string) error {
		in := &codepipeline.PutJobSuccessResultInput{JobId: aws.String(id)}
		if summary != "" {
			in.ExecutionDetails = &types.ExecutionDetails{Summary: aws.String(summary)}
		}
		if token != "" {
			in.ContinuationToken = aws.String(token)
		}
		_, err := c.PutJobSuccessResult(bg, in)
		return err
	}
	failure := func(id, typ, msg string) error {
		_, err := c.PutJobFailureResult(bg, &codepipeline.PutJobFailureResultInput{
			JobId:          aws.String(id),
			FailureDetails: &types.FailureDetails{Type: types.FailureType(typ), Message: aws.String(msg)},
		})
		return err
	}

	ok := fake.NewJob()
	if _, reported := fake.Result(ok); reported {
		t.Fatal("a new job is reported")
	}
	if err := success(ok, "deployed 3 files", ""); err != nil {
		t.Fatalf("success: %v", err)
	}
	if r, reported := fake.Result(ok); !reported || !r.Success || r.Summary != "deployed 3 files" || r.ContinuationToken != "" {
		t.Errorf("result %+v (reported %v)", r, reported)
	}
	// A job is reported once, whichever way.
	if err := failure(ok, "JobFailed", "late"); cpCode(err) != "InvalidJobStateException" {
		t.Errorf("second report: %v, want InvalidJobStateException", err)
	}
	var state *types.InvalidJobStateException
	if err := success(ok, "", ""); !errors.As(err, &state) {
		t.Errorf("second success: %v, want a *types.InvalidJobStateException", err)
	}

	cont := fake.NewJob()
	if err := success(cont, "1 of 2", "step-2"); err != nil {
		t.Fatalf("continue: %v", err)
	}
	if r, _ := fake.Result(cont); r.ContinuationToken != "step-2" || r.Summary != "1 of 2" {
		t.Errorf("continuation result %+v", r)
	}

	bad := fake.NewJob()
	if err := failure(bad, "PermissionError", "access denied to the artifact bucket"); err != nil {
		t.Fatalf("failure: %v", err)
	}
	if r, _ := fake.Result(bad); r.Success || r.FailureType != "PermissionError" || r.FailureMessage != "access denied to the artifact bucket" {
		t.Errorf("failure result %+v", r)
	}

	var notFound *types.JobNotFoundException
	if err := success("0123abcd-0000-0000-0000-000000000000", "", ""); !errors.As(err, &notFound) {
		t.Errorf("unknown job: %v, want a *types.JobNotFoundException", err)
	}

	open := fake.NewJob()
	for _, tc := range []struct {
		name string
		call func() error
		want string // in the message
	}{
		{"malformed id", func() error { return success("job-1", "", "") }, "regular expression pattern"},
		{"long summary", func() error { return success(open, strings.Repeat("é", 2049), "") }, "less than or equal to 2048"},
		{"empty token", func() error {
			_, err := c.PutJobSuccessResult(bg, &codepipeline.PutJobSuccessResultInput{JobId: aws.String(open), ContinuationToken: aws.String("")})
			return err
		}, "greater than or equal to 1"},
		{"long token", func() error { return success(open, "", strings.Repeat("t", 2049)) }, "less than or equal to 2048"},
		{"bad type", func() error { return failure(open, "Oops", "m") }, "enum value set"},
		{"long message", func() error { return failure(open, "JobFailed", strings.Repeat("m", 5001)) }, "less than or equal to 5000"},
		{"empty message", func() error { return failure(open, "JobFailed", "") }, "greater than or equal to 1"},
		{"variables with token", func() error {
			_, err := c.PutJobSuccessResult(bg, &codepipeline.PutJobSuccessResultInput{JobId: aws.String(open),
				ContinuationToken: aws.String("t"), OutputVariables: map[string]string{"k": "v"}})
			return err
		}, "only when there is no continuation token"},
	} {
		err := tc.call()
		if cpCode(err) != "ValidationException" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a ValidationException about %q", tc.name, err, tc.want)
		}
	}
	if _, reported := fake.Result(open); reported {
		t.Error("a refused report was recorded")
	}
	// 5000 characters is fine, even of several bytes each.
	if err := failure(open, "JobFailed", strings.Repeat("é", 5000)); err != nil {
		t.Errorf("5000-character message: %v", err)
	}
}

// TestCodePipelineFakeFailNext checks injected throttling: the SDK's own
// retries get through it, a client without retries sees it.
func TestCodePipelineFakeFailNext(t *testing.T) {
	t.Parallel()
	fake := testbed.NewCodePipeline(t)
	id := fake.NewJob()
	fake.FailNext("ThrottlingException", 1)
	once := fake.Client(func(o *codepipeline.Options) { o.RetryMaxAttempts = 1 })
	in := &codepipeline.PutJobSuccessResultInput{JobId: aws.String(id)}
	if _, err := once.PutJobSuccessResult(context.Background(), in); cpCode(err) != "ThrottlingException" {
		t.Fatalf("throttled call: %v, want ThrottlingException", err)
	}
	fake.FailNext("ThrottlingException", 1)
	if _, err := fake.Client().PutJobSuccessResult(context.Background(), in); err != nil {
		t.Fatalf("with the SDK's retries: %v", err)
	}
	if n := fake.Calls("PutJobSuccessResult"); n != 3 {
		t.Errorf("%d calls, want 3 (two throttled)", n)
	}
}

func TestCodePipelineFakeChecksSignature(t *testing.T) {
	t.Parallel()
	rec := &recorder{TB: t}
	fake := testbed.NewCodePipeline(rec)
	id := fake.NewJob()
	wrong := codepipeline.New(codepipeline.Options{
		Region:           testbed.Region,
		BaseEndpoint:     aws.String(fake.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(fake.AccessKey, "not-the-secret", ""),
		HTTPClient:       awshttp.NewBuildableClient(),
		RetryMaxAttempts: 1,
	})
	if _, err := wrong.PutJobSuccessResult(context.Background(), &codepipeline.PutJobSuccessResultInput{JobId: aws.String(id)}); err == nil {
		t.Fatal("a request signed with the wrong secret succeeded")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], "signature mismatch") {
		t.Errorf("fake reported %q, want one signature mismatch", rec.errs)
	}
	if _, reported := fake.Result(id); reported {
		t.Error("a badly signed report was recorded")
	}
}

// cpCode is the API error code of err, "" if none.
func cpCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
