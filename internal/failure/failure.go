// Package failure names why a replication failed, in the vocabulary of S3
// replication's failure reasons (DstPutObjectNotPermitted,
// SrcGetObjectNotPermitted, DstBucketNotFound, DstKmsKeyNotFound, ...), and
// says whether trying again can help.
//
// Permanent failures (access denied, no such bucket, a missing or disabled
// KMS key, a request the server will never accept) are reported FAILED
// until someone fixes the cause; everything else (timeouts, 5xx, SlowDown,
// a source that changed mid-copy) is transient and retried.
package failure

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
)

// Side says which bucket a request went to. The SDK's operation name alone
// cannot tell (HeadObject is sent to both), so callers mark the errors of
// the requests they make with Src or Dst.
type Side string

const (
	SrcSide Side = "Src"
	DstSide Side = "Dst"
)

type sided struct {
	side Side
	err  error
}

func (e *sided) Error() string { return e.err.Error() }
func (e *sided) Unwrap() error { return e.err }

// Src marks err as the answer of the source bucket.
func Src(err error) error { return mark(SrcSide, err) }

// Dst marks err as the answer of the destination bucket.
func Dst(err error) error { return mark(DstSide, err) }

func mark(s Side, err error) error {
	if err == nil {
		return nil
	}
	var e *sided
	if errors.As(err, &e) {
		return err // the innermost mark is the truth
	}
	return &sided{s, err}
}

// Failure is a classified error.
type Failure struct {
	// Reason is S3's failure reason where one fits, else the S3 error
	// code prefixed with the side ("DstInvalidArgument"), else
	// "Transient".
	Reason    string
	Permanent bool
}

// Classify names err. A nil error has no failure.
func Classify(err error) Failure {
	if err == nil {
		return Failure{}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Failure{Reason: "Interrupted"}
	}
	side := sideOf(err)
	op := operation(err)
	code, status := codeOf(err)

	switch {
	case strings.HasPrefix(code, "KMS.") || strings.Contains(strings.ToLower(code), "kms"):
		return kms(side, code, status)
	case code == "NoSuchBucket":
		return Failure{string(side) + "BucketNotFound", true}
	case code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
		code == "AllAccessDisabled" || status == http.StatusForbidden:
		return Failure{notPermitted(side, op), true}
	case code == "SlowDown" || code == "Throttling" || code == "ThrottlingException" ||
		code == "RequestTimeout" || code == "RequestTimeTooSkewed" || code == "PreconditionFailed" ||
		code == "OperationAborted" || code == "InternalError" || code == "ServiceUnavailable" ||
		// The upload a copy was writing is gone (aborted by a lifecycle
		// rule or a stale-upload sweep mid-copy): the next attempt starts
		// a new one.
		code == "NoSuchUpload" ||
		status == http.StatusRequestTimeout || status == http.StatusConflict ||
		status == http.StatusPreconditionFailed || status == http.StatusTooManyRequests || status >= 500:
		return Failure{Reason: "Transient"}
	case status >= 400:
		// Any other refusal (InvalidArgument, KeyTooLongError,
		// InvalidRequest, ...) gets the same answer next time.
		return Failure{string(side) + code, true}
	}
	return Failure{Reason: "Transient"} // network errors, integrity mismatches
}

func kms(side Side, code string, status int) Failure {
	lc := strings.ToLower(code)
	switch {
	case strings.Contains(lc, "notfound"):
		return Failure{string(side) + "KmsKeyNotFound", true}
	case strings.Contains(lc, "disabled") || strings.Contains(lc, "invalidstate"):
		return Failure{string(side) + "KmsKeyInvalidState", true}
	case strings.Contains(lc, "throttl") || status >= 500:
		return Failure{Reason: "Transient"}
	case strings.Contains(lc, "accessdenied"):
		return Failure{string(side) + "KmsNotPermitted", true}
	}
	return Failure{string(side) + "KmsKeyInvalidState", true}
}

// notPermitted is S3's name for an access-denied answer to an operation.
func notPermitted(side Side, op string) string {
	if side == SrcSide {
		switch op {
		case "GetObjectTagging":
			return "SrcGetTaggingNotPermitted"
		case "GetObjectRetention":
			return "SrcGetRetentionNotPermitted"
		case "GetObjectLegalHold":
			return "SrcGetLegalHoldNotPermitted"
		case "HeadObject":
			return "SrcHeadObjectNotPermitted"
		case "ListObjectVersions", "ListObjectsV2":
			return "SrcListNotPermitted"
		}
		return "SrcGetObjectNotPermitted"
	}
	switch op {
	case "CreateMultipartUpload":
		return "DstMultipartInitNotPermitted"
	case "UploadPart", "UploadPartCopy":
		return "DstMultipartPartUploadNotPermitted"
	case "CompleteMultipartUpload":
		return "DstMultipartCompleteNotPermitted"
	case "DeleteObject", "DeleteObjects":
		return "DstDelObjNotPermitted"
	case "PutObjectTagging":
		return "DstPutTaggingNotPermitted"
	case "PutObjectAcl":
		return "DstPutAclNotPermitted"
	case "PutObjectRetention":
		return "DstPutRetentionNotPermitted"
	case "PutObjectLegalHold":
		return "DstPutLegalHoldNotPermitted"
	case "HeadObject":
		return "DstHeadObjectNotPermitted"
	case "ListObjectVersions", "ListObjectsV2":
		return "DstListNotPermitted"
	}
	return "DstPutObjectNotPermitted"
}

// sideOf reads the caller's mark, or guesses from the operation: reads go
// to the source, writes to the destination.
func sideOf(err error) Side {
	var s *sided
	if errors.As(err, &s) {
		return s.side
	}
	switch op := operation(err); {
	case strings.HasPrefix(op, "Get"), strings.HasPrefix(op, "List"):
		return SrcSide
	}
	return DstSide
}

func operation(err error) string {
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return oe.Operation()
	}
	return ""
}

func codeOf(err error) (code string, status int) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}
