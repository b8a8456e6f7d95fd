package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/ferry-s3/ferry/internal/awsarn"
	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/rules"
)

// bucket is one bucket ferry reaches, and where.
type bucket struct {
	Name       string
	Profile    string
	Region     string // "" when neither ferry.yaml nor the profile says
	Endpoint   string // endpoint_url, "" for AWS
	AWS        bool   // AWS S3: IAM and KMS apply
	Part       string // ARN partition
	RoleARN    string // the role the profile assumes, if any
	ExternalID string // the profile's external_id for it
}

func (b bucket) arn() string                  { return bucketARN(b.Part, b.Name) }
func (b bucket) objects(prefix string) string { return objectARN(b.Part, b.Name, prefix) }
func (b bucket) objectsAll(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = b.objects(p)
	}
	return out
}

// source is what ferry does at the source bucket.
type source struct {
	bucket
	Read []string // key prefixes of the objects read (GET, HEAD, tags)
	List []string // prefixes listed
	// KMS: SSE-KMS objects are replicated (a rule opts in, or the keys
	// were named), so reading them needs kms:Decrypt.
	KMS bool
}

// dest is what ferry does at one destination bucket.
type dest struct {
	bucket
	Cfg   *config.Destination
	ID    string   // letters and digits, unique: names its statements
	Write []string // key prefixes replicas are written under
	List  []string // prefixes listed
	// Deletes are the key prefixes where delete markers are replayed or
	// deletes replicated.
	Deletes []string
	ACLs    []string // canned ACLs sent
	Keys    []string // KMS keys replicas are encrypted with, as written
	// KeyPrefixes are, per key, the prefixes written with it.
	KeyPrefixes map[string][]string
	// Account is the bucket owner's: the one a rule names, else, for a
	// bucket reached as the source is, the role's.
	Account string
}

// resolveBucket fills in what the profile adds to ferry.yaml's fields.
func resolveBucket(name string, o endpointOptions, profile func(string) Profile, region string) bucket {
	p := profile(o.Profile)
	b := bucket{Name: name, Profile: o.Profile, Region: cmp.Or(o.Region, p.Region, region),
		Endpoint: cmp.Or(o.EndpointURL, p.EndpointURL), RoleARN: p.RoleARN, ExternalID: p.ExternalID}
	b.AWS = isAWSEndpoint(b.Endpoint)
	b.Part = awsarn.Partition(b.Region)
	return b
}

// endpointOptions is the part of endpoint.Options a policy depends on.
type endpointOptions struct{ Profile, Region, EndpointURL string }

