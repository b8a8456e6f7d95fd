// Package config reads ferry.yaml: where to copy from (a source bucket and
// how to reach it), where to copy to (destination buckets, each with its
// own profile, key rewrite, ACL, storage class and encryption), and which
// objects go where (an AWS ReplicationConfiguration, verbatim).
//
// Loading does file I/O (ferry.yaml and the replication file it names) but
// no network I/O; everything after Load is pure.
package config

import (
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/rules"
)

// Config is a loaded and validated ferry.yaml.
type Config struct {
	Source       Source         `yaml:"source"`
	Destinations []*Destination `yaml:"destinations"`

	// ReplicationFile is the path of an AWS ReplicationConfiguration JSON
	// file, relative to ferry.yaml, as written in the file.
	ReplicationFile string `yaml:"replication_file,omitempty"`
	// Replication holds the rules: from replication_file, inline, or, when
	// neither is given, one implicit rule per destination. After Load it is
	// never nil.
	Replication *rules.Configuration `yaml:"replication,omitempty"`

	// Run configures `ferry run` and `ferry lambda`: intakes, data
	// directory, workers, reconciliation.
	Run *Run `yaml:"run,omitempty"`

	// ReplicationTime is the replication time threshold, per rule
	// (default 15 minutes, S3 RTC's).
	ReplicationTime *ReplicationTime `yaml:"replication_time,omitempty"`
	// Notifications sends S3 replication events (failed, missed
	// threshold, replicated after threshold) to webhooks, SQS and SNS.
	Notifications *Notifications `yaml:"notifications,omitempty"`

	// Name is how messages refer to the file (its path as given to Load).
	Name string `yaml:"-"`
}

// Source is the bucket ferry copies from.
type Source struct {
	endpoint.Options `yaml:",inline"`
	Bucket           string `yaml:"bucket"`
	// TargetBucketTag adds the destinations named by the source bucket's
	// TargetBucket tag, the convention of aws-lambda-copy-s3-objects: a
	// space-separated list of bucket[@region], reached with the source's
	// profile. Read when ferry starts.
	TargetBucketTag bool `yaml:"target_bucket_tag,omitempty"`
}

// Destination is a bucket ferry copies to, and what ferry adds to S3's
// Destination element.
type Destination struct {
	endpoint.Options `yaml:",inline"`
	Bucket           string `yaml:"bucket"`
	// KeyRewrite replaces a key prefix at this destination.
	KeyRewrite *KeyRewrite `yaml:"key_rewrite,omitempty"`
	// ACL is a canned ACL put on every replica (x-amz-acl).
	ACL string `yaml:"acl,omitempty"`
	// StorageClass overrides the rule's Destination.StorageClass.
	StorageClass string `yaml:"storage_class,omitempty"`
	// Encryption overrides the rule's EncryptionConfiguration.
	Encryption *Encryption `yaml:"encryption,omitempty"`
	// ReplicateDeletes replicates deletes of an unversioned source
	// (S3 replication never does). Only replicas ferry wrote from the
	// same source key are deleted.
	ReplicateDeletes bool `yaml:"replicate_deletes,omitempty"`
	// Concurrency caps the copies in flight to this destination
	// (default: no cap beyond run.workers).
	Concurrency int `yaml:"concurrency,omitempty"`
	// Bandwidth caps the bytes per second read for this destination, all
	// copies together: "50MiB", "200MB", "1048576" (default: no cap).
	Bandwidth string `yaml:"bandwidth,omitempty"`
}

// KeyRewrite turns keys starting with From into keys starting with To.
type KeyRewrite struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// Encryption is the server-side encryption replicas are written with.
type Encryption struct {
	// Type is "aws:kms", "AES256" or "none" (no SSE headers: the
	// destination bucket's default encryption applies).
	Type string `yaml:"type"`
	// KMSKeyID is the key for aws:kms: key ID, key ARN, alias or alias ARN.
	KMSKeyID string `yaml:"kms_key_id,omitempty"`
}

// Encryption types.
const (
	EncryptionKMS    = "aws:kms"
	EncryptionAES256 = "AES256"
	EncryptionNone   = "none"
)

// Checksum modes of endpoint.Options.Checksums.
const (
	ChecksumsWhenRequired  = "when_required"
	ChecksumsWhenSupported = "when_supported"
)

// Destination returns the destination for a bucket name, or nil.
func (c *Config) Destination(bucket string) *Destination {
	for _, d := range c.Destinations {
		if d != nil && d.Bucket == bucket {
			return d
		}
	}
	return nil
}
