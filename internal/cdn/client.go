package cdn

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
)

// NewClient returns a CloudFront client for the credentials of cfg (an
// endpoint.Endpoint's Config).
//
// It ignores cfg's BaseEndpoint: a profile's endpoint_url (or ferry's
// endpoint override) names the S3 server, and sending CloudFront's API
// there would fail with a confusing answer. A CloudFront-specific endpoint
// still applies (AWS_ENDPOINT_URL_CLOUDFRONT, or endpoint_url in the
// profile's services section), and is signed for us-east-1 as CloudFront
// is, whatever the profile's region; on AWS itself the SDK resolves
// CloudFront's global endpoint and signing region from the partition.
func NewClient(cfg aws.Config, optFns ...func(*cloudfront.Options)) *cloudfront.Client {
	cfg = cfg.Copy()
	cfg.BaseEndpoint = nil
	fns := append([]func(*cloudfront.Options){func(o *cloudfront.Options) {
		if o.BaseEndpoint != nil && !strings.HasPrefix(o.Region, "cn-") && !strings.HasPrefix(o.Region, "us-gov-") {
			o.Region = "us-east-1"
		}
	}}, optFns...)
	return cloudfront.NewFromConfig(cfg, fns...)
}
