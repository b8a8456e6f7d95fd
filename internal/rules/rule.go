package rules

import (
	"fmt"
	"strings"
)

// Name is how messages refer to the rule: its ID, or "Rules[N]" when the
// ID is empty (S3 would generate one; ferry has nothing better to show).
// N is known once the configuration has been validated.
func (r *Rule) Name() string {
	if r.ID != "" {
		return r.ID
	}
	return fmt.Sprintf("Rules[%d]", r.index)
}

// where is the rule's location in messages: `rule "ID" (Rules[N])`, or
// just `Rules[N]` for an unnamed rule.
func (r *Rule) where() string {
	if r.ID != "" {
		return fmt.Sprintf("rule %q (Rules[%d])", r.ID, r.index)
	}
	return fmt.Sprintf("Rules[%d]", r.index)
}

// IsV2 reports whether the rule uses the current schema (a Filter).
func (r *Rule) IsV2() bool { return r.Filter != nil }

// Enabled reports whether the rule's Status is Enabled.
func (r *Rule) Enabled() bool { return r.Status == Enabled }

// KeyPrefix is the key prefix the rule is limited to ("" for the whole
// bucket or a tag-only filter). Listings can be narrowed with it; objects
// found there must still go through Match, which also checks tags.
func (r *Rule) KeyPrefix() string {
	switch {
	case r.Prefix != nil:
		return *r.Prefix
	case r.Filter == nil:
		return ""
	case r.Filter.Prefix != nil:
		return *r.Filter.Prefix
	case r.Filter.And != nil:
		return r.Filter.And.Prefix
	}
	return ""
}

// DeleteMarkersEnabled reports whether delete markers are replicated. V2
// rules say so in DeleteMarkerReplication; V1 rules (no Filter) always
// replicate delete markers, which is S3's behaviour for the V1 schema.
func (r *Rule) DeleteMarkersEnabled() bool {
	if !r.IsV2() {
		return true
	}
	return r.DeleteMarkerReplication.Enabled()
}

// ReplicatesKMS reports whether SSE-KMS encrypted objects are replicated.
func (r *Rule) ReplicatesKMS() bool {
	return r.SourceSelectionCriteria != nil && r.SourceSelectionCriteria.SseKmsEncryptedObjects.Enabled()
}

// hasTagFilter reports whether the rule's filter looks at tags.
func (r *Rule) hasTagFilter() bool {
	f := r.Filter
	return f != nil && (f.Tag != nil || f.And != nil && len(f.And.Tags) > 0)
}

// BucketName is the bucket named by the Bucket ARN ("arn:aws:s3:::name"
// gives "name"). A value that is not an ARN is returned unchanged, so a
// caller always gets something to show.
func (d *Destination) BucketName() string {
	name, ok := ParseBucketARN(d.Bucket)
	if !ok {
		return d.Bucket
	}
	return name
}

// BucketARN is the ARN S3 uses for a bucket in the aws partition.
func BucketARN(bucket string) string { return "arn:aws:s3:::" + bucket }

// ParseBucketARN returns the bucket an "arn:<partition>:s3:::<bucket>" ARN
// names, and false if arn is not a bucket ARN.
func ParseBucketARN(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !isPartition(parts[1]) || parts[2] != "s3" ||
		parts[3] != "" || parts[4] != "" || parts[5] == "" || strings.Contains(parts[5], "/") {
		return "", false
	}
	return parts[5], true
}

func isPartition(p string) bool {
	switch p {
	case "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc":
		return true
	}
	return false
}
