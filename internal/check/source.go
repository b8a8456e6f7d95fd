package check

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/policy"
)

// source is what the source checks learnt, for the checks that follow.
type source struct {
	site   *site
	bucket string
	// exists is false when the bucket is known to be missing or could not
	// be asked.
	exists bool
	// versioned is nil when unknown.
	versioned *bool
	// versionsChecked: the listing of versions was checked.
	versionsChecked bool
}

// checkSource checks the source bucket: it exists and can be listed
// under every rule prefix, its versioning suits the rules, one object can
// be read, and its tags too.
func (r *runner) checkSource(ctx context.Context) *source {
	src := &source{bucket: r.cfg.Source.Bucket}
	target := "s3://" + src.bucket
	src.site = r.site(ctx, r.cfg.Source.Options)
	if src.site.down == "" {
		// The tag's destinations make rules, which the listing follows.
		r.checkTargetTag(ctx, src)
	}
	if src.site.down != "" {
		for _, c := range []string{"source", "versioning", "read", "tags"} {
			r.skip(c, target, src.site.down)
		}
		return src
	}
	sample, listed := r.listSource(ctx, src)
	if !src.exists {
		for _, c := range []string{"versioning", "read", "tags"} {
			r.skip(c, target, needOf(src.site, "the source bucket"))
		}
		return src
	}
	src.versioned = r.checkVersioning(ctx, src.site, src.bucket, failure.SrcSide, r.deleteMarkerRules(nil), nil)
	if !listed || src.site.down != "" {
		r.skip("read", "s3://"+src.bucket, needOf(src.site, "a listing of the source"))
		r.skip("tags", "s3://"+src.bucket, needOf(src.site, "a listing of the source"))
		return src
	}
	r.readSample(ctx, src, sample)
	return src
}

// needOf is what a skipped check needs: the site, if it is down, else
// what.
func needOf(s *site, what string) string {
	if s.down != "" {
		return s.down
	}
	return what
}

// listSource lists the source under each rule prefix (IAM policies often
// allow listing some prefixes only) and returns an object to read: the
// first with a body, else the first, else nil; and whether it could list.
func (r *runner) listSource(ctx context.Context, src *source) (*types.Object, bool) {
	s := src.site
	res := Result{Check: "source", Target: "s3://" + src.bucket}
	prefixes := r.cfg.Prefixes()
	noRules := len(prefixes) == 0
	if noRules {
		prefixes = []string{""}
	}
	var sample *types.Object
	for i, p := range prefixes {
		var out *s3.ListObjectsV2Output
		err := r.call(ctx, func(ctx context.Context) (err error) {
			out, err = s.ep.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
				Bucket: aws.String(src.bucket), Prefix: aws.String(p), MaxKeys: aws.Int32(100),
			}, s.calls()...)
			return err
		})
		if i == 0 {
			r.checkClock(s, err)
		}
		if err != nil {
			k := kindOf(err)
			res = r.failed(res, s, denial{failure.SrcSide, "s3:ListBucket", bucketARN(src.bucket)}, err)
			// Refused to list, the bucket may still be there; unanswered,
			// nothing more can be asked.
			src.exists = k != kindNoBucket && s.down == ""
			res.Detail = "cannot be listed" + under(p)
			if k == kindNoBucket {
				res.Detail = "does not exist at " + endpointOf(s)
			}
			r.add(res)
			return nil, false
		}
		if sample == nil {
			sample = pick(out.Contents)
		}
	}
	src.exists = true
	res.Status = Pass
	res.Detail = "exists; listable" + underAll(prefixes)
	if noRules {
		res.Status = Warn
		res.Detail += "; but no rule is enabled, so nothing is replicated"
		res.Fix = "enable a rule (Status: Enabled) in the replication rules"
	}
	r.add(res)
	return sample, true
}

// pick chooses the object to read: one with a body (a range GET of an
// empty object is an error on S3), not a probe of an earlier check.
func pick(objs []types.Object) *types.Object {
	var first *types.Object
	for i := range objs {
		o := &objs[i]
		if strings.HasPrefix(aws.ToString(o.Key), policy.ProbePrefix) {
			continue
		}
		if aws.ToInt64(o.Size) > 0 {
			return o
		}
		if first == nil {
			first = o
		}
	}
	return first
}

func under(prefix string) string {
	if prefix == "" {
		return ""
	}
	return fmt.Sprintf(" under %q", prefix)
}

func underAll(prefixes []string) string {
	if len(prefixes) == 1 && prefixes[0] == "" {
		return " (the whole bucket)"
	}
	q := make([]string, len(prefixes))
	for i, p := range prefixes {
		q[i] = fmt.Sprintf("%q", p)
	}
	return " under " + strings.Join(q, ", ")
}