// scope works out, from the rules, what ferry reads, lists, writes and
// deletes where. It mirrors the code: worker.Pairs lists each
// destination's rules' common prefix (or key_rewrite's from and to), the
// event path lists and reads keys under the rule prefixes, and
// config.Targets decides keys, ACLs and keys' encryption.
func scope(cfg *config.Config, o Options) (source, []*dest) {
	so := cfg.Source.Options
	src := source{bucket: resolveBucket(cfg.Source.Bucket, endpointOptions{so.Profile, so.Region, so.EndpointURL}, o.Profile, o.Region)}
	var dests []*dest
	ids := map[string]int{}
	for _, d := range cfg.Destinations {
		do := d.Options
		ds := &dest{bucket: resolveBucket(d.Bucket, endpointOptions{do.Profile, do.Region, do.EndpointURL}, o.Profile, o.Region), Cfg: d,
			KeyPrefixes: map[string][]string{}}
		ds.ID = camel(d.Bucket)
		if n := ids[ds.ID]; n > 0 {
			ds.ID = fmt.Sprintf("%s%d", ds.ID, n+1)
		}
		ids[camel(d.Bucket)]++
		var rulePrefixes []string
		for _, r := range cfg.Replication.Rules {
			if r == nil || !r.Enabled() || r.Destination.BucketName() != d.Bucket {
				continue
			}
			p := r.KeyPrefix()
			rulePrefixes = append(rulePrefixes, p)
			src.Read = append(src.Read, p)
			src.List = append(src.List, p)
			written := rewritePrefix(d, p)
			ds.Write = append(ds.Write, written...)
			if r.DeleteMarkersEnabled() {
				ds.Deletes = append(ds.Deletes, written...)
			}
			if acl := ruleACL(d, r); acl != "" && !slices.Contains(ds.ACLs, acl) {
				ds.ACLs = append(ds.ACLs, acl)
			}
			if k := ruleKey(d, r); k != "" {
				if !slices.Contains(ds.Keys, k) {
					ds.Keys = append(ds.Keys, k)
				}
				ds.KeyPrefixes[k] = append(ds.KeyPrefixes[k], written...)
			}
			src.KMS = src.KMS || r.ReplicatesKMS()
			if a := r.Destination.Account; a != "" && ds.Account == "" {
				ds.Account = a
			}
		}
		if d.ReplicateDeletes {
			// An unversioned source's deletes, whichever rule wrote the
			// replica.
			ds.Deletes = ds.Write
		}
		ds.List = append(ds.List, ds.Write...)
		if len(rulePrefixes) > 0 {
			if rw := d.KeyRewrite; rw != nil {
				src.List = append(src.List, rw.From)
				ds.List = append(ds.List, rw.To)
			} else {
				cp := commonPrefix(rulePrefixes)
				src.List = append(src.List, cp)
				ds.List = append(ds.List, cp)
			}
		}
		ds.Write, ds.List, ds.Deletes = minimal(ds.Write), minimal(ds.List), minimal(ds.Deletes)
		for k, ps := range ds.KeyPrefixes {
			ds.KeyPrefixes[k] = minimal(ps)
		}
		dests = append(dests, ds)
	}
	src.Read, src.List = minimal(src.Read), minimal(src.List)
	src.KMS = src.KMS || len(o.SourceKMSKeys) > 0
	return src, dests
}

// rewritePrefix is where keys under p are written at d: key_rewrite
// changes keys under its from prefix, and only those.
func rewritePrefix(d *config.Destination, p string) []string {
	rw := d.KeyRewrite
	switch {
	case rw == nil:
		return []string{p}
	case strings.HasPrefix(p, rw.From):
		return []string{rw.To + p[len(rw.From):]}
	case strings.HasPrefix(rw.From, p):
		// Keys under p but outside from keep their name; those under from
		// are rewritten.
		return []string{p, rw.To}
	}
	return []string{p}
}

// ruleACL is the canned ACL replicas of r carry at d, as config.Targets
// resolves it.
func ruleACL(d *config.Destination, r *rules.Rule) string {
	if d.ACL != "" {
		return d.ACL
	}
	if a := r.Destination.AccessControlTranslation; a != nil && a.Owner == "Destination" {
		return "bucket-owner-full-control"
	}
	return ""
}

// ruleKey is the KMS key replicas of r are encrypted with at d, as
// config.Targets resolves it, or "".
func ruleKey(d *config.Destination, r *rules.Rule) string {
	if e := d.Encryption; e != nil {
		if e.Type == config.EncryptionKMS {
			return e.KMSKeyID
		}
		return ""
	}
	if e := r.Destination.EncryptionConfiguration; e != nil {
		return e.ReplicaKmsKeyID
	}
	return ""
}

// commonPrefix is the longest prefix the prefixes share: what
// worker.Pairs lists for a destination.
func commonPrefix(ps []string) string {
	p := ps[0]
	for _, k := range ps[1:] {
		for !strings.HasPrefix(k, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

// minimal sorts prefixes and drops those inside others: ["a/", "a/b/"]
// is ["a/"], and "" (the whole bucket) covers everything.
func minimal(ps []string) []string {
	all := slices.Clone(ps)
	slices.Sort(all)
	var out []string
	for _, p := range all {
		if len(out) > 0 && strings.HasPrefix(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// whole reports whether prefixes cover the whole bucket.
func whole(ps []string) bool { return len(ps) == 1 && ps[0] == "" }
