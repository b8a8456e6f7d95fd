package rules

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func ptr[T any](v T) *T { return &v }

// v2 is a valid V2 rule replicating the whole bucket to dest.
func v2(id string, priority int, dest string) *Rule {
	return &Rule{
		ID:                      id,
		Priority:                ptr(priority),
		Status:                  Enabled,
		Filter:                  &Filter{Prefix: ptr("")},
		DeleteMarkerReplication: &StatusElement{Status: Disabled},
		Destination:             Destination{Bucket: "arn:aws:s3:::" + dest},
	}
}

// v1 is a valid V1 rule for prefix to dest.
func v1(id, prefix, dest string) *Rule {
	return &Rule{
		ID:          id,
		Status:      Enabled,
		Prefix:      ptr(prefix),
		Destination: Destination{Bucket: "arn:aws:s3:::" + dest},
	}
}

// with returns a one-rule configuration after applying edit to a valid
// rule "backup".
func with(edit func(r *Rule)) *Configuration {
	r := v2("backup", 1, "dr")
	edit(r)
	return &Configuration{Rules: []*Rule{r}}
}

func TestValidateValid(t *testing.T) {
	tests := map[string]*Configuration{
		"v2 whole bucket":  {Rules: []*Rule{v2("a", 1, "dr")}},
		"v2 empty filter":  with(func(r *Rule) { r.Filter = &Filter{} }),
		"v2 priority zero": with(func(r *Rule) { r.Priority = ptr(0) }),
		"v2 two dests":     {Rules: []*Rule{v2("a", 1, "dr"), v2("b", 2, "archive")}},
		"v1 two prefixes":  {Rules: []*Rule{v1("a", "logs/", "dr"), v1("b", "img/", "dr")}},
		"unnamed rules":    {Rules: []*Rule{v2("", 1, "dr"), v2("", 2, "dr")}},
		"role with path":   {Role: "arn:aws:iam::111122223333:role/service-role/s3crr", Rules: []*Rule{v2("a", 1, "dr")}},
		"china partition":  with(func(r *Rule) { r.Destination.Bucket = "arn:aws-cn:s3:::dr" }),
		"and prefix + tag": with(func(r *Rule) { r.Filter = &Filter{And: &And{Prefix: "p/", Tags: []Tag{{"k", "v"}}}} }),
		"and two tags":     with(func(r *Rule) { r.Filter = &Filter{And: &And{Tags: []Tag{{"a", ""}, {"b", "v"}}}} }),
		"tag with deletes off": with(func(r *Rule) {
			r.Filter = &Filter{Tag: &Tag{"k", "v"}}
		}),
		"disabled rule": with(func(r *Rule) { r.Status = Disabled }),
		"kms": with(func(r *Rule) {
			r.SourceSelectionCriteria = &SourceSelectionCriteria{SseKmsEncryptedObjects: &StatusElement{Enabled}}
			r.Destination.EncryptionConfiguration = &EncryptionConfiguration{ReplicaKmsKeyID: "alias/dr"}
		}),
		"rtc": with(func(r *Rule) {
			r.Destination.ReplicationTime = &ReplicationTime{Status: Enabled, Time: TimeValue{15}}
			r.Destination.Metrics = &Metrics{Status: Enabled, EventThreshold: &TimeValue{15}}
		}),
		"1000 rules": func() *Configuration {
			c := &Configuration{}
			for i := range 1000 {
				c.Rules = append(c.Rules, v2(fmt.Sprint(i), i, "dr"))
			}
			return c
		}(),
	}
	for name, c := range tests {
		t.Run(name, func(t *testing.T) {
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

// One case per validation rule. Each wanted message names the rule and the
// field, so a user can find the line to fix.
func TestValidateErrors(t *testing.T) {
	long := strings.Repeat("x", 256)
	tests := []struct {
		name string
		c    *Configuration
		want string
	}{
		{"no rules", &Configuration{}, "Rules: at least one rule is required"},
		{"too many rules", func() *Configuration {
			c := &Configuration{}
			for i := range 1001 {
				c.Rules = append(c.Rules, v2(fmt.Sprint(i), i, "dr"))
			}
			return c
		}(), "Rules: 1001 rules; S3 allows at most 1000"},
		{"null rule", &Configuration{Rules: []*Rule{nil}}, "Rules[0]: Rules: rule is null"},
		{"role not an ARN", &Configuration{Role: "replication-role", Rules: []*Rule{v2("a", 1, "dr")}},
			`Role: "replication-role" is not an IAM role ARN`},
		{"role is a user", &Configuration{Role: "arn:aws:iam::111122223333:user/bob", Rules: []*Rule{v2("a", 1, "dr")}},
			`Role: "arn:aws:iam::111122223333:user/bob" is not an IAM role ARN`},
		{"ID too long", with(func(r *Rule) { r.ID = long }), `(Rules[0]): ID: 256 characters; S3 allows at most 255`},
		{"duplicate ID", &Configuration{Rules: []*Rule{v2("a", 1, "dr"), v2("a", 2, "archive")}},
			`rule "a" (Rules[1]): ID: "a" is already the ID of Rules[0]`},
		{"status missing", with(func(r *Rule) { r.Status = "" }), `rule "backup" (Rules[0]): Status: required: Enabled or Disabled`},
		{"status lower case", with(func(r *Rule) { r.Status = "enabled" }), `rule "backup" (Rules[0]): Status: "enabled"; must be Enabled or Disabled`},
		{"prefix and filter", with(func(r *Rule) { r.Prefix = ptr("") }), `rule "backup" (Rules[0]): Prefix: a rule uses either Prefix (V1) or Filter (V2), not both`},
		{"neither prefix nor filter", with(func(r *Rule) { r.Filter = nil; r.Priority = nil; r.DeleteMarkerReplication = nil }),
			`rule "backup" (Rules[0]): Filter: missing`},
		{"prefix too long", with(func(r *Rule) { r.Filter.Prefix = ptr(strings.Repeat("p", 1025)) }),
			`rule "backup" (Rules[0]): Filter.Prefix: 1025 bytes; S3 allows at most 1024`},
		{"v1 prefix too long", &Configuration{Rules: []*Rule{v1("old", strings.Repeat("p", 1025), "dr")}},
			`rule "old" (Rules[0]): Prefix: 1025 bytes`},
		{"v2 without priority", with(func(r *Rule) { r.Priority = nil }), `rule "backup" (Rules[0]): Priority: required for rules with a Filter`},
		{"negative priority", with(func(r *Rule) { r.Priority = ptr(-1) }), `rule "backup" (Rules[0]): Priority: -1; must be 0 or more`},
		{"v2 without delete marker replication", with(func(r *Rule) { r.DeleteMarkerReplication = nil }),
			`rule "backup" (Rules[0]): DeleteMarkerReplication: required for rules with a Filter`},
		{"delete marker status", with(func(r *Rule) { r.DeleteMarkerReplication.Status = "On" }),
			`rule "backup" (Rules[0]): DeleteMarkerReplication.Status: "On"; must be Enabled or Disabled`},
		{"duplicate priority", &Configuration{Rules: []*Rule{v2("a", 1, "dr"), v2("b", 1, "archive")}},
			`rule "b" (Rules[1]): Priority: 1 is already the priority of rule "a" (Rules[0])`},
		{"mixed v1 and v2", &Configuration{Rules: []*Rule{v1("old", "", "dr"), v2("new", 1, "archive")}},
			`Rules: V1 rules (Prefix) and V2 rules (Filter) cannot be mixed: rule "old" (Rules[0]) uses Prefix, rule "new" (Rules[1]) uses Filter`},
		{"v1 with priority", &Configuration{Rules: []*Rule{func() *Rule { r := v1("old", "", "dr"); r.Priority = ptr(1); return r }()}},
			`rule "old" (Rules[0]): Priority: only V2 rules`},
		{"v1 with delete marker replication", &Configuration{Rules: []*Rule{func() *Rule {
			r := v1("old", "", "dr")
			r.DeleteMarkerReplication = &StatusElement{Disabled}
			return r
		}()}}, `rule "old" (Rules[0]): DeleteMarkerReplication: only V2 rules`},
		{"v1 with replica modifications", &Configuration{Rules: []*Rule{func() *Rule {
			r := v1("old", "", "dr")
			r.SourceSelectionCriteria = &SourceSelectionCriteria{ReplicaModifications: &StatusElement{Enabled}}
			return r
		}()}}, `rule "old" (Rules[0]): SourceSelectionCriteria.ReplicaModifications: only V2 rules`},
		{"filter with two conditions", with(func(r *Rule) { r.Filter.Tag = &Tag{"k", "v"} }),
			`rule "backup" (Rules[0]): Filter: holds more than one of Prefix, Tag and And`},
		{"and with one condition", with(func(r *Rule) { r.Filter = &Filter{And: &And{Prefix: "p/"}} }),
			`rule "backup" (Rules[0]): Filter.And: needs at least two conditions`},
		{"and with one tag", with(func(r *Rule) { r.Filter = &Filter{And: &And{Tags: []Tag{{"k", "v"}}}} }),
			`rule "backup" (Rules[0]): Filter.And: needs at least two conditions`},
		{"and tag without key", with(func(r *Rule) { r.Filter = &Filter{And: &And{Prefix: "p/", Tags: []Tag{{"", "v"}}}} }),
			`rule "backup" (Rules[0]): Filter.And.Tags[0].Key: required`},
		{"and duplicate tag keys", with(func(r *Rule) { r.Filter = &Filter{And: &And{Tags: []Tag{{"k", "1"}, {"k", "2"}}}} }),
			`rule "backup" (Rules[0]): Filter.And.Tags[1].Key: "k" appears twice`},
		{"tag without key", with(func(r *Rule) { r.Filter = &Filter{Tag: &Tag{"", "v"}} }),
			`rule "backup" (Rules[0]): Filter.Tag.Key: required`},
		{"tag key too long", with(func(r *Rule) { r.Filter = &Filter{Tag: &Tag{long, "v"}} }),
			`rule "backup" (Rules[0]): Filter.Tag.Key: longer than 128 characters`},
		{"tag value too long", with(func(r *Rule) { r.Filter = &Filter{Tag: &Tag{"k", long + long}} }),
			`rule "backup" (Rules[0]): Filter.Tag.Value: longer than 256 characters`},
		{"delete markers with tag filter", with(func(r *Rule) {
			r.Filter = &Filter{Tag: &Tag{"k", "v"}}
			r.DeleteMarkerReplication.Status = Enabled
		}), `rule "backup" (Rules[0]): DeleteMarkerReplication.Status: must be Disabled: S3 does not replicate delete markers for tag-based rules`},
		{"delete markers with and tags", with(func(r *Rule) {
			r.Filter = &Filter{And: &And{Prefix: "p/", Tags: []Tag{{"k", "v"}}}}
			r.DeleteMarkerReplication.Status = Enabled
		}), `rule "backup" (Rules[0]): DeleteMarkerReplication.Status: must be Disabled`},
		{"bucket missing", with(func(r *Rule) { r.Destination.Bucket = "" }), `rule "backup" (Rules[0]): Destination.Bucket: required`},
		{"bucket is a plain name", &Configuration{Rules: []*Rule{v2("main", 1, "dr"), func() *Rule {
			r := v2("backup", 2, "")
			r.Destination.Bucket = "my-bucket"
			return r
		}()}}, `rule "backup" (Rules[1]): Destination.Bucket: "my-bucket" is not an S3 bucket ARN; write "arn:aws:s3:::my-bucket"`},
		{"bucket is an s3 URL", with(func(r *Rule) { r.Destination.Bucket = "s3://my-bucket/x/" }),
			`Destination.Bucket: "s3://my-bucket/x/" is not an S3 bucket ARN; write "arn:aws:s3:::my-bucket"`},
		{"bucket ARN with a key", with(func(r *Rule) { r.Destination.Bucket = "arn:aws:s3:::my-bucket/logs" }),
			`Destination.Bucket: "arn:aws:s3:::my-bucket/logs" is not an S3 bucket ARN; write "arn:aws:s3:::my-bucket"`},
		{"unnamed rule", &Configuration{Rules: []*Rule{v2("", 1, "dr"), func() *Rule {
			r := v2("", 2, "")
			r.Destination.Bucket = ""
			return r
		}()}}, `Rules[1]: Destination.Bucket: required`},
		{"account not 12 digits", with(func(r *Rule) { r.Destination.Account = "1234" }),
			`rule "backup" (Rules[0]): Destination.Account: "1234" is not a 12-digit AWS account ID`},
		{"unknown storage class", with(func(r *Rule) { r.Destination.StorageClass = "COLD" }),
			`rule "backup" (Rules[0]): Destination.StorageClass: unknown storage class "COLD" (one of: STANDARD,`},
		{"owner not Destination", with(func(r *Rule) {
			r.Destination.Account = "444455556666"
			r.Destination.AccessControlTranslation = &AccessControlTranslation{Owner: "Source"}
		}), `rule "backup" (Rules[0]): Destination.AccessControlTranslation.Owner: "Source"; the only valid value is "Destination"`},
		{"owner override without account", with(func(r *Rule) {
			r.Destination.AccessControlTranslation = &AccessControlTranslation{Owner: "Destination"}
		}), `rule "backup" (Rules[0]): Destination.Account: required with AccessControlTranslation`},
		{"rtc not 15 minutes", with(func(r *Rule) {
			r.Destination.ReplicationTime = &ReplicationTime{Status: Enabled, Time: TimeValue{5}}
			r.Destination.Metrics = &Metrics{Status: Enabled}
		}), `rule "backup" (Rules[0]): Destination.ReplicationTime.Time.Minutes: 5; S3 only accepts 15`},
		{"rtc without metrics", with(func(r *Rule) {
			r.Destination.ReplicationTime = &ReplicationTime{Status: Enabled, Time: TimeValue{15}}
		}), `rule "backup" (Rules[0]): Destination.Metrics: must be Enabled when ReplicationTime is`},
		{"rtc with metrics disabled", with(func(r *Rule) {
			r.Destination.ReplicationTime = &ReplicationTime{Status: Enabled, Time: TimeValue{15}}
			r.Destination.Metrics = &Metrics{Status: Disabled}
		}), `rule "backup" (Rules[0]): Destination.Metrics: must be Enabled`},
		{"rtc status", with(func(r *Rule) {
			r.Destination.ReplicationTime = &ReplicationTime{Time: TimeValue{15}}
		}), `rule "backup" (Rules[0]): Destination.ReplicationTime.Status: required`},
		{"metrics threshold", with(func(r *Rule) {
			r.Destination.Metrics = &Metrics{Status: Enabled, EventThreshold: &TimeValue{30}}
		}), `rule "backup" (Rules[0]): Destination.Metrics.EventThreshold.Minutes: 30; S3 only accepts 15`},
		{"kms without key", with(func(r *Rule) {
			r.SourceSelectionCriteria = &SourceSelectionCriteria{SseKmsEncryptedObjects: &StatusElement{Enabled}}
		}), `rule "backup" (Rules[0]): Destination.EncryptionConfiguration.ReplicaKmsKeyID: required when SourceSelectionCriteria.SseKmsEncryptedObjects is Enabled`},
		{"kms status", with(func(r *Rule) {
			r.SourceSelectionCriteria = &SourceSelectionCriteria{SseKmsEncryptedObjects: &StatusElement{"yes"}}
		}), `rule "backup" (Rules[0]): SourceSelectionCriteria.SseKmsEncryptedObjects.Status: "yes"`},
		{"replica modifications status", with(func(r *Rule) {
			r.SourceSelectionCriteria = &SourceSelectionCriteria{ReplicaModifications: &StatusElement{}}
		}), `rule "backup" (Rules[0]): SourceSelectionCriteria.ReplicaModifications.Status: required`},
		{"existing objects status", with(func(r *Rule) { r.ExistingObjectReplication = &StatusElement{"all"} }),
			`rule "backup" (Rules[0]): ExistingObjectReplication.Status: "all"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			if err == nil {
				t.Fatalf("Validate: no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FieldError", err)
			}
		})
	}
}

// Validate reports every problem, not just the first.
func TestValidateCollectsAll(t *testing.T) {
	c := &Configuration{Role: "nope", Rules: []*Rule{
		func() *Rule { r := v2("a", 1, "dr"); r.Status = ""; return r }(),
		func() *Rule { r := v2("b", 2, ""); r.Destination.Bucket = "dr"; return r }(),
	}}
	err := c.Validate()
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Validate error %T is not a join", err)
	}
	var paths []string
	for _, e := range joined.Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("%T is not a *FieldError", e)
		}
		paths = append(paths, fe.Path())
	}
	want := []string{"Role", "Rules[0].Status", "Rules[1].Destination.Bucket"}
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Errorf("paths = %v, want %v", paths, want)
	}
}
