package rules

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits from the S3 API reference.
const (
	maxRules       = 1000
	maxIDLen       = 255
	maxPrefixLen   = 1024
	maxTagKeyLen   = 128
	maxTagValueLen = 256
	// rtcMinutes is the only value S3 accepts for ReplicationTime.Time and
	// Metrics.EventThreshold. Ferry's own, shorter SLA thresholds live in
	// ferry.yaml, so an AWS document stays valid for AWS.
	rtcMinutes = 15
)

var (
	roleARN   = regexp.MustCompile(`^arn:aws(-[a-z]+(-[a-z]+)?)?:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	accountID = regexp.MustCompile(`^\d{12}$`)
)

// Validate checks the configuration the way S3's PutBucketReplication
// does and returns every problem found (joined with errors.Join), each a
// *FieldError naming the rule and the field. It also records each rule's
// position, which Rule.Name uses for unnamed rules.
func (c *Configuration) Validate() error {
	doc := &problems{index: -1}
	if c.Role != "" && !roleARN.MatchString(c.Role) {
		doc.add("Role", "%q is not an IAM role ARN (arn:aws:iam::111122223333:role/name); ferry does not need a role, so it may be left out", c.Role)
	}
	switch n := len(c.Rules); {
	case n == 0:
		doc.add("Rules", "at least one rule is required")
	case n > maxRules:
		doc.add("Rules", "%d rules; S3 allows at most %d", n, maxRules)
	}

	errs := doc.errs
	ids := map[string]*Rule{}
	priorities := map[int]*Rule{}
	var firstV1, firstV2 *Rule
	for i, r := range c.Rules {
		if r == nil {
			errs = append(errs, &FieldError{Index: i, Field: "Rules", Problem: "rule is null"})
			continue
		}
		r.index = i
		p := &problems{index: i, id: r.ID}
		r.validate(p)

		if r.ID != "" {
			if other, dup := ids[r.ID]; dup {
				p.add("ID", "%q is already the ID of Rules[%d]; IDs must be unique", r.ID, other.index)
			} else {
				ids[r.ID] = r
			}
		}
		if r.IsV2() {
			if firstV2 == nil {
				firstV2 = r
			}
			if r.Priority != nil {
				if other, dup := priorities[*r.Priority]; dup {
					p.add("Priority", "%d is already the priority of %s; priorities must be unique", *r.Priority, other.where())
				} else {
					priorities[*r.Priority] = r
				}
			}
		} else if r.Prefix != nil && firstV1 == nil {
			firstV1 = r
		}
		errs = append(errs, p.errs...)
	}
	if firstV1 != nil && firstV2 != nil {
		doc := &problems{index: -1}
		doc.add("Rules", "V1 rules (Prefix) and V2 rules (Filter) cannot be mixed: %s uses Prefix, %s uses Filter; "+
			`write V1 rules as "Filter": {"Prefix": ...} with a Priority and DeleteMarkerReplication`, firstV1.where(), firstV2.where())
		errs = append(errs, doc.errs...)
	}
	return errors.Join(errs...)
}

// validate checks one rule on its own; Configuration.Validate checks what
// depends on the other rules.
func (r *Rule) validate(p *problems) {
	if len(r.ID) > maxIDLen {
		p.add("ID", "%d characters; S3 allows at most %d", len(r.ID), maxIDLen)
	}
	checkStatus(p, "Status", r.Status)

	switch {
	case r.Prefix != nil && r.Filter != nil:
		p.add("Prefix", "a rule uses either Prefix (V1) or Filter (V2), not both; move the prefix into Filter.Prefix")
	case r.Prefix == nil && r.Filter == nil:
		p.add("Filter", `missing; write "Filter": {"Prefix": ""} (with Priority and DeleteMarkerReplication) to replicate the whole bucket`)
	case r.Prefix != nil:
		checkPrefix(p, "Prefix", *r.Prefix)
		r.validateV1(p)
	default:
		r.validateFilter(p)
		r.validateV2(p)
	}

	r.Destination.validate(p)

	if s := r.SourceSelectionCriteria; s != nil {
		if s.SseKmsEncryptedObjects != nil {
			checkStatus(p, "SourceSelectionCriteria.SseKmsEncryptedObjects.Status", s.SseKmsEncryptedObjects.Status)
		}
		if s.ReplicaModifications != nil {
			checkStatus(p, "SourceSelectionCriteria.ReplicaModifications.Status", s.ReplicaModifications.Status)
		}
		if s.SseKmsEncryptedObjects.Enabled() {
			if e := r.Destination.EncryptionConfiguration; e == nil || e.ReplicaKmsKeyID == "" {
				p.add("Destination.EncryptionConfiguration.ReplicaKmsKeyID",
					"required when SourceSelectionCriteria.SseKmsEncryptedObjects is Enabled (the KMS key replicas are encrypted with)")
			}
		}
	}
	if r.ExistingObjectReplication != nil {
		checkStatus(p, "ExistingObjectReplication.Status", r.ExistingObjectReplication.Status)
	}
}

// validateV1 rejects V2-only elements in a V1 rule. S3 gives them no
// meaning there (V1 rules always replicate delete markers and have no
// priority), so accepting them would only hide a mistake.
func (r *Rule) validateV1(p *problems) {
	if r.Priority != nil {
		p.add("Priority", "only V2 rules (with a Filter) have a priority; replace Prefix with Filter.Prefix")
	}
	if r.DeleteMarkerReplication != nil {
		p.add("DeleteMarkerReplication", "only V2 rules (with a Filter) can set it (V1 rules always replicate delete markers); replace Prefix with Filter.Prefix")
	}
	if s := r.SourceSelectionCriteria; s != nil && s.ReplicaModifications != nil {
		p.add("SourceSelectionCriteria.ReplicaModifications", "only V2 rules (with a Filter) can set it; replace Prefix with Filter.Prefix")
	}
}

func (r *Rule) validateV2(p *problems) {
	if r.Priority == nil {
		p.add("Priority", "required for rules with a Filter (V2); higher numbers win when rules share a destination")
	} else if *r.Priority < 0 {
		p.add("Priority", "%d; must be 0 or more", *r.Priority)
	}
	switch dm := r.DeleteMarkerReplication; {
	case dm == nil:
		p.add("DeleteMarkerReplication", `required for rules with a Filter (V2); write {"Status": "Disabled"} or {"Status": "Enabled"}`)
	default:
		checkStatus(p, "DeleteMarkerReplication.Status", dm.Status)
		if dm.Status == Enabled && r.hasTagFilter() {
			p.add("DeleteMarkerReplication.Status", "must be Disabled: S3 does not replicate delete markers for tag-based rules")
		}
	}
}

func (r *Rule) validateFilter(p *problems) {
	f := r.Filter
	n := 0
	for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.And != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		p.add("Filter", "holds more than one of Prefix, Tag and And; combine conditions with And")
	}
	if f.Prefix != nil {
		checkPrefix(p, "Filter.Prefix", *f.Prefix)
	}
	if f.Tag != nil {
		checkTag(p, "Filter.Tag", *f.Tag)
	}
	if a := f.And; a != nil {
		checkPrefix(p, "Filter.And.Prefix", a.Prefix)
		conditions := len(a.Tags)
		if a.Prefix != "" {
			conditions++
		}
		if conditions < 2 {
			p.add("Filter.And", "needs at least two conditions (a Prefix and a tag, or two tags); use Filter.Prefix or Filter.Tag for one")
		}
		seen := map[string]bool{}
		for i, t := range a.Tags {
			field := fmt.Sprintf("Filter.And.Tags[%d]", i)
			checkTag(p, field, t)
			if seen[t.Key] && t.Key != "" {
				p.add(field+".Key", "%q appears twice; tag keys must be unique", t.Key)
			}
			seen[t.Key] = true
		}
	}
}

func (d *Destination) validate(p *problems) {
	switch {
	case d.Bucket == "":
		p.add("Destination.Bucket", `required: the destination bucket's ARN, "arn:aws:s3:::bucket-name"`)
	default:
		if _, ok := ParseBucketARN(d.Bucket); !ok {
			p.add("Destination.Bucket", "%q is not an S3 bucket ARN; write %q", d.Bucket, BucketARN(guessBucket(d.Bucket)))
		}
	}
	if d.Account != "" && !accountID.MatchString(d.Account) {
		p.add("Destination.Account", "%q is not a 12-digit AWS account ID", d.Account)
	}
	if d.StorageClass != "" && !IsStorageClass(d.StorageClass) {
		p.add("Destination.StorageClass", "unknown storage class %q (one of: %s)", d.StorageClass, strings.Join(StorageClasses(), ", "))
	}
	if a := d.AccessControlTranslation; a != nil {
		if a.Owner != "Destination" {
			p.add("Destination.AccessControlTranslation.Owner", `%q; the only valid value is "Destination"`, a.Owner)
		}
		if d.Account == "" {
			p.add("Destination.Account", "required with AccessControlTranslation (the account that will own the replicas)")
		}
	}
	if t := d.ReplicationTime; t != nil {
		checkStatus(p, "Destination.ReplicationTime.Status", t.Status)
		if t.Time.Minutes != rtcMinutes {
			p.add("Destination.ReplicationTime.Time.Minutes", "%d; S3 only accepts %d (set shorter SLA thresholds in ferry.yaml)", t.Time.Minutes, rtcMinutes)
		}
		if t.Status == Enabled && (d.Metrics == nil || d.Metrics.Status != Enabled) {
			p.add("Destination.Metrics", `must be Enabled when ReplicationTime is: add "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}`)
		}
	}
	if m := d.Metrics; m != nil {
		checkStatus(p, "Destination.Metrics.Status", m.Status)
		if m.EventThreshold != nil && m.EventThreshold.Minutes != rtcMinutes {
			p.add("Destination.Metrics.EventThreshold.Minutes", "%d; S3 only accepts %d", m.EventThreshold.Minutes, rtcMinutes)
		}
	}
}

