package endpoint

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// completeAnswerLost handles a CompleteMultipartUpload whose answer was
// lost: the server completed the upload, the connection broke before the
// client heard so, the SDK sent the request again, and the server, whose
// upload is gone now, says NoSuchUpload. The object is there, whole; the
// copy must not fail (nor be redone: the fault tests count duplicate
// writes). So when a retried CompleteMultipartUpload ends in NoSuchUpload
// after an attempt that got no answer, the key is read back (HEAD), and if
// its ETag is the one these parts make, the call succeeds with what the
// HEAD says. Anything else keeps the error.
func completeAnswerLost(e *Endpoint) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("ferryCompleteAnswerLost",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				ci, ok := in.Parameters.(*s3.CompleteMultipartUploadInput)
				out, md, err := next.HandleInitialize(ctx, in)
				if !ok || err == nil || !isNoSuchUpload(err) || !answerLost(md) {
					return out, md, err
				}
				if res := e.completed(ctx, ci); res != nil {
					out.Result = res
					return out, md, nil
				}
				return out, md, err
			}), middleware.After)
	}
}

func isNoSuchUpload(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload"
}

// answerLost reports whether an attempt before the last got no answer:
// it may have been carried out.
func answerLost(md middleware.Metadata) bool {
	res, ok := retry.GetAttemptResults(md)
	if !ok {
		return false
	}
	for i, r := range res.Results {
		if i < len(res.Results)-1 && r.Err != nil && !hasResponse(r.Err) && !isDialError(r.Err) {
			return true
		}
	}
	return false
}

// completed returns the output the lost answer would have carried, if the
// object at the key is the one ci's parts make.
func (e *Endpoint) completed(ctx context.Context, ci *s3.CompleteMultipartUploadInput) *s3.CompleteMultipartUploadOutput {
	want := partsETag(ci)
	if want == "" {
		return nil
	}
	h, err := e.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: ci.Bucket, Key: ci.Key,
		ExpectedBucketOwner: ci.ExpectedBucketOwner})
	if err != nil || strings.Trim(aws.ToString(h.ETag), `"`) != want {
		return nil
	}
	return &s3.CompleteMultipartUploadOutput{
		Bucket: ci.Bucket, Key: ci.Key, ETag: h.ETag, VersionId: h.VersionId,
		ServerSideEncryption: h.ServerSideEncryption, SSEKMSKeyId: h.SSEKMSKeyId,
		BucketKeyEnabled: h.BucketKeyEnabled, Expiration: h.Expiration,
	}
}

// partsETag is the ETag S3 gives the object completed from ci's parts: the
// MD5 of their MD5s, a dash, their count. "" if a part's ETag is not an MD5.
func partsETag(ci *s3.CompleteMultipartUploadInput) string {
	if ci.MultipartUpload == nil || len(ci.MultipartUpload.Parts) == 0 {
		return ""
	}
	h := md5.New()
	for _, p := range ci.MultipartUpload.Parts {
		b, err := hex.DecodeString(strings.Trim(aws.ToString(p.ETag), `"`))
		if err != nil || len(b) != md5.Size {
			return ""
		}
		h.Write(b)
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(ci.MultipartUpload.Parts))
}
