package policy

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/ferry-s3/ferry/internal/awsarn"
)

// dnsSuffix is the service endpoint suffix of a region's partition.
func dnsSuffix(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// bucketARN is arn:PARTITION:s3:::bucket.
func bucketARN(part, bucket string) string { return "arn:" + part + ":s3:::" + bucket }

// objectARN is the ARN pattern of every key under prefix: the prefix is
// escaped, so a '*' or '?' in a key prefix matches only itself.
func objectARN(part, bucket, prefix string) string {
	return bucketARN(part, bucket) + "/" + escape(prefix) + "*"
}

// escape writes s for a place where IAM reads wildcards and policy
// variables (Resource, StringLike values): '*', '?' and '$' become the
// escapes ${*}, ${?} and ${$}, which match the character itself.
func escape(s string) string {
	if !strings.ContainsAny(s, "*?$") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '$':
			b.WriteString("${" + string(r) + "}")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// orAny is s, or "*" when s is unknown.
func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

var (
	accountInARN = regexp.MustCompile(`^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):`)
	iamARN       = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::(\d{12}):(role|user)/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$`)
)

// accountOf is the account ID in an ARN, or "".
func accountOf(arn string) string {
	if m := accountInARN.FindStringSubmatch(arn); m != nil {
		return m[1]
	}
	return ""
}

// queueARN turns an SQS queue URL into the queue's ARN and name; a host
// that names no region takes region (or "*").
func queueARN(rawURL, region string) (arn, name string, ok bool) {
	a, err := awsarn.Queue(rawURL, orAny(region))
	if err != nil {
		return "", "", false
	}
	return a, a[strings.LastIndexByte(a, ':')+1:], true
}

// regionOfARN is the region field of an ARN, or "".
func regionOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}

// camel turns a bucket or key name into letters and digits for a Sid
// ("artifacts-dr" -> "ArtifactsDr"): IAM Sids allow nothing else.
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if up {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			up = false
		default:
			up = true
		}
	}
	return b.String()
}

// isAWSEndpoint reports whether an endpoint URL is AWS S3's ("" is).
func isAWSEndpoint(raw string) bool {
	if raw == "" {
		return true
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn")
}
