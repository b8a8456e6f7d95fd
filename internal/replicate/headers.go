package replicate

import (
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/object"
)

// putInput builds the PutObject request that makes a faithful replica of
// meta: the one place where source facts and destination settings meet.
// The multipart and server-side paths derive their requests from it.
func putInput(bucket, key string, meta *object.Meta, origin *object.Origin, s Settings, lock bool) *s3.PutObjectInput {
	userMeta := object.StripOrigin(meta.UserMeta)
	if origin != nil { // nil for originals, such as files pushed from a directory
		for k, v := range origin.Metadata() {
			userMeta[k] = v
		}
	}
	for k, v := range s.Metadata {
		userMeta[k] = v
	}
	cacheControl := meta.CacheControl
	if s.CacheControl != "" {
		cacheControl = s.CacheControl
	}
	in := &s3.PutObjectInput{
		Bucket:             aws.String(bucket),
		Key:                aws.String(key),
		ContentType:        nonEmpty(meta.ContentType),
		ContentEncoding:    nonEmpty(meta.ContentEncoding),
		ContentLanguage:    nonEmpty(meta.ContentLanguage),
		ContentDisposition: nonEmpty(meta.ContentDisposition),
		CacheControl:       nonEmpty(cacheControl),
		Expires:            meta.Expires,
		Metadata:           userMeta,
		Tagging:            nonEmpty(encodeTags(meta.Tags)),
	}
	switch {
	case s.StorageClass != "":
		in.StorageClass = types.StorageClass(s.StorageClass)
	case meta.StorageClass != "" && meta.StorageClass != "STANDARD":
		in.StorageClass = types.StorageClass(meta.StorageClass)
	}
	if s.ACL != "" {
		in.ACL = types.ObjectCannedACL(s.ACL)
	}
	switch s.SSE {
	case "aws:kms":
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = nonEmpty(s.KMSKeyID)
	case "AES256":
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
	}
	if lock {
		// A retention date in the past is refused by S3 and protects
		// nothing any more, so it is not carried over.
		if meta.LockMode != "" && meta.LockUntil != nil && meta.LockUntil.After(time.Now()) {
			in.ObjectLockMode = types.ObjectLockMode(meta.LockMode)
			in.ObjectLockRetainUntilDate = meta.LockUntil
		}
		if meta.LegalHold {
			in.ObjectLockLegalHoldStatus = types.ObjectLockLegalHoldStatusOn
		}
	}
	return in
}

func createInput(p *s3.PutObjectInput) *s3.CreateMultipartUploadInput {
	return &s3.CreateMultipartUploadInput{
		Bucket: p.Bucket, Key: p.Key,
		ContentType: p.ContentType, ContentEncoding: p.ContentEncoding, ContentLanguage: p.ContentLanguage,
		ContentDisposition: p.ContentDisposition, CacheControl: p.CacheControl, Expires: p.Expires,
		Metadata: p.Metadata, Tagging: p.Tagging, StorageClass: p.StorageClass, ACL: p.ACL,
		ServerSideEncryption: p.ServerSideEncryption, SSEKMSKeyId: p.SSEKMSKeyId,
		ObjectLockMode: p.ObjectLockMode, ObjectLockRetainUntilDate: p.ObjectLockRetainUntilDate,
		ObjectLockLegalHoldStatus: p.ObjectLockLegalHoldStatus,
	}
}

// copyInput turns a put into a server-side CopyObject. Metadata is replaced
// (to add the origin) and tags are copied by the server.
func copyInput(p *s3.PutObjectInput, srcBucket string, src object.Info) *s3.CopyObjectInput {
	return &s3.CopyObjectInput{
		Bucket: p.Bucket, Key: p.Key, CopySource: aws.String(copySource(srcBucket, src.Key, src.VersionID)),
		CopySourceIfMatch: etagCondition(src.ETag),
		MetadataDirective: types.MetadataDirectiveReplace, TaggingDirective: types.TaggingDirectiveCopy,
		ContentType: p.ContentType, ContentEncoding: p.ContentEncoding, ContentLanguage: p.ContentLanguage,
		ContentDisposition: p.ContentDisposition, CacheControl: p.CacheControl, Expires: p.Expires,
		Metadata: p.Metadata, StorageClass: p.StorageClass, ACL: p.ACL,
		ServerSideEncryption: p.ServerSideEncryption, SSEKMSKeyId: p.SSEKMSKeyId,
		ObjectLockMode: p.ObjectLockMode, ObjectLockRetainUntilDate: p.ObjectLockRetainUntilDate,
		ObjectLockLegalHoldStatus: p.ObjectLockLegalHoldStatus,
	}
}

// copySource is the x-amz-copy-source value: bucket/key, URL-encoded, with
// the version id as a query parameter.
func copySource(bucket, key, versionID string) string {
	s := url.PathEscape(bucket) + "/" + escapeKey(key)
	if versionID != "" && versionID != "null" {
		s += "?versionId=" + url.QueryEscape(versionID)
	}
	return s
}

// escapeKey escapes each path segment, keeping the slashes.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func encodeTags(tags map[string]string) string {
	if len(tags) == 0 {
		return ""
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	v := url.Values{}
	for _, k := range keys {
		v.Set(k, tags[k])
	}
	return v.Encode()
}

func etagCondition(etag string) *string {
	if etag == "" {
		return nil
	}
	return aws.String(`"` + etag + `"`)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
