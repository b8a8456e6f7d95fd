// Package replicate is ferry's copy engine: one object version to one
// destination, faithfully (body, headers, metadata, tags, object lock,
// encryption re-keyed for the destination, ownership), verified, and with
// memory bounded by part size x parts in flight.
package replicate

import "github.com/ferry-s3/ferry/internal/object"

// Settings are the destination-side choices for a copy.
type Settings struct {
	// ACL is a canned ACL (e.g. bucket-owner-full-control); "" sends none.
	ACL string
	// StorageClass overrides the source's storage class; "" keeps it.
	StorageClass string
	// SSE is how the destination encrypts: "aws:kms" (with KMSKeyID),
	// "AES256", or "" / "none" for the bucket's default.
	SSE      string
	KMSKeyID string
	// CacheControl, if set, replaces the source's Cache-Control (deploy's
	// rules by glob).
	CacheControl string
	// Metadata is user metadata added to the copy (deploy records the
	// file's MD5 there when the ETag cannot hold it).
	Metadata map[string]string
}

// Job is one version to copy.
type Job struct {
	Src      object.Info // from the listing: key, version, ETag, size
	DstKey   string
	Settings Settings
}

// Result is what a copy did.
type Result struct {
	Bytes      int64 // bytes that went through ferry (0 for server-side)
	ServerSide bool
	ETag       string // the replica's ETag
	VersionID  string // the replica's version id, if versioned
}
