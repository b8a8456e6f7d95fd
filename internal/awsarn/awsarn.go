// Package awsarn derives AWS ARNs from what a config names: the
// partition of a region, the ARN of an SQS queue from its URL. Policy
// generation, the preflight check and notification set-up all need them,
// and must agree.
package awsarn

import (
	"fmt"
	"net/url"
	"strings"
)

// Partition is the AWS partition a region is in ("aws" for any other
// region, a wildcard included).
func Partition(region string) string {
	for _, p := range []struct{ prefix, partition string }{
		{"cn-", "aws-cn"}, {"us-gov-", "aws-us-gov"}, {"us-isob-", "aws-iso-b"}, {"us-isof-", "aws-iso-f"},
		{"us-iso-", "aws-iso"}, {"eu-isoe-", "aws-iso-e"}, {"eusc-", "aws-eusc"},
	} {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}
	return "aws"
}

// Queue derives an SQS queue's ARN from its URL: the region is in the host
// name (sqs.REGION.amazonaws.com, sqs-fips.REGION..., the legacy
// queue.amazonaws.com and REGION.queue.amazonaws.com, VPC endpoints,
// dual-stack sqs.REGION.api.aws), the account and name in the path. For
// other hosts (LocalStack, ElasticMQ, a test fake) the region is
// fallbackRegion.
func Queue(queueURL, fallbackRegion string) (string, error) {
	u, err := url.Parse(queueURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", queueURL)
	}
	path := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(path) != 2 || path[0] == "" || path[1] == "" {
		return "", fmt.Errorf("%q: the path is not /ACCOUNT/NAME", queueURL)
	}
	account, name := path[0], path[1]
	region := hostRegion(strings.ToLower(u.Hostname()))
	if region == "" {
		region = fallbackRegion
	}
	if region == "" {
		return "", fmt.Errorf("%q: no region in the host name; set the queue's region", queueURL)
	}
	return "arn:" + Partition(region) + ":sqs:" + region + ":" + account + ":" + name, nil
}

func hostRegion(host string) string {
	if host == "queue.amazonaws.com" {
		return "us-east-1" // the legacy endpoint, which is us-east-1's
	}
	if r, ok := strings.CutSuffix(host, ".queue.amazonaws.com"); ok && looksLikeRegion(r) {
		return r
	}
	labels := strings.Split(host, ".")
	for i, l := range labels[:max(len(labels)-1, 0)] {
		if (l == "sqs" || l == "sqs-fips") && looksLikeRegion(labels[i+1]) {
			return labels[i+1]
		}
	}
	return ""
}

// looksLikeRegion accepts us-east-1, cn-north-1, us-gov-west-1,
// eu-isoe-west-1: letters and dashes ending in a digit.
func looksLikeRegion(s string) bool {
	if !strings.Contains(s, "-") || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
