package cli

import (
	"cmp"
	"context"
	"fmt"
	"os"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/policy"
)

type policyFlags struct {
	config   string
	runtime  string
	format   string
	document string
	opt      policy.Options
}

func (a *app) policyCmd() *cobra.Command {
	f := &policyFlags{}
	cmd := &cobra.Command{
		Use:   "policy --config FILE",
		Short: "Print the least-privilege IAM policies a config needs",
		Long: `policy prints the AWS documents ferry needs for a config, granting only the actions
ferry's code sends, on only the buckets, key prefixes, KMS keys, queues and topics the
config names:

  trust_policy            who may assume the role: lambda.amazonaws.com, ec2.amazonaws.com
                          or ecs-tasks.amazonaws.com (--runtime); none for --runtime user
  permission_policy       the role's (or user's) permissions: list and read the source
                          under the rule prefixes, write replicas under the destination
                          prefixes (key_rewrite applied), the ACL only where one is sent,
                          deletes only where delete markers or deletes are replicated,
                          KMS through S3 only, the SQS intake, SQS/SNS notifications,
                          and the .ferry-check/ probe of ferry check
  assumed_roles           for each profile with role_arn: that role's trust policy and
                          what ferry does as it at the buckets the profile reaches
  bucket_policies         for each destination in another account (its rule names
                          another Account, or its profile differs from the source's and
                          assumes no role): what its owner must grant the role
  key_policy_statements   for each KMS key named: statements to add to its key policy
  queue_policies          for run.sqs: lets S3 send the source bucket's events

The output is one JSON object keyed by those names (notes explain what was assumed).
--document NAME prints one document alone, ready for the AWS CLI: trust, permissions,
bucket:BUCKET, key:KEY, queue:QUEUE, role-trust:ROLE, role-permissions:ROLE. --format terraform prints the same as Terraform
(aws_iam_role, aws_iam_role_policy, aws_s3_bucket_policy, aws_sqs_queue_policy; key
statements as a local value to merge into each key's policy), as terraform fmt writes it.

Regions, endpoint_url and role_arn come from ferry.yaml, else from the profiles in the
AWS config files (read, never used: nothing is sent anywhere). Where an account is not
known the documents name a placeholder AWS refuses, <ACCOUNT_ID>: give --role-arn.

ferry deploy and CodePipeline jobs are not in ferry.yaml: add them with --deploy,
--invalidate and --codepipeline. See docs/policy.md.`,
		Example: `  ferry policy --config ferry.yaml --runtime lambda
  aws iam create-role --role-name ferry \
      --assume-role-policy-document "$(ferry policy --config ferry.yaml --document trust)"
  aws iam put-role-policy --role-name ferry --policy-name ferry \
      --policy-document "$(ferry policy --config ferry.yaml --document permissions)"
  aws s3api put-bucket-policy --profile dr --bucket artifacts-dr --policy \
      "$(ferry policy --config ferry.yaml --role-arn arn:aws:iam::111122223333:role/ferry --document bucket:artifacts-dr)"
  ferry policy --config ferry.yaml --runtime ecs --format terraform > ferry-iam.tf
  ferry policy --config ferry.yaml --deploy s3://www --deploy-delete --invalidate E2QWRUHEXAMPLE`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.policy(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "ferry YAML config (required unless only --deploy, --invalidate or --codepipeline)")
	fl.StringVar(&f.runtime, "runtime", "lambda", "where ferry runs: lambda, ec2, ecs or user (an IAM user: no trust policy)")
	fl.StringVar(&f.format, "format", "json", "json or terraform")
	fl.StringVar(&f.document, "document", "", "print only this document (JSON): trust, permissions, bucket:BUCKET, key:KEY, queue:QUEUE, role-trust:ROLE, role-permissions:ROLE")
	fl.StringVar(&f.opt.RoleARN, "role-arn", "", "the role's ARN (the user's, with --runtime user), named in bucket and key policies")
	fl.StringVar(&f.opt.RoleName, "role-name", "", "the role's name (the user's, with --runtime user) (default: from --role-arn, else ferry)")
	fl.StringVar(&f.opt.SourceAccount, "source-account", "", "the source bucket's account ID (default: from the rules' Role, else --role-arn)")
	fl.StringVar(&f.opt.Region, "region", "", "the region of what the config and profiles give none for (buckets, deploy targets, the function's log)")
	fl.StringVar(&f.opt.FunctionName, "function-name", "", "the Lambda function's name, for its log group (default ferry)")
	fl.StringArrayVar(&f.opt.SourceKMSKeys, "source-kms-key", nil, "a KMS key the source's objects are encrypted with (repeatable)")
	fl.BoolVar(&f.opt.ObjectLock, "object-lock", false, "destinations have object lock: grant reading and writing retention and legal holds")
	fl.StringVar(&f.opt.TargetBucketTag, "target-bucket-tag", "", "the source bucket's TargetBucket tag value, with target_bucket_tag: true")
	fl.StringArrayVar(&f.opt.Deploys, "deploy", nil, "s3://BUCKET[/PREFIX] that ferry deploy (or the CodePipeline deploy action) publishes to (repeatable)")
	fl.BoolVar(&f.opt.DeployDelete, "deploy-delete", false, "deploys run with --delete")
	fl.StringVar(&f.opt.DeployACL, "deploy-acl", "", "the canned ACL deploys send (--acl)")
	fl.StringVar(&f.opt.DeployKMSKey, "deploy-kms-key", "", "the KMS key deploys encrypt with (--sse-kms-key-id)")
	fl.StringArrayVar(&f.opt.Distributions, "invalidate", nil, "a CloudFront distribution ID deploys invalidate (repeatable)")
	fl.BoolVar(&f.opt.CodePipeline, "codepipeline", false, "ferry lambda answers CodePipeline jobs")
	return cmd
}

func (a *app) policy(ctx context.Context, f *policyFlags) error {
	serviceOnly := len(f.opt.Deploys) > 0 || len(f.opt.Distributions) > 0 || f.opt.CodePipeline
	if f.config == "" && !serviceOnly {
		return usagef("policy needs --config FILE (or, for deploys and CodePipeline alone, --deploy, --invalidate, --codepipeline)")
	}
	if f.format != "json" && f.format != "terraform" {
		return usagef("--format %q: want json or terraform", f.format)
	}
	if f.document != "" && f.format != "json" {
		return usagef("--document prints JSON; leave out --format terraform")
	}
	var cfg *config.Config
	if f.config != "" {
		var err error
		if cfg, err = config.Load(f.config); err != nil {
			return usageError{err}
		}
	}
	opt := f.opt
	opt.Runtime = policy.Runtime(f.runtime)
	opt.Profile = profileReader(ctx)
	set, err := policy.Generate(cfg, opt)
	if err != nil {
		return usageError{err}
	}
	var out []byte
	switch {
	case f.document != "":
		doc, err := set.Document(f.document)
		if err != nil {
			return usageError{err}
		}
		for _, n := range set.Notes {
			fmt.Fprintf(a.errOut, "note: %s\n", n)
		}
		out, err = policy.MarshalDocument(doc)
		if err != nil {
			return err
		}
	case f.format == "terraform":
		out, err = set.Terraform(cmp.Or(f.config, "no config"))
	default:
		out, err = set.JSON()
	}
	if err != nil {
		return err
	}
	_, err = a.out.Write(out)
	return err
}

// profileReader reads what the AWS config files say about a profile,
// the way the SDK resolves it for ferry (the environment's AWS_REGION
// first), without loading credentials or sending anything.
func profileReader(ctx context.Context) func(string) policy.Profile {
	return func(name string) policy.Profile {
		var p policy.Profile
		lookup := name
		if lookup == "" {
			lookup = cmp.Or(os.Getenv("AWS_PROFILE"), "default")
		}
		// LoadSharedConfigProfile reads the default files only; the SDK's
		// usual loading honours these variables, and so must this.
		files := func(o *awsconfig.LoadSharedConfigOptions) {
			if f := os.Getenv("AWS_CONFIG_FILE"); f != "" {
				o.ConfigFiles = []string{f}
			}
			if f := os.Getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
				o.CredentialsFiles = []string{f}
			}
		}
		if sc, err := awsconfig.LoadSharedConfigProfile(ctx, lookup, files); err == nil {
			p = policy.Profile{Region: sc.Region, EndpointURL: sc.BaseEndpoint, RoleARN: sc.RoleARN, ExternalID: sc.ExternalID}
		}
		p.Region = cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), p.Region)
		if name == "" {
			p.EndpointURL = cmp.Or(os.Getenv("AWS_ENDPOINT_URL_S3"), os.Getenv("AWS_ENDPOINT_URL"), p.EndpointURL)
		}
		return p
	}
}
