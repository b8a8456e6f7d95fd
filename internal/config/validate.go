package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/rules"
)

// CannedACLs lists the canned ACLs S3 accepts in x-amz-acl. It returns a
// new slice each call.
func CannedACLs() []string {
	return []string{
		"private",
		"public-read",
		"public-read-write",
		"authenticated-read",
		"aws-exec-read",
		"bucket-owner-read",
		"bucket-owner-full-control",
	}
}

const maxKeyLen = 1024 // S3's limit on object keys, in bytes

// config checks everything but the replication rules.
func (chk *checker) config(c *Config) {
	s := c.Source
	if s.Bucket == "" {
		chk.add("source.bucket", "required")
	} else if err := checkBucketName(s.Bucket); err != nil {
		chk.addErr("source.bucket", err)
	}
	chk.endpoint("source", s.Options)
	chk.run(c.Run)
	chk.notifications(c.Notifications)

	if len(c.Destinations) == 0 && !s.TargetBucketTag {
		chk.add("destinations", "at least one destination is required (or source.target_bucket_tag)")
	}
	if s.TargetBucketTag && (c.ReplicationFile != "" || c.Replication != nil) {
		chk.add("source.target_bucket_tag", "cannot be combined with replication rules: the tag's buckets get every object")
	}
	seen := map[string]int{}
	for i, d := range c.Destinations {
		path := fmt.Sprintf("destinations[%d]", i)
		if d == nil {
			chk.add(path, "empty destination; give at least a bucket")
			continue
		}
		chk.destination(path, d, s)
		if d.Bucket == "" {
			continue
		}
		if j, dup := seen[d.Bucket]; dup {
			// Rules name destinations by bucket ARN only, so two
			// destinations with one name could not be told apart.
			chk.add(path+".bucket", "%q is already destinations[%d]; each destination bucket may be listed once", d.Bucket, j)
		} else {
			seen[d.Bucket] = i
		}
	}
}

func (chk *checker) destination(path string, d *Destination, src Source) {
	if d.Bucket == "" {
		chk.add(path+".bucket", "required")
	} else if err := checkBucketName(d.Bucket); err != nil {
		chk.addErr(path+".bucket", err)
	}
	chk.endpoint(path, d.Options)

	if d.Bucket == src.Bucket && d.KeyRewrite == nil && sameEndpoint(d.Options, src.Options) {
		chk.add(path+".bucket", "%q is the source bucket itself (same endpoint and profile); copying a bucket onto itself needs a key_rewrite", d.Bucket)
	}
	if kr := d.KeyRewrite; kr != nil {
		switch {
		case kr.From == kr.To:
			chk.add(path+".key_rewrite", "from and to are the same (%q); remove key_rewrite or change one of them", kr.From)
		default:
			chk.keyPart(path+".key_rewrite.from", kr.From)
			chk.keyPart(path+".key_rewrite.to", kr.To)
		}
	}
	if _, err := ParseBytes(d.Bandwidth); err != nil {
		chk.addErr(path+".bandwidth", err)
	}
	if d.Concurrency < 0 {
		chk.add(path+".concurrency", "must be positive")
	}
	if d.ACL != "" && !slices.Contains(CannedACLs(), d.ACL) {
		chk.add(path+".acl", "unknown canned ACL %q (one of: %s)", d.ACL, strings.Join(CannedACLs(), ", "))
	}
	if d.StorageClass != "" && !rules.IsStorageClass(d.StorageClass) {
		chk.add(path+".storage_class", "unknown storage class %q (one of: %s)", d.StorageClass, strings.Join(rules.StorageClasses(), ", "))
	}
	if e := d.Encryption; e != nil {
		switch e.Type {
		case EncryptionKMS:
			if e.KMSKeyID == "" {
				chk.add(path+".encryption.kms_key_id", "required with type %s (a key ID, key ARN, alias/name or alias ARN)", EncryptionKMS)
			}
		case EncryptionAES256, EncryptionNone:
			if e.KMSKeyID != "" {
				chk.add(path+".encryption.kms_key_id", "only allowed with type %s, not %s", EncryptionKMS, e.Type)
			}
		case "":
			chk.add(path+".encryption.type", "required: %s, %s or %s", EncryptionKMS, EncryptionAES256, EncryptionNone)
		default:
			chk.add(path+".encryption.type", "unknown encryption type %q (one of: %s, %s, %s)", e.Type, EncryptionKMS, EncryptionAES256, EncryptionNone)
		}
	}
}

// keyPart checks a key_rewrite prefix: the result must still be a key S3
// accepts.
func (chk *checker) keyPart(path, s string) {
	if len(s) > maxKeyLen {
		chk.add(path, "%d bytes; S3 keys have at most %d", len(s), maxKeyLen)
	}
	if !utf8.ValidString(s) {
		chk.add(path, "is not valid UTF-8")
	}
}

func (chk *checker) endpoint(path string, o endpoint.Options) {
	switch o.Checksums {
	case "", ChecksumsWhenRequired, ChecksumsWhenSupported:
	default:
		chk.add(path+".checksums", "unknown value %q (one of: %s, %s)", o.Checksums, ChecksumsWhenRequired, ChecksumsWhenSupported)
	}
	if o.EndpointURL != "" {
		u, err := url.Parse(o.EndpointURL)
		switch {
		case err != nil:
			chk.add(path+".endpoint_url", "%q is not a URL: %v", o.EndpointURL, err)
		case u.Scheme != "http" && u.Scheme != "https":
			chk.add(path+".endpoint_url", "%q: scheme must be http or https", o.EndpointURL)
		case u.Host == "":
			chk.add(path+".endpoint_url", "%q has no host", o.EndpointURL)
		}
	}
}

func sameEndpoint(a, b endpoint.Options) bool {
	return a.Profile == b.Profile && a.EndpointURL == b.EndpointURL && a.Region == b.Region
}
