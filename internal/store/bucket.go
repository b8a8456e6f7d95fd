package store

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/object"
)

// Bucket is an S3 bucket reached through an endpoint.
type Bucket struct {
	EP   *endpoint.Endpoint
	Name string
	// FanOut is how many key ranges a listing reads at once (list.go);
	// 0 or 1 lists with one request at a time.
	FanOut int
}

func (b *Bucket) String() string { return "s3://" + b.Name }

// Head returns the metadata of a version, or nil (and no error) if there is
// no such object.
func (b *Bucket) Head(ctx context.Context, key, versionID string) (*object.Meta, error) {
	return b.HeadPart(ctx, key, versionID, 0)
}

// HeadPart is Head of one part of a multipart object (part 0: the whole).
// Its Size is the part's and PartsCount the object's, so one request tells
// both the metadata and the part layout.
func (b *Bucket) HeadPart(ctx context.Context, key, versionID string, part int32) (*object.Meta, error) {
	in := &s3.HeadObjectInput{
		Bucket:    aws.String(b.Name),
		Key:       aws.String(key),
		VersionId: optional(versionID),
	}
	if part > 0 {
		in.PartNumber = aws.Int32(part)
	}
	out, err := b.EP.S3.HeadObject(ctx, in)
	if err != nil {
		if IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("head %s/%s: %w", b, key, err)
	}
	m := &object.Meta{
		Info: object.Info{
			Key: key, VersionID: aws.ToString(out.VersionId),
			ETag: object.TrimETag(aws.ToString(out.ETag)), Size: aws.ToInt64(out.ContentLength),
			LastModified: aws.ToTime(out.LastModified), StorageClass: string(out.StorageClass),
		},
		ContentType: aws.ToString(out.ContentType), ContentEncoding: aws.ToString(out.ContentEncoding),
		ContentLanguage: aws.ToString(out.ContentLanguage), ContentDisposition: aws.ToString(out.ContentDisposition),
		CacheControl: aws.ToString(out.CacheControl), Expires: parseExpires(out.ExpiresString),
		UserMeta: out.Metadata, LockMode: string(out.ObjectLockMode), LockUntil: out.ObjectLockRetainUntilDate,
		LegalHold: out.ObjectLockLegalHoldStatus == types.ObjectLockLegalHoldStatusOn,
		SSE:       string(out.ServerSideEncryption), SSEKMSKeyID: aws.ToString(out.SSEKMSKeyId),
		PartsCount: int(aws.ToInt32(out.PartsCount)), ReplicationStatus: string(out.ReplicationStatus),
	}
	return m, nil
}

// MetaFromGet builds Meta from a GetObject response (tags are fetched
// separately, only when TagCount says there are some).
func MetaFromGet(key string, out *s3.GetObjectOutput, size int64) *object.Meta {
	return &object.Meta{
		Info: object.Info{
			Key: key, VersionID: aws.ToString(out.VersionId),
			ETag: object.TrimETag(aws.ToString(out.ETag)), Size: size,
			LastModified: aws.ToTime(out.LastModified), StorageClass: string(out.StorageClass),
		},
		ContentType: aws.ToString(out.ContentType), ContentEncoding: aws.ToString(out.ContentEncoding),
		ContentLanguage: aws.ToString(out.ContentLanguage), ContentDisposition: aws.ToString(out.ContentDisposition),
		CacheControl: aws.ToString(out.CacheControl), Expires: parseExpires(out.ExpiresString),
		UserMeta: out.Metadata, LockMode: string(out.ObjectLockMode), LockUntil: out.ObjectLockRetainUntilDate,
		LegalHold: out.ObjectLockLegalHoldStatus == types.ObjectLockLegalHoldStatusOn,
		SSE:       string(out.ServerSideEncryption), SSEKMSKeyID: aws.ToString(out.SSEKMSKeyId),
		PartsCount: int(aws.ToInt32(out.PartsCount)), ReplicationStatus: string(out.ReplicationStatus),
	}
}

// Tags returns the tag set of a version.
func (b *Bucket) Tags(ctx context.Context, key, versionID string) (map[string]string, error) {
	out, err := b.EP.S3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{
		Bucket: aws.String(b.Name), Key: aws.String(key), VersionId: optional(versionID),
	})
	if err != nil {
		return nil, fmt.Errorf("get tags %s/%s: %w", b, key, err)
	}
	tags := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

// BucketTags returns the bucket's own tag set (empty if it has none).
func (b *Bucket) BucketTags(ctx context.Context) (map[string]string, error) {
	out, err := b.EP.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(b.Name)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "NoSuchTagSet" {
			return map[string]string{}, nil
		}
		return nil, fmt.Errorf("get bucket tags of %s: %s", b, Reason(err))
	}
	tags := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

// LockEnabled reports whether the bucket has object lock enabled (so a copy
// can carry retention and legal hold).
func (b *Bucket) LockEnabled(ctx context.Context) (bool, error) {
	out, err := b.EP.S3.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(b.Name)})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && (strings.Contains(ae.ErrorCode(), "ObjectLockConfigurationNotFound") || ae.ErrorCode() == "NotImplemented") {
			return false, nil
		}
		return false, fmt.Errorf("get object lock configuration of %s: %w", b, err)
	}
	return out.ObjectLockConfiguration != nil && out.ObjectLockConfiguration.ObjectLockEnabled == types.ObjectLockEnabledEnabled, nil
}

// Versioned reports whether versioning is enabled on the bucket.
func (b *Bucket) Versioned(ctx context.Context) (bool, error) {
	out, err := b.EP.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b.Name)})
	if err != nil {
		return false, fmt.Errorf("get versioning of %s: %s", b, Reason(err))
	}
	return out.Status == types.BucketVersioningStatusEnabled, nil
}

// Check verifies the bucket exists and is reachable, with one clear error.
func (b *Bucket) Check(ctx context.Context) error {
	_, err := b.EP.S3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.Name)})
	if err == nil {
		return nil
	}
	if IsNotFound(err) {
		return fmt.Errorf("bucket %q does not exist at %s", b.Name, b.EP)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden {
		return fmt.Errorf("bucket %q at %s: access denied (check the profile's credentials and permissions)", b.Name, b.EP)
	}
	return fmt.Errorf("bucket %q at %s: %s", b.Name, b.EP, Reason(err))
}

// IsNotFound reports whether err is S3's "no such key/bucket/version".
func IsNotFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NotFound", "NoSuchKey", "NoSuchBucket", "NoSuchVersion":
			return true
		}
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

// Reason condenses an SDK error to the S3 error code and message, without
// the request ids and retry chatter users don't need on one line.
func Reason(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

func parseExpires(s *string) *time.Time {
	if s == nil || *s == "" {
		return nil
	}
	t, err := http.ParseTime(*s)
	if err != nil {
		return nil
	}
	return &t
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
