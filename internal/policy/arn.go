package policy

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// partition is the ARN partition of a region ("aws" when the region is
// unknown: a wildcard region cannot say more).
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

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

// queueARN turns an SQS queue URL into the queue's ARN. AWS URLs are
// https://sqs.REGION.amazonaws.com/ACCOUNT/NAME (or the legacy
// https://REGION.queue.amazonaws.com/...); any other host keeps its
// ACCOUNT/NAME path and takes the region given (or "*").
func queueARN(rawURL, region string) (arn, name string, ok bool) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", false
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[1] == "" {
		return "", "", false
	}
	account, name := parts[0], parts[1]
	labels := strings.Split(u.Hostname(), ".")
	switch {
	case len(labels) >= 4 && labels[0] == "sqs":
		region = labels[1]
	case len(labels) >= 4 && labels[1] == "queue":
		region = labels[0]
	}
	return "arn:" + partition(region) + ":sqs:" + orAny(region) + ":" + account + ":" + name, name, true
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
