package rules

import (
	"slices"
	"testing"
)

func TestMatch(t *testing.T) {
	prio := func(r *Rule, p int) *Rule { r.Priority = ptr(p); return r }
	filter := func(r *Rule, f Filter) *Rule { r.Filter = &f; return r }
	kms := func(r *Rule) *Rule {
		r.SourceSelectionCriteria = &SourceSelectionCriteria{SseKmsEncryptedObjects: &StatusElement{Enabled}}
		r.Destination.EncryptionConfiguration = &EncryptionConfiguration{ReplicaKmsKeyID: "alias/dr"}
		return r
	}
	disabled := func(r *Rule) *Rule { r.Status = Disabled; return r }

	tests := []struct {
		name  string
		rules []*Rule
		obj   Object
		want  []string // rule names, in order
	}{
		{"whole bucket", []*Rule{v2("all", 1, "dr")}, Object{Key: "a.txt"}, []string{"all"}},
		{"prefix match", []*Rule{filter(v2("logs", 1, "dr"), Filter{Prefix: ptr("logs/")})},
			Object{Key: "logs/x"}, []string{"logs"}},
		{"prefix miss", []*Rule{filter(v2("logs", 1, "dr"), Filter{Prefix: ptr("logs/")})},
			Object{Key: "img/logs/x"}, nil},
		{"prefix is not a folder", []*Rule{filter(v2("logs", 1, "dr"), Filter{Prefix: ptr("logs")})},
			Object{Key: "logsheet.csv"}, []string{"logs"}},
		{"empty filter", []*Rule{filter(v2("all", 1, "dr"), Filter{})}, Object{Key: "x"}, []string{"all"}},
		{"tag match", []*Rule{filter(v2("t", 1, "dr"), Filter{Tag: &Tag{"class", "public"}})},
			Object{Key: "x", Tags: map[string]string{"class": "public", "other": "1"}}, []string{"t"}},
		{"tag value differs", []*Rule{filter(v2("t", 1, "dr"), Filter{Tag: &Tag{"class", "public"}})},
			Object{Key: "x", Tags: map[string]string{"class": "Public"}}, nil},
		{"tag missing", []*Rule{filter(v2("t", 1, "dr"), Filter{Tag: &Tag{"class", ""}})},
			Object{Key: "x"}, nil},
		{"empty tag value present", []*Rule{filter(v2("t", 1, "dr"), Filter{Tag: &Tag{"class", ""}})},
			Object{Key: "x", Tags: map[string]string{"class": ""}}, []string{"t"}},
		{"and all conditions", []*Rule{filter(v2("and", 1, "dr"), Filter{And: &And{Prefix: "logs/", Tags: []Tag{{"a", "1"}, {"b", "2"}}}})},
			Object{Key: "logs/x", Tags: map[string]string{"a": "1", "b": "2"}}, []string{"and"}},
		{"and missing one tag", []*Rule{filter(v2("and", 1, "dr"), Filter{And: &And{Prefix: "logs/", Tags: []Tag{{"a", "1"}, {"b", "2"}}}})},
			Object{Key: "logs/x", Tags: map[string]string{"a": "1"}}, nil},
		{"and wrong prefix", []*Rule{filter(v2("and", 1, "dr"), Filter{And: &And{Prefix: "logs/", Tags: []Tag{{"a", "1"}}}})},
			Object{Key: "img/x", Tags: map[string]string{"a": "1"}}, nil},
		{"and tags only", []*Rule{filter(v2("and", 1, "dr"), Filter{And: &And{Tags: []Tag{{"a", "1"}, {"b", "2"}}}})},
			Object{Key: "any", Tags: map[string]string{"a": "1", "b": "2"}}, []string{"and"}},
		{"highest priority wins per destination", []*Rule{
			prio(v2("low", 1, "dr"), 1),
			prio(filter(v2("high", 5, "dr"), Filter{Prefix: ptr("logs/")}), 5),
			prio(v2("mid", 3, "dr"), 3),
		}, Object{Key: "logs/x"}, []string{"high"}},
		{"higher priority rule does not match", []*Rule{
			prio(v2("low", 1, "dr"), 1),
			prio(filter(v2("high", 5, "dr"), Filter{Prefix: ptr("logs/")}), 5),
		}, Object{Key: "img/x"}, []string{"low"}},
		{"one rule per destination, several destinations", []*Rule{
			v2("to-dr", 1, "dr"),
			v2("to-archive", 2, "archive"),
			v2("to-dr-again", 3, "dr"),
		}, Object{Key: "x"}, []string{"to-dr-again", "to-archive"}},
		{"disabled rule ignored", []*Rule{disabled(v2("off", 9, "dr")), v2("on", 1, "dr")},
			Object{Key: "x"}, []string{"on"}},
		{"all disabled", []*Rule{disabled(v2("off", 1, "dr"))}, Object{Key: "x"}, nil},
		{"v1 prefix", []*Rule{v1("old", "logs/", "dr")}, Object{Key: "logs/a"}, []string{"old"}},
		{"v1 prefix miss", []*Rule{v1("old", "logs/", "dr")}, Object{Key: "a"}, nil},
		{"v1 first match per destination", []*Rule{v1("first", "", "dr"), v1("second", "a", "dr")},
			Object{Key: "a"}, []string{"first"}},
		{"kms object needs opt-in", []*Rule{v2("plain", 1, "dr")}, Object{Key: "x", SSEKMS: true}, nil},
		{"kms object with opt-in", []*Rule{kms(v2("kms", 1, "dr"))}, Object{Key: "x", SSEKMS: true}, []string{"kms"}},
		{"kms rule also takes plain objects", []*Rule{kms(v2("kms", 1, "dr"))}, Object{Key: "x"}, []string{"kms"}},
		{"kms falls back to lower priority opt-in", []*Rule{kms(v2("kms", 1, "dr")), v2("plain", 2, "dr")},
			Object{Key: "x", SSEKMS: true}, []string{"kms"}},
		{"replica never matches", []*Rule{v2("all", 1, "dr")}, Object{Key: "x", IsReplica: true}, nil},
		{"invalid rule without filter never matches", []*Rule{{ID: "bad", Status: Enabled, Destination: Destination{Bucket: "arn:aws:s3:::dr"}}},
			Object{Key: "x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Configuration{Rules: tt.rules}
			var got []string
			for _, r := range c.Match(tt.obj) {
				got = append(got, r.Name())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Match(%+v) = %q, want %q", tt.obj, got, tt.want)
			}
		})
	}
}

