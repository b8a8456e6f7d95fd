// Package rules holds S3's ReplicationConfiguration, accepted verbatim as
// written for `aws s3api put-bucket-replication`, checked with S3's own
// validation rules, and matched against objects with S3's semantics.
//
// Everything here is pure: no I/O, no clocks. Callers decide which
// destinations an object goes to with Configuration.Match; package config
// adds what S3 lacks (profiles, key rewrite, canned ACLs) on top.
package rules

// The types mirror the AWS API shapes field for field. Every field carries
// AWS's PascalCase name for both JSON and YAML, so the same document can be
// pasted into ferry.yaml. Pointers mark elements whose presence matters to
// validation (S3 treats a missing element differently from an empty one).

// Configuration is a bucket's ReplicationConfiguration.
type Configuration struct {
	// Role is the IAM role S3 assumes to replicate. Ferry uses profiles
	// instead, so it is optional here; when present it must be a role ARN.
	Role  string  `json:"Role,omitempty" yaml:"Role,omitempty"`
	Rules []*Rule `json:"Rules,omitempty" yaml:"Rules,omitempty"`
}

// Rule is one ReplicationRule. A rule is either V1 (Prefix at the rule
// level, no Filter) or V2 (Filter, Priority, DeleteMarkerReplication).
type Rule struct {
	ID       string `json:"ID,omitempty" yaml:"ID,omitempty"`
	Priority *int   `json:"Priority,omitempty" yaml:"Priority,omitempty"`
	Status   string `json:"Status,omitempty" yaml:"Status,omitempty"`
	// Prefix is the V1 filter. Deprecated by AWS but still accepted (and
	// still what many existing replication.json files use).
	Prefix                    *string                  `json:"Prefix,omitempty" yaml:"Prefix,omitempty"`
	Filter                    *Filter                  `json:"Filter,omitempty" yaml:"Filter,omitempty"`
	DeleteMarkerReplication   *StatusElement           `json:"DeleteMarkerReplication,omitempty" yaml:"DeleteMarkerReplication,omitempty"`
	Destination               Destination              `json:"Destination" yaml:"Destination"`
	SourceSelectionCriteria   *SourceSelectionCriteria `json:"SourceSelectionCriteria,omitempty" yaml:"SourceSelectionCriteria,omitempty"`
	ExistingObjectReplication *StatusElement           `json:"ExistingObjectReplication,omitempty" yaml:"ExistingObjectReplication,omitempty"`

	// index is the rule's position in Configuration.Rules, set by Validate,
	// so that an unnamed rule can still be named in messages.
	index int
}

// Filter is a V2 ReplicationRuleFilter: at most one of Prefix, Tag, And.
// An empty Filter ({}) selects every object; it is what the S3 console
// writes for "apply to all objects".
type Filter struct {
	Prefix *string `json:"Prefix,omitempty" yaml:"Prefix,omitempty"`
	Tag    *Tag    `json:"Tag,omitempty" yaml:"Tag,omitempty"`
	And    *And    `json:"And,omitempty" yaml:"And,omitempty"`
}

// And combines a prefix and tags; an object must satisfy all of them.
type And struct {
	Prefix string `json:"Prefix,omitempty" yaml:"Prefix,omitempty"`
	Tags   []Tag  `json:"Tags,omitempty" yaml:"Tags,omitempty"`
}

// Tag is one object tag condition; Value must match exactly.
type Tag struct {
	Key   string `json:"Key" yaml:"Key"`
	Value string `json:"Value" yaml:"Value"`
}

// StatusElement is any {"Status": "Enabled"|"Disabled"} element:
// DeleteMarkerReplication, ExistingObjectReplication,
// SseKmsEncryptedObjects, ReplicaModifications.
type StatusElement struct {
	Status string `json:"Status,omitempty" yaml:"Status,omitempty"`
}

// Enabled reports whether the element is present and Enabled.
func (s *StatusElement) Enabled() bool { return s != nil && s.Status == Enabled }

// Destination says where a rule's replicas go and how they are stored.
type Destination struct {
	// Bucket is an ARN: arn:aws:s3:::name.
	Bucket                   string                    `json:"Bucket,omitempty" yaml:"Bucket,omitempty"`
	Account                  string                    `json:"Account,omitempty" yaml:"Account,omitempty"`
	StorageClass             string                    `json:"StorageClass,omitempty" yaml:"StorageClass,omitempty"`
	AccessControlTranslation *AccessControlTranslation `json:"AccessControlTranslation,omitempty" yaml:"AccessControlTranslation,omitempty"`
	EncryptionConfiguration  *EncryptionConfiguration  `json:"EncryptionConfiguration,omitempty" yaml:"EncryptionConfiguration,omitempty"`
	ReplicationTime          *ReplicationTime          `json:"ReplicationTime,omitempty" yaml:"ReplicationTime,omitempty"`
	Metrics                  *Metrics                  `json:"Metrics,omitempty" yaml:"Metrics,omitempty"`
}

// AccessControlTranslation changes replica ownership; Owner can only be
// "Destination" (the destination bucket's account).
type AccessControlTranslation struct {
	Owner string `json:"Owner,omitempty" yaml:"Owner,omitempty"`
}

// EncryptionConfiguration names the KMS key replicas are encrypted with.
type EncryptionConfiguration struct {
	ReplicaKmsKeyID string `json:"ReplicaKmsKeyID,omitempty" yaml:"ReplicaKmsKeyID,omitempty"`
}

// ReplicationTime is S3 Replication Time Control (RTC).
type ReplicationTime struct {
	Status string    `json:"Status,omitempty" yaml:"Status,omitempty"`
	Time   TimeValue `json:"Time" yaml:"Time"`
}

// Metrics enables replication metrics and the missed-threshold event.
type Metrics struct {
	Status         string     `json:"Status,omitempty" yaml:"Status,omitempty"`
	EventThreshold *TimeValue `json:"EventThreshold,omitempty" yaml:"EventThreshold,omitempty"`
}

// TimeValue is a ReplicationTimeValue; AWS only accepts 15 minutes.
type TimeValue struct {
	Minutes int `json:"Minutes,omitempty" yaml:"Minutes,omitempty"`
}

// SourceSelectionCriteria selects extra kinds of source objects.
type SourceSelectionCriteria struct {
	// SseKmsEncryptedObjects must be Enabled for SSE-KMS objects to be
	// replicated at all.
	SseKmsEncryptedObjects *StatusElement `json:"SseKmsEncryptedObjects,omitempty" yaml:"SseKmsEncryptedObjects,omitempty"`
	// ReplicaModifications replicates metadata changes made to replicas.
	ReplicaModifications *StatusElement `json:"ReplicaModifications,omitempty" yaml:"ReplicaModifications,omitempty"`
}

// Status values.
const (
	Enabled  = "Enabled"
	Disabled = "Disabled"
)
