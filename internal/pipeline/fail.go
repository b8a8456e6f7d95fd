package pipeline

import (
	"errors"
	"net/http"

	"github.com/aws/smithy-go"
)

// FailureKind is the type of a job failure, one of CodePipeline's
// FailureType values; the console shows it with the message.
type FailureKind string

const (
	JobFailed           FailureKind = "JobFailed"
	ConfigurationError  FailureKind = "ConfigurationError"
	PermissionError     FailureKind = "PermissionError"
	RevisionOutOfSync   FailureKind = "RevisionOutOfSync"
	RevisionUnavailable FailureKind = "RevisionUnavailable"
	SystemUnavailable   FailureKind = "SystemUnavailable"
)

// valid reports whether CodePipeline accepts k; it refuses the whole
// report otherwise, which would leave the job hanging.
func (k FailureKind) valid() bool {
	switch k {
	case JobFailed, ConfigurationError, PermissionError, RevisionOutOfSync, RevisionUnavailable, SystemUnavailable:
		return true
	}
	return false
}

// kinded is an error that says which kind of failure it is.
type kinded struct {
	kind FailureKind
	err  error
}

func (e *kinded) Error() string { return e.err.Error() }
func (e *kinded) Unwrap() error { return e.err }

// Fail marks err as a failure of the given kind; Run reports it so. A nil
// err stays nil.
func Fail(kind FailureKind, err error) error {
	if err == nil {
		return nil
	}
	return &kinded{kind, err}
}

// KindOf says which kind of failure err is: the kind it was marked with
// by Fail (the outermost mark wins), PermissionError for a request that
// was refused for want of permission (AccessDenied, 403, bad or expired
// keys), else JobFailed.
func KindOf(err error) FailureKind {
	var k *kinded
	if errors.As(err, &k) && k.kind.valid() {
		return k.kind
	}
	if denied(err) {
		return PermissionError
	}
	return JobFailed
}

// deniedCodes are the error codes of AWS and S3-compatible services for a
// caller without permission, or whose keys are not (or no longer) good:
// the artifact credentials expire, and a role may lack a grant.
var deniedCodes = map[string]bool{
	"AccessDenied":                true,
	"AccessDeniedException":       true,
	"AllAccessDisabled":           true,
	"Forbidden":                   true,
	"InvalidAccessKeyId":          true,
	"InvalidClientTokenId":        true,
	"SignatureDoesNotMatch":       true,
	"ExpiredToken":                true,
	"ExpiredTokenException":       true,
	"UnauthorizedOperation":       true,
	"UnrecognizedClientException": true,
	"KMS.AccessDeniedException":   true,
}

func denied(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && deniedCodes[ae.ErrorCode()] {
		return true
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
}
