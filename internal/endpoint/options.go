// Package endpoint turns an AWS shared-config profile (plus optional
// overrides) into a configured S3 client. Ferry invents no credential
// format: profiles, role_arn/source_profile/external_id and endpoint_url are
// read from the same files the AWS CLI uses.
package endpoint

import "github.com/aws/aws-sdk-go-v2/aws"

// Options says how to reach one S3 endpoint. The zero value means: default
// credential chain, default region, AWS S3.
type Options struct {
	// Profile names a profile in ~/.aws/config (AWS_CONFIG_FILE). Empty means
	// the default credential chain (env, web identity, ECS/EC2/Lambda role).
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty"`
	// EndpointURL overrides the profile's endpoint_url, for non-AWS servers.
	EndpointURL string `yaml:"endpoint_url,omitempty" json:"endpoint_url,omitempty"`
	// Region overrides the profile's region.
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// PathStyle forces path-style (true) or virtual-hosted (false)
	// addressing. Nil means: path-style for non-AWS endpoints.
	PathStyle *bool `yaml:"path_style,omitempty" json:"path_style,omitempty"`
	// Checksums is "when_required" or "when_supported". Empty means
	// when_required for non-AWS endpoints (many third-party servers reject
	// the SDK's default trailing checksums) and the SDK default on AWS.
	Checksums string `yaml:"checksums,omitempty" json:"checksums,omitempty"`
	// RequestsPerSecond caps the requests sent to this endpoint (every
	// attempt counts), so a backfill leaves room for production traffic.
	// 0: no cap.
	RequestsPerSecond float64 `yaml:"requests_per_second,omitempty" json:"requests_per_second,omitempty"`
	// Credentials, if set, replace the profile's: credentials handed over
	// at run time, such as a CodePipeline job's artifact credentials.
	// Never read from a file.
	Credentials aws.CredentialsProvider `yaml:"-" json:"-"`
}