// guessBucket pulls a bucket name out of a value that is not an ARN, for
// the hint in the error message ("s3://b/x" and "b" both suggest "b").
func guessBucket(s string) string {
	s = strings.TrimPrefix(s, "s3://")
	if i := strings.LastIndex(s, ":"); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.Index(s, "/"); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "bucket-name"
	}
	return s
}

func checkStatus(p *problems, field, status string) {
	switch status {
	case Enabled, Disabled:
	case "":
		p.add(field, "required: Enabled or Disabled")
	default:
		p.add(field, "%q; must be Enabled or Disabled", status)
	}
}

func checkPrefix(p *problems, field, prefix string) {
	if len(prefix) > maxPrefixLen {
		p.add(field, "%d bytes; S3 allows at most %d", len(prefix), maxPrefixLen)
	}
	if !utf8.ValidString(prefix) {
		p.add(field, "is not valid UTF-8")
	}
}

func checkTag(p *problems, field string, t Tag) {
	switch {
	case t.Key == "":
		p.add(field+".Key", "required")
	case utf8.RuneCountInString(t.Key) > maxTagKeyLen:
		p.add(field+".Key", "longer than %d characters", maxTagKeyLen)
	}
	if utf8.RuneCountInString(t.Value) > maxTagValueLen {
		p.add(field+".Value", "longer than %d characters", maxTagValueLen)
	}
}
