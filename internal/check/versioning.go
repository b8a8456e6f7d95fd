package check

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/failure"
)

// deleteMarkerRules names the enabled rules (to d, or to any destination
// when d is nil) that replicate delete markers: those need versioning on
// both sides, since only a versioned source makes delete markers and only
// a versioned destination can hold one.
func (r *runner) deleteMarkerRules(d *config.Destination) []string {
	var names []string
	for _, rl := range r.cfg.Replication.Rules {
		if rl == nil || !rl.Enabled() || !rl.DeleteMarkersEnabled() {
			continue
		}
		if d != nil && rl.Destination.BucketName() != d.Bucket {
			continue
		}
		names = append(names, fmt.Sprintf("%q", rl.Name()))
	}
	return names
}

// checkVersioning reads a bucket's versioning (ferry reads it at start,
// so s3:GetBucketVersioning is needed anyway) and judges it against the
// rules that need it. srcVersioned is the source's, for a destination;
// nil for the source itself or when unknown. When both are versioned, it
// also lists the destination's versions, as ferry does to replay them. It
// returns the bucket's versioning, nil if unknown.
func (r *runner) checkVersioning(ctx context.Context, s *site, bucket string, side failure.Side, needs []string, srcVersioned *bool) *bool {
	res := Result{Check: "versioning", Target: "s3://" + bucket}
	var status types.BucketVersioningStatus
	err := r.call(ctx, func(ctx context.Context) error {
		out, err := s.ep.S3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)}, s.calls()...)
		if err == nil {
			status = out.Status
		}
		return err
	})
	if err != nil {
		res = r.failed(res, s, denial{side, "s3:GetBucketVersioning", bucketARN(bucket)}, err)
		res.Detail = "versioning cannot be read (ferry reads it at start)"
		r.add(res)
		return nil
	}
	on := status == types.BucketVersioningStatusEnabled
	state := "not enabled"
	if status != "" {
		state = string(status)
	}
	switch {
	case on && srcVersioned != nil && *srcVersioned:
		res.Status, res.Detail = Pass, "Enabled, as at the source: ferry replays every version"
		if err := r.listVersions(ctx, s, bucket); err != nil {
			res = r.failed(res, s, denial{side, "s3:ListBucketVersions", bucketARN(bucket)}, err)
			res.Detail = "Enabled, but versions cannot be listed (ferry lists them to replay versions)"
		}
	case on:
		res.Status, res.Detail = Pass, "Enabled"
	case len(needs) > 0:
		res.Status = Fail
		res.Detail = fmt.Sprintf("versioning is %s, but rule %s replicates delete markers, which needs versioning on the source and the destination",
			state, strings.Join(needs, ", "))
		res.Fix = "enable versioning: " + versioningCommand(s, bucket)
	case srcVersioned != nil && *srcVersioned:
		res.Status = Warn
		res.Detail = fmt.Sprintf("versioning is %s while the source keeps versions: only current versions are copied, and an overwrite replaces the replica for good", state)
		res.Fix = "to keep every version, enable versioning: " + versioningCommand(s, bucket)
	default:
		res.Status, res.Detail = Pass, "versioning is "+state+" (no rule needs it)"
	}
	r.add(res)
	return &on
}

// versioningCommand is the AWS CLI command that enables versioning.
func versioningCommand(s *site, bucket string) string {
	cmd := "`aws s3api put-bucket-versioning --bucket " + bucket + " --versioning-configuration Status=Enabled"
	if s.opts.Profile != "" {
		cmd += " --profile " + s.opts.Profile
	}
	if s.opts.EndpointURL != "" {
		cmd += " --endpoint-url " + s.opts.EndpointURL
	}
	return cmd + "`"
}

// listVersions lists one version of a bucket.
func (r *runner) listVersions(ctx context.Context, s *site, bucket string) error {
	return r.call(ctx, func(ctx context.Context) error {
		_, err := s.ep.S3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)}, s.calls()...)
		return err
	})
}

// checkSourceVersions lists the source's versions, once, when a
// destination is versioned like it: ferry then replays versions, which
// it finds by listing them.
func (r *runner) checkSourceVersions(ctx context.Context, src *source) {
	if src.versionsChecked {
		return
	}
	src.versionsChecked = true
	res := Result{Check: "versions", Target: "s3://" + src.bucket}
	if src.site.down != "" {
		r.skip(res.Check, res.Target, src.site.down)
		return
	}
	if err := r.listVersions(ctx, src.site, src.bucket); err != nil {
		res = r.failed(res, src.site, denial{failure.SrcSide, "s3:ListBucketVersions", bucketARN(src.bucket)}, err)
		res.Detail = "versions cannot be listed (ferry lists them to replay versions)"
		r.add(res)
		return
	}
	res.Status, res.Detail = Pass, "versions listable (ferry replays them to versioned destinations)"
	r.add(res)
}
