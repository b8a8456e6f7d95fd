package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ferry-s3/ferry/internal/pipeline"
)

// s3Refusal is the error the SDK returns when an S3 server answers
// GetObject with status and an S3 error document of code.
func s3Refusal(t *testing.T, status int, code string) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>refused</Message><RequestId>r1</RequestId></Error>`, code)
	}))
	defer srv.Close()
	c := s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:       awshttp.NewBuildableClient(),
		RetryMaxAttempts: 1,
	})
	_, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("artifacts"), Key: aws.String("build.zip")})
	if err == nil {
		t.Fatal("GetObject succeeded")
	}
	return fmt.Errorf("read input artifact build.zip: %w", err)
}

func TestKindOf(t *testing.T) {
	denied := s3Refusal(t, http.StatusForbidden, "AccessDenied")
	for _, tc := range []struct {
		name string
		err  error
		want pipeline.FailureKind
	}{
		{"plain", errors.New("boom"), pipeline.JobFailed},
		{"S3 AccessDenied", denied, pipeline.PermissionError},
		{"S3 expired token", s3Refusal(t, http.StatusBadRequest, "ExpiredToken"), pipeline.PermissionError},
		{"S3 403 without code", &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 403}}, Err: errors.New("forbidden")}, pipeline.PermissionError},
		{"KMS denied", &smithy.GenericAPIError{Code: "AccessDeniedException"}, pipeline.PermissionError},
		{"S3 no such key", s3Refusal(t, http.StatusNotFound, "NoSuchKey"), pipeline.JobFailed},
		{"marked", pipeline.Fail(pipeline.ConfigurationError, errors.New("bad")), pipeline.ConfigurationError},
		{"marked and wrapped", fmt.Errorf("deploy: %w", pipeline.Fail(pipeline.RevisionUnavailable, errors.New("gone"))), pipeline.RevisionUnavailable},
		// The caller's mark wins over the guess.
		{"marked denial", pipeline.Fail(pipeline.SystemUnavailable, denied), pipeline.SystemUnavailable},
		{"outermost mark", pipeline.Fail(pipeline.ConfigurationError, pipeline.Fail(pipeline.PermissionError, errors.New("x"))), pipeline.ConfigurationError},
		// CodePipeline would refuse an unknown type and the job would hang.
		{"unknown kind", pipeline.Fail("Oops", errors.New("x")), pipeline.JobFailed},
	} {
		if got := pipeline.KindOf(tc.err); got != tc.want {
			t.Errorf("%s: KindOf(%v) = %s, want %s", tc.name, tc.err, got, tc.want)
		}
	}
	if pipeline.Fail(pipeline.JobFailed, nil) != nil {
		t.Error("Fail(kind, nil) is not nil")
	}
}
