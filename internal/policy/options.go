package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// Runtime is where ferry runs, which decides the trust policy.
type Runtime string

// Runtimes.
const (
	Lambda Runtime = "lambda" // a Lambda function's execution role
	EC2    Runtime = "ec2"    // an instance profile's role
	ECS    Runtime = "ecs"    // an ECS task role
	User   Runtime = "user"   // an IAM user: no trust policy
)

// Options are what the configuration cannot tell.
type Options struct {
	Runtime Runtime // default Lambda
	// RoleARN is the principal's ARN, named in bucket and key policies.
	// Empty: built from RoleName and the source account when known, else
	// a placeholder that AWS refuses until it is replaced.
	RoleARN string
	// RoleName names the role (the user, for runtime user). Default "ferry".
	RoleName string
	// SourceAccount is the source bucket's account: aws:SourceAccount in
	// the queue policy, the account in ARNs. Default: the account of the
	// replication configuration's Role, else of RoleARN.
	SourceAccount string
	// Region is the region of whatever the config and the profiles give
	// none for: buckets, deploy targets, the function's log group.
	Region string
	// FunctionName is the Lambda function's name, for its log group.
	// Default "ferry".
	FunctionName string

	// SourceKMSKeys are the keys the source's SSE-KMS objects are
	// encrypted with. Without them, kms:Decrypt names any key of the
	// source's account and region, limited by conditions to S3 reading
	// this source's objects.
	SourceKMSKeys []string
	// ObjectLock grants reading retention and legal holds at the source
	// and writing them at the destinations: ferry carries them over when
	// the destination bucket has object lock enabled.
	ObjectLock bool
	// TargetBucketTag is the value of the source bucket's TargetBucket
	// tag, for a config with target_bucket_tag: the destinations it names
	// are added as ferry adds them when it starts.
	TargetBucketTag string

	// Deploys are `ferry deploy` targets (s3://bucket[/prefix]), also the
	// CodePipeline deploy action's.
	Deploys []string
	// DeployDelete: deploys run with --delete.
	DeployDelete bool
	// DeployACL is the canned ACL deploys send (--acl), "" for none.
	DeployACL string
	// DeployKMSKey is the key deploys encrypt with (--sse-kms-key-id).
	DeployKMSKey string
	// Distributions are CloudFront distribution IDs deploys invalidate.
	Distributions []string
	// CodePipeline: ferry answers CodePipeline jobs (ferry lambda).
	CodePipeline bool

	// Profile tells what the AWS config files say about a profile ("" is
	// the default credential chain): its region, endpoint_url and
	// role_arn. Nil: nothing is known beyond ferry.yaml.
	Profile func(name string) Profile
}

// Profile is what ferry policy needs to know of an AWS shared-config
// profile.
type Profile struct {
	Region, EndpointURL string
	// RoleARN is the role the profile assumes (role_arn), if any, and
	// ExternalID the external_id it passes.
	RoleARN, ExternalID string
}

var (
	accountID  = regexp.MustCompile(`^\d{12}$`)
	distID     = regexp.MustCompile(`^[A-Z0-9]{1,64}$`)
	iamName    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	lambdaName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// check reports the first option that cannot be used.
func (o *Options) check() error {
	switch o.Runtime {
	case Lambda, EC2, ECS, User:
	default:
		return fmt.Errorf("runtime %q: want one of lambda, ec2, ecs, user", o.Runtime)
	}
	if o.RoleARN != "" {
		m := iamARN.FindStringSubmatch(o.RoleARN)
		switch {
		case m == nil:
			return fmt.Errorf("role ARN %q: want arn:aws:iam::ACCOUNT:role/NAME (user/NAME with runtime user)", o.RoleARN)
		case o.Runtime == User && m[3] != "user":
			return fmt.Errorf("role ARN %q: runtime user needs a user ARN (arn:aws:iam::ACCOUNT:user/NAME)", o.RoleARN)
		case o.Runtime != User && m[3] != "role":
			return fmt.Errorf("role ARN %q: runtime %s needs a role ARN (arn:aws:iam::ACCOUNT:role/NAME)", o.RoleARN, o.Runtime)
		}
	}
	if !iamName.MatchString(o.RoleName) {
		return fmt.Errorf("role name %q: 1-64 letters, digits and +=,.@_-", o.RoleName)
	}
	if !lambdaName.MatchString(o.FunctionName) {
		return fmt.Errorf("function name %q: 1-64 letters, digits, - and _", o.FunctionName)
	}
	if o.SourceAccount != "" && !accountID.MatchString(o.SourceAccount) {
		return fmt.Errorf("source account %q: want a 12-digit account ID", o.SourceAccount)
	}
	for _, d := range o.Distributions {
		if !distID.MatchString(d) {
			return fmt.Errorf("distribution %q: want a CloudFront distribution ID such as E2QWRUHEXAMPLE", d)
		}
	}
	for _, d := range o.Deploys {
		if _, _, err := parseS3URL(d); err != nil {
			return err
		}
	}
	if (o.DeployDelete || o.DeployACL != "" || o.DeployKMSKey != "") && len(o.Deploys) == 0 {
		return fmt.Errorf("the deploy settings (delete, ACL, KMS key) need a deploy target")
	}
	return nil
}

// withDefaults fills the defaults in.
func (o Options) withDefaults() Options {
	if o.Runtime == "" {
		o.Runtime = Lambda
	}
	if o.RoleName == "" {
		o.RoleName = "ferry"
		if m := iamARN.FindStringSubmatch(o.RoleARN); m != nil {
			o.RoleName = m[4]
		}
	}
	if o.FunctionName == "" {
		o.FunctionName = "ferry"
	}
	if o.Profile == nil {
		o.Profile = func(string) Profile { return Profile{} }
	}
	return o
}

// parseS3URL splits s3://bucket[/prefix] into the bucket and a prefix
// that is "" or ends in "/" (as ferry deploy reads it).
func parseS3URL(s string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	if !ok || bucket == "" {
		return "", "", fmt.Errorf("deploy target %q: want s3://BUCKET[/PREFIX]", s)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix, nil
}
