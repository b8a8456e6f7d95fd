package config

import (
	"slices"
	"testing"

	"github.com/ferry-s3/ferry/internal/rules"
)

func ptr[T any](v T) *T { return &v }

// oneRule is a config with one destination and one whole-bucket rule.
func oneRule(d *Destination, rd rules.Destination) *Config {
	rd.Bucket = rules.BucketARN(d.Bucket)
	r := &rules.Rule{
		ID:                      "r",
		Priority:                ptr(1),
		Status:                  rules.Enabled,
		Filter:                  &rules.Filter{},
		DeleteMarkerReplication: &rules.StatusElement{Status: rules.Disabled},
		Destination:             rd,
	}
	return &Config{Destinations: []*Destination{d}, Replication: &rules.Configuration{Rules: []*rules.Rule{r}}}
}

// Destination settings in ferry.yaml win over the rule's Destination.
func TestTargetsPrecedence(t *testing.T) {
	kmsRule := &rules.EncryptionConfiguration{ReplicaKmsKeyID: "arn:aws:kms:us-east-1:111122223333:key/rule"}
	owner := &rules.AccessControlTranslation{Owner: "Destination"}
	tests := []struct {
		name    string
		dest    Destination
		rule    rules.Destination
		acl     string
		class   string
		encType string // "" for nil
		encKey  string
	}{
		{"nothing set", Destination{}, rules.Destination{}, "", "", "", ""},
		{"acl from yaml", Destination{ACL: "private"}, rules.Destination{}, "private", "", "", ""},
		{"owner override implies full control", Destination{}, rules.Destination{Account: "444455556666", AccessControlTranslation: owner},
			"bucket-owner-full-control", "", "", ""},
		{"yaml acl beats owner override", Destination{ACL: "bucket-owner-read"}, rules.Destination{Account: "444455556666", AccessControlTranslation: owner},
			"bucket-owner-read", "", "", ""},
		{"storage class from rule", Destination{}, rules.Destination{StorageClass: "GLACIER"}, "", "GLACIER", "", ""},
		{"yaml storage class beats rule", Destination{StorageClass: "STANDARD_IA"}, rules.Destination{StorageClass: "GLACIER"}, "", "STANDARD_IA", "", ""},
		{"kms key from rule", Destination{}, rules.Destination{EncryptionConfiguration: kmsRule}, "", "", "aws:kms", kmsRule.ReplicaKmsKeyID},
		{"yaml kms beats rule", Destination{Encryption: &Encryption{Type: "aws:kms", KMSKeyID: "alias/dr"}},
			rules.Destination{EncryptionConfiguration: kmsRule}, "", "", "aws:kms", "alias/dr"},
		{"yaml AES256 beats rule kms", Destination{Encryption: &Encryption{Type: "AES256"}},
			rules.Destination{EncryptionConfiguration: kmsRule}, "", "", "AES256", ""},
		{"yaml none drops rule kms", Destination{Encryption: &Encryption{Type: "none"}},
			rules.Destination{EncryptionConfiguration: kmsRule}, "", "", "", ""},
		{"empty rule key is no key", Destination{}, rules.Destination{EncryptionConfiguration: &rules.EncryptionConfiguration{}}, "", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.dest
			d.Bucket = "dr-bucket"
			c := oneRule(&d, tt.rule)
			got := c.Targets(rules.Object{Key: "k"})
			if len(got) != 1 {
				t.Fatalf("%d targets, want 1", len(got))
			}
			tg := got[0]
			if tg.ACL != tt.acl || tg.StorageClass != tt.class {
				t.Errorf("ACL %q, storage class %q; want %q, %q", tg.ACL, tg.StorageClass, tt.acl, tt.class)
			}
			switch {
			case tt.encType == "" && tg.Encryption != nil:
				t.Errorf("encryption %+v, want nil", tg.Encryption)
			case tt.encType != "" && (tg.Encryption == nil || tg.Encryption.Type != tt.encType || tg.Encryption.KMSKeyID != tt.encKey):
				t.Errorf("encryption %+v, want {%s %s}", tg.Encryption, tt.encType, tt.encKey)
			}
			if tg.Encryption != nil && tg.Encryption == d.Encryption {
				t.Error("Target.Encryption aliases the config's; callers could change it")
			}
		})
	}
}

func TestTargetsNoMatch(t *testing.T) {
	c := oneRule(&Destination{Bucket: "dr-bucket"}, rules.Destination{})
	if got := c.Targets(rules.Object{Key: "k", IsReplica: true}); got != nil {
		t.Errorf("replica got targets %+v", got)
	}
	if got := (&Config{}).Targets(rules.Object{Key: "k"}); got != nil {
		t.Errorf("config without rules got targets %+v", got)
	}
}