func TestMatchNilConfiguration(t *testing.T) {
	var c *Configuration
	if got := c.Match(Object{Key: "x"}); got != nil {
		t.Errorf("nil configuration matched %v", got)
	}
}

func TestRuleHelpers(t *testing.T) {
	tests := []struct {
		name        string
		rule        *Rule
		prefix      string
		deletes     bool
		destination string
	}{
		{"v1", v1("a", "logs/", "dr"), "logs/", true, "dr"},
		{"v2 prefix", func() *Rule { r := v2("a", 1, "dr"); r.Filter.Prefix = ptr("img/"); return r }(), "img/", false, "dr"},
		{"v2 and", func() *Rule {
			r := v2("a", 1, "dr")
			r.Filter = &Filter{And: &And{Prefix: "p/", Tags: []Tag{{"k", "v"}}}}
			return r
		}(), "p/", false, "dr"},
		{"v2 tag", func() *Rule { r := v2("a", 1, "dr"); r.Filter = &Filter{Tag: &Tag{"k", "v"}}; return r }(), "", false, "dr"},
		{"v2 deletes", func() *Rule { r := v2("a", 1, "dr"); r.DeleteMarkerReplication.Status = Enabled; return r }(), "", true, "dr"},
		{"gov cloud ARN", func() *Rule { r := v2("a", 1, ""); r.Destination.Bucket = "arn:aws-us-gov:s3:::gov"; return r }(), "", false, "gov"},
		{"not an ARN", func() *Rule { r := v2("a", 1, ""); r.Destination.Bucket = "plain"; return r }(), "", false, "plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.KeyPrefix(); got != tt.prefix {
				t.Errorf("KeyPrefix = %q, want %q", got, tt.prefix)
			}
			if got := tt.rule.DeleteMarkersEnabled(); got != tt.deletes {
				t.Errorf("DeleteMarkersEnabled = %v, want %v", got, tt.deletes)
			}
			if got := tt.rule.Destination.BucketName(); got != tt.destination {
				t.Errorf("BucketName = %q, want %q", got, tt.destination)
			}
		})
	}
}
