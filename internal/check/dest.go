package check

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/rules"
)

// probeChecks are the checks of one write probe, in order.
var probeChecks = []string{"write", "tagging", "acl", "head", "kms", "cleanup"}

// checkDestination checks one destination: the bucket exists and can be
// listed, its versioning suits the rules, and ferry's writes work (the
// probe).
func (r *runner) checkDestination(ctx context.Context, src *source, d *config.Destination) {
	target := "s3://" + d.Bucket
	s := r.site(ctx, d.Options)
	probes := r.probeSettings(d)
	skipAll := func(first []string, rest []settings, needs string) {
		for _, c := range first {
			r.skip(c, target, needs)
		}
		for _, st := range rest {
			for _, c := range st.checks() {
				r.skip(c, target, needs)
			}
		}
	}
	if s.down != "" {
		skipAll([]string{"bucket", "versioning"}, probes, s.down)
		return
	}
	res := Result{Check: "bucket", Target: target}
	err := r.call(ctx, func(ctx context.Context) error {
		_, err := s.ep.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(d.Bucket), MaxKeys: aws.Int32(1)}, s.calls()...)
		return err
	})
	r.checkClock(s, err)
	if err != nil {
		res = r.failed(res, s, denial{failure.DstSide, "s3:ListBucket", bucketARN(d.Bucket)}, err)
		res.Detail = "cannot be listed (ferry lists destinations to compare them with the source)"
		if k := kindOf(err); k == kindNoBucket || s.down != "" {
			if k == kindNoBucket {
				res.Detail = "does not exist at " + endpointOf(s)
			}
			r.add(res)
			skipAll([]string{"versioning"}, probes, needOf(s, "the destination bucket"))
			return
		}
	} else {
		res.Status, res.Detail = Pass, "exists; listable"
	}
	r.add(res)
	on := r.checkVersioning(ctx, s, d.Bucket, failure.DstSide, r.deleteMarkerRules(d), src.versioned)
	if on != nil && *on && src.versioned != nil && *src.versioned {
		r.checkSourceVersions(ctx, src)
	}
	for i, st := range probes {
		if s.down != "" {
			skipAll(nil, probes[i:], s.down)
			return
		}
		r.probe(ctx, s, d, st)
	}
}

// settings are how replicas are written to a destination, as far as the
// probe can try them.
type settings struct {
	acl, storageClass string
	enc               *config.Encryption // nil: no SSE headers
	deletes           bool               // deletions are replicated here
}

// checks are the probe checks these settings make.
func (st settings) checks() []string {
	var out []string
	for _, c := range probeChecks {
		if c == "acl" && st.acl == "" || c == "kms" && !st.kms() {
			continue
		}
		out = append(out, c)
	}
	return out
}

func (st settings) kms() bool { return st.enc != nil && st.enc.Type == config.EncryptionKMS }

// probeSettings lists the distinct ways the enabled rules write to d
// (usually one), resolved as ferry resolves them (config.Targets): d's
// settings first, then the rule's Destination element.
func (r *runner) probeSettings(d *config.Destination) []settings {
	var out []settings
	deletes := d.ReplicateDeletes || len(r.deleteMarkerRules(d)) > 0
	for _, rl := range r.cfg.Replication.Rules {
		if rl == nil || !rl.Enabled() || rl.Destination.BucketName() != d.Bucket {
			continue
		}
		// An object this rule selects, to learn its resolved settings.
		obj := rules.Object{Key: rl.KeyPrefix() + "ferry-check", Tags: ruleTags(rl)}
		for _, t := range r.cfg.Targets(obj) {
			if t.Dest != d {
				continue
			}
			st := settings{acl: t.ACL, storageClass: t.StorageClass, enc: t.Encryption, deletes: deletes}
			if !slices.ContainsFunc(out, st.same) {
				out = append(out, st)
			}
		}
	}
	if len(out) == 0 {
		// No enabled rule sends here: probe with d's own settings.
		st := settings{acl: d.ACL, storageClass: d.StorageClass, deletes: deletes}
		if e := d.Encryption; e != nil && e.Type != config.EncryptionNone {
			st.enc = e
		}
		out = append(out, st)
	}
	return out
}

func (st settings) same(o settings) bool {
	return st.acl == o.acl && st.storageClass == o.storageClass && (st.enc == nil) == (o.enc == nil) &&
		(st.enc == nil || *st.enc == *o.enc)
}

// ruleTags are the tags a rule's filter requires.
func ruleTags(rl *rules.Rule) map[string]string {
	f := rl.Filter
	if f == nil {
		return nil
	}
	tags := map[string]string{}
	if f.Tag != nil {
		tags[f.Tag.Key] = f.Tag.Value
	}
	if f.And != nil {
		for _, t := range f.And.Tags {
			tags[t.Key] = t.Value
		}
	}
	return tags
}
