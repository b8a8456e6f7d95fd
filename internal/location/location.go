// Package location parses the SRC and DST arguments of ferry's commands:
// s3://bucket[/prefix] or a local directory.
package location

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Location is either an S3 bucket and prefix, or a local directory.
type Location struct {
	Bucket string // set for s3:// locations
	Prefix string // "" or ending in "/"
	Dir    string // set for local directories (absolute)
}

// IsS3 reports whether l is a bucket location.
func (l Location) IsS3() bool { return l.Bucket != "" }

func (l Location) String() string {
	if l.IsS3() {
		return "s3://" + l.Bucket + "/" + l.Prefix
	}
	return l.Dir
}

// bucketName follows S3's naming rules (3-63 chars, lower case, digits,
// dots and hyphens, starting and ending with a letter or digit).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// Parse reads "s3://bucket/prefix" or a directory path. A prefix is taken as
// a folder: "s3://b/logs" means the keys under "logs/", as in `aws s3 sync`.
func Parse(s string) (Location, error) {
	if s == "" {
		return Location{}, fmt.Errorf("empty location")
	}
	if rest, ok := strings.CutPrefix(s, "s3://"); ok {
		bucket, prefix, _ := strings.Cut(rest, "/")
		if !bucketName.MatchString(bucket) || strings.Contains(bucket, "..") {
			return Location{}, fmt.Errorf("%q: %q is not a valid bucket name", s, bucket)
		}
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		return Location{Bucket: bucket, Prefix: prefix}, nil
	}
	if i := strings.Index(s, "://"); i >= 0 {
		return Location{}, fmt.Errorf("%q: unsupported scheme %q (use s3://bucket/prefix or a local directory)", s, s[:i])
	}
	abs, err := filepath.Abs(s)
	if err != nil {
		return Location{}, fmt.Errorf("%q: %w", s, err)
	}
	return Location{Dir: abs}, nil
}
