package check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/rules"
)

// kind is what an error means for the checks that follow.
type kind int

const (
	kindOther       kind = iota
	kindUnreachable      // no answer: network error or timeout
	kindCredentials      // the server does not accept the keys
	kindSkew             // refused for the clock
	kindNoBucket
	kindNotFound // no such key, version, queue
	kindDenied
	kindKMS
	kindNotImplemented
	kindInterrupted // the check was stopped (Ctrl-C)
)

// credentialCodes are the answers to keys the server does not accept.
var credentialCodes = map[string]bool{
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "InvalidClientTokenId": true,
	"ExpiredToken": true, "InvalidToken": true, "TokenRefreshRequired": true, "UnrecognizedClientException": true,
}

func kindOf(err error) kind {
	if errors.Is(err, context.Canceled) {
		return kindInterrupted
	}
	var send *smithyhttp.RequestSendError
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &send) {
		return kindUnreachable
	}
	code, status := codeOf(err)
	lc := strings.ToLower(code)
	switch {
	case credentialCodes[code]:
		return kindCredentials
	case code == "RequestTimeTooSkewed":
		return kindSkew
	case code == "NoSuchBucket":
		return kindNoBucket
	case strings.HasPrefix(code, "KMS.") || strings.Contains(lc, "kms"):
		return kindKMS
	case code == "NotImplemented" || status == http.StatusNotImplemented:
		return kindNotImplemented
	case code == "AccessDenied" || code == "AllAccessDisabled" || strings.HasSuffix(code, "AccessDenied") ||
		strings.HasSuffix(code, "AuthorizationError") || status == http.StatusForbidden:
		return kindDenied
	case code == "NoSuchKey" || code == "NoSuchVersion" || strings.Contains(code, "NonExistentQueue") ||
		code == "QueueDoesNotExist" || code == "NotFound" || status == http.StatusNotFound:
		return kindNotFound
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return kindUnreachable
	}
	return kindOther
}

func codeOf(err error) (string, int) {
	var code string
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	var status int
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

// errText is the server's error code and message, or why there was no
// answer, without the SDK's request ids and retry chatter.
func errText(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg := ae.ErrorCode(), ae.ErrorMessage()
		if msg == "" || msg == code {
			return code
		}
		return code + ": " + msg
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oe.Error()
	}
	var send *smithyhttp.RequestSendError
	if errors.As(err, &send) && send.Err != nil {
		return oneLine(send.Err.Error())
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

// grant is the fix for a refused request: the IAM action and resource.
func grant(s *site, action, resource string) string {
	return fmt.Sprintf("grant %s on %s to %s (`ferry policy` writes the exact policy)", action, resource, s.who())
}

func bucketARN(bucket string) string  { return rules.BucketARN(bucket) }
func objectsARN(bucket string) string { return rules.BucketARN(bucket) + "/*" }

// denial is what a refused request needed.
type denial struct {
	side     failure.Side
	action   string // IAM action, e.g. s3:PutObject
	resource string // ARN
}

// reasonOps are the operations whose access-denied answers failure
// names right (its mapping guesses for other operations).
var reasonOps = map[string]bool{
	"ListObjectsV2": true, "ListObjectVersions": true, "GetObject": true, "GetObjectTagging": true,
	"HeadObject": true, "PutObject": true, "PutObjectTagging": true, "PutObjectAcl": true, "DeleteObject": true,
}

// failed fills res as a FAIL for err: the error, S3's failure reason where
// one fits, and the fix. A site that gave no answer, or refused its keys,
// is marked down, so later checks on it are skipped with that reason.
func (r *runner) failed(res Result, s *site, need denial, err error) Result {
	res.Status, res.Error = Fail, errText(err)
	marked := failure.Dst(err)
	if need.side == failure.SrcSide {
		marked = failure.Src(err)
	}
	reason := failure.Classify(marked).Reason
	var oe *smithy.OperationError
	op := ""
	if errors.As(err, &oe) {
		op = oe.Operation()
	}
	k := kindOf(err)
	switch k {
	case kindInterrupted:
		res.Fix = "the check was interrupted; run it again"
		s.down = "the check to run to its end"
	case kindUnreachable:
		res.Fix = "check the endpoint URL (" + endpointOf(s) + ", from " + s.profileName() + " or the config) and that the server is up and reachable from this machine"
		s.down = "an answer from " + endpointOf(s)
	case kindCredentials:
		res.Fix = "the server does not accept the keys of " + s.profileName() +
			": check its aws_access_key_id and aws_secret_access_key (or its role) in the AWS credentials file"
		s.down = "keys the server accepts (" + s.profileName() + ")"
	case kindSkew:
		res.Fix = "synchronise the clocks of this machine and the server with NTP (e.g. `timedatectl set-ntp true`, chrony)"
		s.down = "a clock the server accepts"
	case kindNoBucket, kindKMS:
		res.Reason = reason
		res.Fix = trimRetry(failure.Fix(reason))
	case kindDenied:
		if reasonOps[op] {
			res.Reason = reason
		}
		res.Fix = grant(s, need.action, need.resource)
	case kindNotImplemented:
		res.Fix = "the server does not implement " + orWord(op, "this request") + "; ferry cannot use this setting with it"
	case kindNotFound:
		res.Fix = "create it, or fix its name in the config"
	default:
		code, _ := codeOf(err)
		if reason != "Transient" && reason != "Interrupted" {
			res.Reason = reason
		}
		switch {
		case code == "InvalidStorageClass":
			res.Fix = "use a storage class the server supports, or remove storage_class (or the rule's Destination.StorageClass)"
		case reason == "Transient":
			res.Fix = "the server failed to answer; check that it is healthy and run the check again"
		default:
			res.Fix = "the request is the one ferry sends for this config: change the setting the error names"
		}
	}
	return res
}

// trimRetry makes a fix from failure.Fix fit a preflight, where there is
// nothing to retry yet.
func trimRetry(fix string) string {
	if s, ok := strings.CutSuffix(fix, ", then run `ferry retry`."); ok {
		return s
	}
	return strings.TrimSuffix(fix, ".")
}

// endpointOf names the server a site reaches.
func endpointOf(s *site) string {
	switch {
	case s.ep == nil:
		return s.profileName()
	case s.ep.URL != "":
		return s.ep.URL
	}
	return "S3 in " + s.ep.Region
}

func orWord(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
