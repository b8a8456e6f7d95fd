package failure_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/failure"
)

// apiErr builds the error chain the SDK returns: operation error, HTTP
// response error, API error code.
func apiErr(op string, status int, code string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: op, Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "msg"},
	}}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		reason    string
		permanent bool
	}{
		{"put denied", apiErr("PutObject", 403, "AccessDenied"), "DstPutObjectNotPermitted", true},
		{"get denied", apiErr("GetObject", 403, "AccessDenied"), "SrcGetObjectNotPermitted", true},
		{"tags denied", apiErr("GetObjectTagging", 403, "AccessDenied"), "SrcGetTaggingNotPermitted", true},
		{"head src denied", failure.Src(apiErr("HeadObject", 403, "")), "SrcHeadObjectNotPermitted", true},
		{"head dst denied", failure.Dst(apiErr("HeadObject", 403, "")), "DstHeadObjectNotPermitted", true},
		{"multipart init", apiErr("CreateMultipartUpload", 403, "AccessDenied"), "DstMultipartInitNotPermitted", true},
		{"part", apiErr("UploadPart", 403, "AccessDenied"), "DstMultipartPartUploadNotPermitted", true},
		{"complete", apiErr("CompleteMultipartUpload", 403, "AccessDenied"), "DstMultipartCompleteNotPermitted", true},
		{"delete", apiErr("DeleteObject", 403, "AccessDenied"), "DstDelObjNotPermitted", true},
		{"wrong key", apiErr("PutObject", 403, "InvalidAccessKeyId"), "DstPutObjectNotPermitted", true},
		{"no dst bucket", apiErr("PutObject", 404, "NoSuchBucket"), "DstBucketNotFound", true},
		{"no src bucket", apiErr("GetObject", 404, "NoSuchBucket"), "SrcBucketNotFound", true},
		{"kms missing", apiErr("PutObject", 400, "KMS.NotFoundException"), "DstKmsKeyNotFound", true},
		{"kms disabled", apiErr("PutObject", 400, "KMS.DisabledException"), "DstKmsKeyInvalidState", true},
		{"kms src", apiErr("GetObject", 400, "KMS.NotFoundException"), "SrcKmsKeyNotFound", true},
		{"invalid argument", apiErr("PutObject", 400, "InvalidArgument"), "DstInvalidArgument", true},
		{"slow down", apiErr("PutObject", 503, "SlowDown"), "Transient", false},
		{"500", apiErr("PutObject", 500, "InternalError"), "Transient", false},
		{"upload gone", apiErr("CompleteMultipartUpload", 404, "NoSuchUpload"), "Transient", false},
		{"endpoint down", fmt.Errorf("head: %w", &endpoint.UnreachableError{Endpoint: "b", Err: errors.New("connection refused")}), "Transient", false},
		{"timeout", apiErr("PutObject", 400, "RequestTimeout"), "Transient", false},
		{"changed", apiErr("GetObject", 412, "PreconditionFailed"), "Transient", false},
		{"network", fmt.Errorf("put: %w", errors.New("connection refused")), "Transient", false},
		{"cancelled", fmt.Errorf("x: %w", context.Canceled), "Interrupted", false},
		// The caller's mark wins over the guess from the operation.
		{"marked", failure.Dst(fmt.Errorf("wrap: %w", apiErr("GetObject", 404, "NoSuchBucket"))), "DstBucketNotFound", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := failure.Classify(tc.err)
			if f.Reason != tc.reason || f.Permanent != tc.permanent {
				t.Fatalf("Classify = %+v, want {%s %v}", f, tc.reason, tc.permanent)
			}
		})
	}
	if f := failure.Classify(nil); f != (failure.Failure{}) {
		t.Fatalf("Classify(nil) = %+v", f)
	}
}

func TestFix(t *testing.T) {
	for reason, want := range map[string]string{
		"DstPutObjectNotPermitted":  "Grant the destination's profile s3:PutObject on the destination bucket, then run `ferry retry`.",
		"DstPutTaggingNotPermitted": "Grant the destination's profile s3:PutObjectTagging",
		"SrcGetObjectNotPermitted":  "Grant the source's profile s3:GetObject",
		"DstBucketNotFound":         "Create the destination bucket",
		"DstKmsKeyInvalidState":     "Enable the destination KMS key",
		"Transient":                 "Retried automatically",
		"DstInvalidArgument":        "The destination refused the request (DstInvalidArgument)",
	} {
		if got := failure.Fix(reason); !strings.HasPrefix(got, want) {
			t.Errorf("Fix(%q) = %q, want it to start %q", reason, got, want)
		}
	}
}
