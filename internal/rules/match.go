package rules

import "strings"

// Object is what matching needs to know about one source object.
type Object struct {
	Key  string
	Tags map[string]string
	// SSEKMS is true for objects encrypted with SSE-KMS (or DSSE-KMS).
	SSEKMS bool
	// IsReplica is true for objects ferry (or S3) wrote as a replica.
	IsReplica bool
}

// Match returns the enabled rules that apply to obj, at most one per
// destination bucket, in the order the rules appear in the configuration.
//
// This is S3's semantics: when several rules send an object to the same
// destination, the V2 rule with the highest Priority wins (for V1 rules,
// which have no priority, the first in the document); SSE-KMS objects are
// only replicated by rules that opt in with SseKmsEncryptedObjects; and a
// replica is never replicated again, which is what makes two-way
// replication (A->B, B->A) safe.
func (c *Configuration) Match(obj Object) []*Rule {
	if c == nil || obj.IsReplica {
		return nil
	}
	best := map[string]int{} // destination bucket -> index into out
	var out []*Rule
	for _, r := range c.Rules {
		if r == nil || !r.Enabled() || !r.matches(obj) {
			continue
		}
		dest := r.Destination.BucketName()
		i, seen := best[dest]
		if !seen {
			best[dest] = len(out)
			out = append(out, r)
			continue
		}
		if r.outranks(out[i]) {
			out[i] = r
		}
	}
	return out
}

// matches reports whether the rule's filter and selection criteria select
// obj. Status is checked by the caller.
func (r *Rule) matches(obj Object) bool {
	if obj.SSEKMS && !r.ReplicatesKMS() {
		return false
	}
	if r.Prefix != nil {
		return strings.HasPrefix(obj.Key, *r.Prefix)
	}
	f := r.Filter
	if f == nil {
		// Neither Prefix nor Filter: invalid, and so never matched, rather
		// than silently replicating everything.
		return false
	}
	switch {
	case f.Prefix != nil:
		return strings.HasPrefix(obj.Key, *f.Prefix)
	case f.Tag != nil:
		return hasTag(obj.Tags, *f.Tag)
	case f.And != nil:
		if !strings.HasPrefix(obj.Key, f.And.Prefix) {
			return false
		}
		for _, t := range f.And.Tags {
			if !hasTag(obj.Tags, t) {
				return false
			}
		}
		return true
	}
	return true // empty filter: every object
}

// outranks reports whether r beats other for the same destination. Only a
// strictly higher priority wins, so ties (invalid configurations) keep the
// earlier rule and Match stays deterministic.
func (r *Rule) outranks(other *Rule) bool {
	if r.Priority == nil || other.Priority == nil {
		return false
	}
	return *r.Priority > *other.Priority
}

func hasTag(tags map[string]string, t Tag) bool {
	v, ok := tags[t.Key]
	return ok && v == t.Value
}