// readSample reads the first byte of one object (exercising s3:GetObject,
// and kms:Decrypt for an SSE-KMS object) and its tags: ferry copies tags
// with every object, and rules may filter on them.
func (r *runner) readSample(ctx context.Context, src *source, obj *types.Object) {
	s := src.site
	if obj == nil {
		target := "s3://" + src.bucket
		detail := "skipped: no object to read: the bucket is empty"
		if ps := r.cfg.Prefixes(); len(ps) > 0 && ps[0] != "" {
			detail = "skipped: no object to read" + underAll(ps)
		}
		r.add(Result{Check: "read", Target: target, Status: Skip, Detail: detail})
		r.add(Result{Check: "tags", Target: target, Status: Skip, Detail: "skipped: needs an object to read"})
		return
	}
	key := aws.ToString(obj.Key)
	target := "s3://" + src.bucket + "/" + key
	res := Result{Check: "read", Target: target}
	in := &s3.GetObjectInput{Bucket: aws.String(src.bucket), Key: aws.String(key)}
	if aws.ToInt64(obj.Size) > 0 {
		in.Range = aws.String("bytes=0-0")
	}
	var sse types.ServerSideEncryption
	err := r.call(ctx, func(ctx context.Context) error {
		out, err := s.ep.S3.GetObject(ctx, in, s.calls()...)
		if err != nil {
			return err
		}
		defer out.Body.Close()
		sse = out.ServerSideEncryption
		_, err = io.Copy(io.Discard, out.Body)
		return err
	})
	if err != nil {
		r.add(r.failed(res, s, denial{failure.SrcSide, "s3:GetObject", objectsARN(src.bucket)}, err))
	} else {
		res.Status, res.Detail = Pass, "read its first byte"
		if aws.ToInt64(obj.Size) == 0 {
			res.Detail = "read it (an empty object)"
		}
		if sse == types.ServerSideEncryptionAwsKms || sse == types.ServerSideEncryptionAwsKmsDsse {
			res.Detail += "; SSE-KMS, decrypted"
		}
		r.add(res)
	}

	res = Result{Check: "tags", Target: target}
	var n int
	err = r.call(ctx, func(ctx context.Context) error {
		out, err := s.ep.S3.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(src.bucket), Key: aws.String(key)}, s.calls()...)
		if err == nil {
			n = len(out.TagSet)
		}
		return err
	})
	if err != nil {
		res = r.failed(res, s, denial{failure.SrcSide, "s3:GetObjectTagging", objectsARN(src.bucket)}, err)
		res.Detail = "tags cannot be read (ferry copies them" + tagRulesNote(r.cfg) + ")"
		r.add(res)
		return
	}
	res.Status, res.Detail = Pass, fmt.Sprintf("tags readable (this object has %d)", n)
	if note := tagRulesNote(r.cfg); note != "" {
		res.Detail += "; " + strings.TrimPrefix(note, ", and ")
	}
	r.add(res)
}

// tagRulesNote names the rules that filter on tags, if any.
func tagRulesNote(cfg *config.Config) string {
	var names []string
	for _, rl := range cfg.Replication.Rules {
		if rl == nil || !rl.Enabled() || rl.Filter == nil {
			continue
		}
		if rl.Filter.Tag != nil || rl.Filter.And != nil && len(rl.Filter.And.Tags) > 0 {
			names = append(names, fmt.Sprintf("%q", rl.Name()))
		}
	}
	if len(names) == 0 {
		return ""
	}
	return ", and rule " + strings.Join(names, ", ") + " filters on them"
}

// checkTargetTag reads the source's TargetBucket tag, when the config
// takes destinations from it, and adds them as ferry does at start.
func (r *runner) checkTargetTag(ctx context.Context, src *source) {
	if !r.cfg.Source.TargetBucketTag {
		return
	}
	s := src.site
	res := Result{Check: "target-tag", Target: "s3://" + src.bucket}
	var tags []types.Tag
	err := r.call(ctx, func(ctx context.Context) error {
		out, err := s.ep.S3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(src.bucket)}, s.calls()...)
		if err != nil {
			if code, _ := codeOf(err); code == "NoSuchTagSet" {
				return nil
			}
			return err
		}
		tags = out.TagSet
		return nil
	})
	r.checkClock(s, err)
	if err != nil {
		r.add(r.failed(res, s, denial{failure.SrcSide, "s3:GetBucketTagging", bucketARN(src.bucket)}, err))
		return
	}
	value := ""
	for _, t := range tags {
		if aws.ToString(t.Key) == config.TargetBucketTag {
			value = aws.ToString(t.Value)
		}
	}
	cfg, err := r.cfg.WithTagTargets(value)
	if err != nil {
		res.Status, res.Detail = Fail, "no usable destinations from the "+config.TargetBucketTag+" tag"
		res.Error = err.Error()
		res.Fix = "tag the source bucket: TargetBucket=\"bucket1 bucket2@region\""
		r.add(res)
		return
	}
	r.cfg = cfg
	res.Status, res.Detail = Pass, fmt.Sprintf("%s tag: %q", config.TargetBucketTag, value)
	r.add(res)
}
