// Package event turns S3 event notifications (AWS S3, MinIO, Ceph RGW,
// versitygw, EventBridge, SNS-wrapped) into a flat list of Events.
// It does no I/O.
package event

import "time"

// Kind is what happened to an object.
type Kind uint8

const (
	// Put: an object or version was created (Put, Post, Copy,
	// CompleteMultipartUpload).
	Put Kind = iota + 1
	// DeleteMarker: a delete marker was created in a versioned bucket.
	DeleteMarker
	// Delete: an object of an unversioned bucket was deleted, or a specific
	// version was permanently deleted (VersionID names it). MinIO's
	// DeleteAllVersions, every version of the key removed, has no VersionID.
	Delete
)

func (k Kind) String() string {
	switch k {
	case Put:
		return "put"
	case DeleteMarker:
		return "delete-marker"
	case Delete:
		return "delete"
	}
	return "unknown"
}

// Event is one record of a notification.
type Event struct {
	// Name is the record's event name without the "s3:" prefix some
	// servers add, e.g. "ObjectCreated:Put".
	Name      string
	Kind      Kind
	Region    string
	Bucket    string
	Key       string // the real key: URL-decoded ("+" is a space) where the sender encodes it
	VersionID string
	Size      int64
	ETag      string // without quotes
	// Sequencer orders the events of one key (see After). It is empty for
	// Ceph RGW, whose sequencer does not sort.
	Sequencer string
	Time      time.Time // when the event happened, per the sender
}
