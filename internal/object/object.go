// Package object holds the facts ferry knows about one object version: what
// a listing says (Info), what a GET or HEAD says (Meta), and the origin a
// replica records about its source (Origin).
package object

import (
	"strings"
	"time"
)

// Info is what a listing returns about one object version.
type Info struct {
	Key          string
	VersionID    string // "" when unversioned (or "null")
	ETag         string // without quotes
	Size         int64
	LastModified time.Time
	StorageClass string
	IsLatest     bool
	DeleteMarker bool
}

// Meta is everything a faithful copy must carry over.
type Meta struct {
	Info

	ContentType        string
	ContentEncoding    string
	ContentLanguage    string
	ContentDisposition string
	CacheControl       string
	Expires            *time.Time
	UserMeta           map[string]string // keys lower-case, without x-amz-meta-
	Tags               map[string]string

	LockMode  string // GOVERNANCE | COMPLIANCE
	LockUntil *time.Time
	LegalHold bool

	SSE         string // "", AES256, aws:kms
	SSEKMSKeyID string

	// PartsCount and PartSize describe a multipart source's layout (from a
	// GET of part 1), so a copy can keep the same layout and ETag.
	PartsCount int
	PartSize   int64

	ReplicationStatus string
}

// IsMultipartETag reports whether an ETag is of the md5-of-md5s-N form.
func IsMultipartETag(etag string) bool { return strings.Contains(etag, "-") }

// IsMD5ETag reports whether an ETag is a plain hex MD5 of the body. That is
// true for single-part uploads that are unencrypted or SSE-S3, so callers
// must also check the encryption.
func IsMD5ETag(etag string) bool {
	if len(etag) != 32 {
		return false
	}
	for _, c := range etag {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// TrimETag removes the quotes S3 puts around ETags.
func TrimETag(s string) string { return strings.Trim(s, `"`) }
