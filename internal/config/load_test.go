package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-s3/ferry/internal/rules"
)

// The example shipped in examples/ is documentation users copy: it must
// load, and do what its comments say.
func TestLoadExample(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "examples", "ferry.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Source.Bucket != "artifacts-src" || c.Source.Profile != "prod" || len(c.Destinations) != 2 {
		t.Fatalf("source %+v, %d destinations", c.Source, len(c.Destinations))
	}
	minio := c.Destination("artifacts-minio")
	if minio == nil || minio.EndpointURL != "http://127.0.0.1:9000" || minio.PathStyle == nil || !*minio.PathStyle {
		t.Fatalf("artifacts-minio = %+v", minio)
	}

	got := c.Targets(rules.Object{Key: "prefix/a.txt"})
	if len(got) != 2 {
		t.Fatalf("Targets(prefix/a.txt) = %d targets, want 2", len(got))
	}
	dr, mn := got[0], got[1]
	if dr.Dest.Bucket != "artifacts-dr" || dr.Key != "bdp/a.txt" || dr.ACL != "bucket-owner-full-control" ||
		dr.StorageClass != "STANDARD_IA" || dr.Encryption == nil || dr.Encryption.KMSKeyID != "alias/dr-key" || !dr.DeleteMarkers {
		t.Errorf("dr target = %+v (encryption %+v)", dr, dr.Encryption)
	}
	if mn.Dest.Bucket != "artifacts-minio" || mn.Key != "prefix/a.txt" || mn.ACL != "" || mn.Encryption != nil || mn.DeleteMarkers {
		t.Errorf("minio target = %+v", mn)
	}

	if got := c.Targets(rules.Object{Key: "other/b.txt"}); len(got) != 1 || got[0].Dest.Bucket != "artifacts-minio" {
		t.Errorf("Targets(other/b.txt) = %+v, want only artifacts-minio", got)
	}
	// SSE-KMS objects only go where the rule opts in.
	if got := c.Targets(rules.Object{Key: "prefix/k", SSEKMS: true}); len(got) != 1 || got[0].Dest.Bucket != "artifacts-dr" {
		t.Errorf("Targets(KMS object) = %+v, want only artifacts-dr", got)
	}
	if p := c.Prefixes(); len(p) != 1 || p[0] != "" {
		t.Errorf("Prefixes = %q, want the whole bucket", p)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "load config: open testdata/nope.yaml") {
		t.Fatalf("Load error = %v", err)
	}
}

