package config

import (
	"fmt"
	"strings"
)

// TargetBucketTag is the source bucket tag of the aws-lambda-copy-s3-objects
// convention.
const TargetBucketTag = "TargetBucket"

// WithTagTargets returns a copy of c with the destinations a TargetBucket
// tag value names ("bucket1 bucket2@us-west-2": space-separated, each with
// an optional region) added, each reached with the source's profile, and
// one implicit rule per destination. Buckets already listed are kept as
// they are.
func (c *Config) WithTagTargets(value string) (*Config, error) {
	out := *c
	out.Destinations = append([]*Destination(nil), c.Destinations...)
	for _, f := range strings.Fields(value) {
		bucket, region, _ := strings.Cut(f, "@")
		if err := checkBucketName(bucket); err != nil {
			return nil, fmt.Errorf("%s tag of %s: %q: %v", TargetBucketTag, c.Source.Bucket, f, err)
		}
		if out.Destination(bucket) != nil {
			continue
		}
		d := &Destination{Options: c.Source.Options, Bucket: bucket}
		if region != "" {
			d.Region = region
		}
		if bucket == c.Source.Bucket && d.Region == c.Source.Region {
			return nil, fmt.Errorf("%s tag of %s names the source bucket itself", TargetBucketTag, c.Source.Bucket)
		}
		out.Destinations = append(out.Destinations, d)
	}
	if len(out.Destinations) == 0 {
		return nil, fmt.Errorf("source %s: no destinations: its %s tag is missing or empty", c.Source.Bucket, TargetBucketTag)
	}
	out.Replication = implicitRules(&out)
	return &out, nil
}