// The folder marker of a stripped prefix has no key at the destination.
func TestTargetsSkipsEmptyKey(t *testing.T) {
	c := oneRule(&Destination{Bucket: "dr-bucket", KeyRewrite: &KeyRewrite{From: "prefix/"}}, rules.Destination{})
	if got := c.Targets(rules.Object{Key: "prefix/"}); len(got) != 0 {
		t.Errorf("Targets(prefix/) = %+v, want none", got)
	}
	if got := c.Targets(rules.Object{Key: "prefix/a"}); len(got) != 1 || got[0].Key != "a" {
		t.Errorf("Targets(prefix/a) = %+v, want key a", got)
	}
}

func TestRewriteKey(t *testing.T) {
	tests := []struct {
		name    string
		rewrite *KeyRewrite
		key     string
		want    string
	}{
		{"no rewrite", nil, "prefix/a.txt", "prefix/a.txt"},
		{"prefix replaced", &KeyRewrite{"prefix/", "bdp/"}, "prefix/a.txt", "bdp/a.txt"},
		{"nested key", &KeyRewrite{"prefix/", "bdp/"}, "prefix/x/y/z.bin", "bdp/x/y/z.bin"},
		{"outside the prefix", &KeyRewrite{"prefix/", "bdp/"}, "other/a.txt", "other/a.txt"},
		{"prefix only in the middle", &KeyRewrite{"prefix/", "bdp/"}, "x/prefix/a.txt", "x/prefix/a.txt"},
		{"only once", &KeyRewrite{"a/", "a/a/"}, "a/b", "a/a/b"},
		{"case-sensitive", &KeyRewrite{"prefix/", "bdp/"}, "Prefix/a.txt", "Prefix/a.txt"},
		{"not a folder prefix", &KeyRewrite{"img", "pic"}, "img2024.png", "pic2024.png"},
		{"add a prefix", &KeyRewrite{"", "backup/"}, "a.txt", "backup/a.txt"},
		{"strip a prefix", &KeyRewrite{"prefix/", ""}, "prefix/a.txt", "a.txt"},
		{"folder marker stripped", &KeyRewrite{"prefix/", ""}, "prefix/", ""},
		{"unicode", &KeyRewrite{"데이터/", "data/"}, "데이터/파일.csv", "data/파일.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Destination{KeyRewrite: tt.rewrite}
			if got := d.RewriteKey(tt.key); got != tt.want {
				t.Errorf("RewriteKey(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestPrefixes(t *testing.T) {
	rule := func(prefix string, enabled bool) *rules.Rule {
		r := &rules.Rule{Status: rules.Enabled, Filter: &rules.Filter{Prefix: ptr(prefix)}}
		if !enabled {
			r.Status = rules.Disabled
		}
		return r
	}
	tagRule := &rules.Rule{Status: rules.Enabled, Filter: &rules.Filter{Tag: &rules.Tag{Key: "k", Value: "v"}}}
	tests := []struct {
		name  string
		rules []*rules.Rule
		want  []string
	}{
		{"none enabled", []*rules.Rule{rule("a/", false)}, nil},
		{"one prefix", []*rules.Rule{rule("logs/", true)}, []string{"logs/"}},
		{"whole bucket covers all", []*rules.Rule{rule("logs/", true), rule("", true)}, []string{""}},
		{"tag filter means whole bucket", []*rules.Rule{rule("logs/", true), tagRule}, []string{""}},
		{"nested dropped, sorted", []*rules.Rule{rule("logs/2024/", true), rule("img/", true), rule("logs/", true)}, []string{"img/", "logs/"}},
		{"duplicates", []*rules.Rule{rule("a/", true), rule("a/", true)}, []string{"a/"}},
		{"siblings kept", []*rules.Rule{rule("a", true), rule("b", true)}, []string{"a", "b"}},
		{"disabled ignored", []*rules.Rule{rule("", false), rule("a/", true)}, []string{"a/"}},
		{"v1 prefix", []*rules.Rule{{Status: rules.Enabled, Prefix: ptr("v1/")}}, []string{"v1/"}},
		{"and prefix", []*rules.Rule{{Status: rules.Enabled, Filter: &rules.Filter{And: &rules.And{Prefix: "p/", Tags: []rules.Tag{{Key: "k"}}}}}}, []string{"p/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Replication: &rules.Configuration{Rules: tt.rules}}
			if got := c.Prefixes(); !slices.Equal(got, tt.want) {
				t.Errorf("Prefixes = %q, want %q", got, tt.want)
			}
		})
	}
}