func TestParseReplicationFileGetOutput(t *testing.T) {
	yml := `
source: {bucket: sre-bucket-source, region: ap-northeast-2}
destinations:
  - bucket: sre-bucket-destination
    profile: other-account
replication_file: get-bucket-replication.json
`
	c, err := Parse([]byte(yml), "testdata", "ferry.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := c.Targets(rules.Object{Key: "any/key"})
	// V1 rule: delete markers replicated; owner override means the
	// destination owner gets full control.
	if len(got) != 1 || got[0].ACL != "bucket-owner-full-control" || !got[0].DeleteMarkers || got[0].Key != "any/key" {
		t.Errorf("Targets = %+v", got)
	}
}

func TestParseInlineReplication(t *testing.T) {
	yml := `
source:
  bucket: src
destinations:
  - bucket: logs-archive
  - bucket: dr-bucket
replication:
  Rules:
    - ID: logs
      Priority: 10
      Status: Enabled
      Filter:
        And:
          Prefix: logs/
          Tags:
            - {Key: retain, Value: "true"}
      DeleteMarkerReplication: {Status: Disabled}
      Destination:
        Bucket: arn:aws:s3:::logs-archive
        StorageClass: GLACIER_IR
    - ID: all
      Priority: 1
      Status: Enabled
      Filter: {}
      DeleteMarkerReplication: {Status: Enabled}
      Destination: {Bucket: "arn:aws:s3:::dr-bucket"}
`
	c, err := Parse([]byte(yml), ".", "ferry.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	got := c.Targets(rules.Object{Key: "logs/1", Tags: map[string]string{"retain": "true"}})
	if len(got) != 2 || got[0].Rule.ID != "logs" || got[0].StorageClass != "GLACIER_IR" || got[1].Rule.ID != "all" || !got[1].DeleteMarkers {
		t.Errorf("Targets = %+v", got)
	}
	if got := c.Targets(rules.Object{Key: "logs/2"}); len(got) != 1 || got[0].Rule.ID != "all" {
		t.Errorf("untagged log: Targets = %+v", got)
	}
}

func TestParseImplicitRules(t *testing.T) {
	yml := `
source: {bucket: src}
destinations:
  - bucket: dr-bucket
  - bucket: vault
    encryption: {type: aws:kms, kms_key_id: alias/vault}
  - bucket: plain
    encryption: {type: none}
`
	c, err := Parse([]byte(yml), ".", "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if n := len(c.Replication.Rules); n != 3 {
		t.Fatalf("%d implicit rules, want 3", n)
	}
	for i, want := range []string{"default-dr-bucket", "default-vault", "default-plain"} {
		if got := c.Replication.Rules[i].Name(); got != want {
			t.Errorf("rule %d = %q, want %q", i, got, want)
		}
	}
	var dests []string
	for _, tg := range c.Targets(rules.Object{Key: "a/b"}) {
		dests = append(dests, tg.Dest.Bucket)
		if tg.DeleteMarkers || tg.Key != "a/b" || tg.ACL != "" || tg.StorageClass != "" {
			t.Errorf("implicit target %+v", tg)
		}
		if tg.Dest.Bucket == "plain" && tg.Encryption != nil {
			t.Errorf("encryption none resolved to %+v, want nil", tg.Encryption)
		}
	}
	if strings.Join(dests, ",") != "dr-bucket,vault,plain" {
		t.Errorf("destinations = %v", dests)
	}
	kms := c.Targets(rules.Object{Key: "k", SSEKMS: true})
	if len(kms) != 1 || kms[0].Dest.Bucket != "vault" || kms[0].Encryption.KMSKeyID != "alias/vault" {
		t.Errorf("KMS object targets = %+v", kms)
	}
	if p := c.Prefixes(); len(p) != 1 || p[0] != "" {
		t.Errorf("Prefixes = %q", p)
	}
}

// One case per problem Parse reports. Messages name the file, the line
// and the field path.
func TestParseErrors(t *testing.T) {
	const src = "source:\n  bucket: src\n"
	const dest = "destinations:\n  - bucket: dr-bucket\n"
	tests := []struct {
		name string
		yml  string
		want string
	}{
		{"empty file", "", "ferry.yaml: empty configuration"},
		{"only a comment", "# nothing\n", "ferry.yaml: empty configuration"},
		{"syntax", "source:\n  bucket: [\n", "ferry.yaml:2: "},
		{"two documents", src + dest + "---\n" + src, "ferry.yaml:5: more than one YAML document"},
		{"unknown top-level field", src + dest + "destination: x\n", "ferry.yaml:5: destination: unknown field (known: source, destinations, replication_file, replication, run, replication_time, notifications)"},
		{"unknown destination field", src + dest + "    acll: private\n", "ferry.yaml:5: destinations[0].acll: unknown field (known: profile, endpoint_url, region, path_style, checksums, requests_per_second, bucket, key_rewrite, acl, storage_class, encryption, replicate_deletes, concurrency, bandwidth)"},
		{"unknown rule field", src + dest + "replication:\n  Rules:\n    - ID: a\n      Filter: {Prefx: a}\n", "ferry.yaml:8: replication.Rules[0].Filter.Prefx: unknown field (known: Prefix, Tag, And)"},
		{"wrong type", src + dest + "    path_style: maybe\n", "ferry.yaml:5: destinations[0].path_style: cannot unmarshal !!str `maybe` into bool"},
		{"source bucket missing", "source:\n  profile: prod\n" + dest, "ferry.yaml:1: source.bucket: required"},
		{"source bucket upper case", "source:\n  bucket: Src\n" + dest, `ferry.yaml:2: source.bucket: bucket name "Src" has 'S'`},
		{"bucket too short", src + "destinations:\n  - bucket: d\n", `ferry.yaml:4: destinations[0].bucket: bucket name "d" is 1 characters; S3 bucket names have 3 to 63`},
		{"bucket with underscore", src + "destinations:\n  - bucket: my_dr\n", `destinations[0].bucket: bucket name "my_dr" has '_'`},
		{"bucket ends with hyphen", src + "destinations:\n  - bucket: dr-\n", `destinations[0].bucket: bucket name "dr-" must begin and end with a letter or digit`},
		{"bucket adjacent dots", src + "destinations:\n  - bucket: a..b\n", `bucket name "a..b" has two adjacent dots`},
		{"bucket is an IP", src + "destinations:\n  - bucket: 192.168.1.1\n", `bucket name "192.168.1.1" is formatted as an IP address`},
		{"bucket reserved prefix", src + "destinations:\n  - bucket: xn--dr\n", `bucket name "xn--dr" starts with the reserved prefix "xn--"`},
		{"bucket reserved suffix", src + "destinations:\n  - bucket: dr-s3alias\n", `ends with the reserved suffix "-s3alias"`},
		{"no destinations", src, "ferry.yaml: destinations: at least one destination is required"},
		{"empty destination", src + "destinations:\n  -\n", "ferry.yaml:4: destinations[0]: empty destination"},
		{"destination bucket missing", src + "destinations:\n  - profile: dr\n", "ferry.yaml:4: destinations[0].bucket: required"},
		{"duplicate destination", src + dest + "  - bucket: dr-bucket\n    profile: other\n", `ferry.yaml:5: destinations[1].bucket: "dr-bucket" is already destinations[0]`},
		{"destination is the source", src + "destinations:\n  - bucket: src\n", `ferry.yaml:4: destinations[0].bucket: "src" is the source bucket itself`},
		{"key rewrite no-op", src + dest + "    key_rewrite: {from: a/, to: a/}\n", `ferry.yaml:5: destinations[0].key_rewrite: from and to are the same ("a/")`},
		{"key rewrite empty", src + dest + "    key_rewrite: {}\n", `destinations[0].key_rewrite: from and to are the same ("")`},
		{"key rewrite too long", src + dest + "    key_rewrite: {from: a/, to: " + strings.Repeat("x", 1025) + "}\n", "destinations[0].key_rewrite.to: 1025 bytes; S3 keys have at most 1024"},
		{"unknown ACL", src + dest + "    acl: owner-full\n", `ferry.yaml:5: destinations[0].acl: unknown canned ACL "owner-full" (one of: private, public-read, public-read-write, authenticated-read, aws-exec-read, bucket-owner-read, bucket-owner-full-control)`},
		{"unknown storage class", src + dest + "    storage_class: standard\n", `ferry.yaml:5: destinations[0].storage_class: unknown storage class "standard" (one of: STANDARD,`},
		{"encryption type missing", src + dest + "    encryption: {kms_key_id: alias/x}\n", "ferry.yaml:5: destinations[0].encryption.type: required: aws:kms, AES256 or none"},
		{"encryption type unknown", src + dest + "    encryption: {type: sse-c}\n", `destinations[0].encryption.type: unknown encryption type "sse-c"`},
		{"kms without key", src + dest + "    encryption:\n      type: aws:kms\n", "ferry.yaml:5: destinations[0].encryption.kms_key_id: required with type aws:kms"},
		{"key without kms", src + dest + "    encryption: {type: AES256, kms_key_id: alias/x}\n", "destinations[0].encryption.kms_key_id: only allowed with type aws:kms, not AES256"},
		{"source checksums", "source:\n  bucket: src\n  checksums: always\n" + dest, `ferry.yaml:3: source.checksums: unknown value "always" (one of: when_required, when_supported)`},
		{"destination checksums", src + dest + "    checksums: sometimes\n", `destinations[0].checksums: unknown value "sometimes"`},
		{"endpoint scheme", src + dest + "    endpoint_url: 127.0.0.1:9000\n", `ferry.yaml:5: destinations[0].endpoint_url: "127.0.0.1:9000"`},
		{"endpoint without host", src + dest + "    endpoint_url: http://\n", `destinations[0].endpoint_url: "http://" has no host`},
		{"replication twice", src + dest + "replication_file: r.json\nreplication:\n  Rules: []\n", "ferry.yaml:5: replication_file: replication and replication_file are both given; use one"},
		{"replication file missing", src + dest + "replication_file: nope.json\n", "ferry.yaml:5: replication_file: open testdata/nope.json: no such file or directory"},
		{"replication file rule error", src + "destinations:\n  - bucket: my-bucket\nreplication_file: plain-bucket.json\n",
			`testdata/plain-bucket.json: rule "backup" (Rules[0]): Destination.Bucket: "my-bucket" is not an S3 bucket ARN; write "arn:aws:s3:::my-bucket"`},
		{"replication file unknown field", src + dest + "replication_file: unknown-field.json\n", `testdata/unknown-field.json:7: unknown field "Storageclass" (did you mean "StorageClass"?)`},
		{"replication file unlisted bucket", src + dest + "replication_file: other-bucket.json\n",
			`testdata/other-bucket.json: rule "b" (Rules[1]): Destination.Bucket: bucket "elsewhere" is not listed under destinations (listed: dr-bucket)`},
		{"inline rule error", src + dest + "replication:\n  Rules:\n    - ID: a\n      Status: Enabled\n      Prefix: \"\"\n      Destination:\n        Bucket: dr\n",
			`ferry.yaml:11: replication: rule "a" (Rules[0]): Destination.Bucket: "dr" is not an S3 bucket ARN; write "arn:aws:s3:::dr"`},
		{"inline no rules", src + dest + "replication:\n  Role: arn:aws:iam::111122223333:role/r\n", "ferry.yaml:5: replication: Rules: at least one rule is required"},
		{"inline unlisted bucket", src + dest + "replication:\n  Rules:\n    - {ID: a, Status: Enabled, Prefix: \"\", Destination: {Bucket: \"arn:aws:s3:::dr-bucket\"}}\n    - {ID: b, Status: Enabled, Prefix: x, Destination: {Bucket: \"arn:aws:s3:::nowhere\"}}\n",
			`ferry.yaml:8: replication: rule "b" (Rules[1]): Destination.Bucket: bucket "nowhere" is not listed under destinations (listed: dr-bucket)`},
		{"unused destination", src + dest + "  - bucket: archive\nreplication:\n  Rules:\n    - {ID: a, Status: Enabled, Prefix: \"\", Destination: {Bucket: \"arn:aws:s3:::dr-bucket\"}}\n",
			`ferry.yaml:5: destinations[1].bucket: "archive" is not the destination of any rule (rules name it as "arn:aws:s3:::archive")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yml), "testdata", "ferry.yaml")
			if err == nil {
				t.Fatalf("Parse: no error, want %q", tt.want)
			}
			if c != nil {
				t.Errorf("Parse returned a config with its error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error:\n%v\nwant it to contain:\n%s", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T holds no *config.Error", err)
			}
		})
	}
}

// Parse reports every problem at once, each its own *Error.
func TestParseCollectsAll(t *testing.T) {
	yml := `
source:
  bucket: Bad_Name
  checksums: always
destinations:
  - bucket: dr-bucket
    acl: owner-full
    encryption: {type: aws:kms}
`
	_, err := Parse([]byte(yml), ".", "ferry.yaml")
	var paths []string
	for _, e := range unjoin(err) {
		var ce *Error
		if !errors.As(e, &ce) {
			t.Fatalf("%T is not a *Error", e)
		}
		paths = append(paths, ce.Path)
	}
	want := "source.bucket source.checksums destinations[0].acl destinations[0].encryption.kms_key_id"
	if strings.Join(paths, " ") != want {
		t.Errorf("paths = %v, want %s", paths, want)
	}
}
