package policy

import (
	"path/filepath"
	"testing"

	"github.com/ferry-s3/ferry/internal/config"
)

// testCase is a config and the options ferry policy is run with.
type testCase struct {
	name   string
	config string // relative to this package; "" for none
	opt    Options
}

// profiles stand in for ~/.aws/config: what the AWS config files say.
var profiles = map[string]Profile{
	"prod":      {Region: "us-east-1"},
	"dr":        {Region: "us-west-2"},
	"analytics": {Region: "eu-central-1"},
	"partner": {Region: "eu-central-1", RoleARN: "arn:aws:iam::999988887777:role/ferry-writer",
		ExternalID: "ferry-partner"},
}

func readProfile(name string) Profile { return profiles[name] }

// cases are the configs the golden files and the evaluator tests cover:
// the commented example, a same-account minimal one, a cross-account one
// with KMS and delete markers, one with an SQS intake and SNS/SQS
// notifications (daemon and Lambda), a key_rewrite one, and deploys.
func cases() []testCase {
	return []testCase{
		{name: "example", config: "../../examples/ferry.yaml", opt: Options{Runtime: Lambda}},
		{name: "minimal", config: "testdata/minimal.yaml", opt: Options{Runtime: EC2}},
		{name: "cross-kms", config: "testdata/cross-kms.yaml", opt: Options{Runtime: ECS,
			SourceKMSKeys: []string{"arn:aws:kms:us-east-1:111122223333:key/0f0e0d0c-aaaa-bbbb-cccc-123456789abc"}}},
		{name: "events", config: "testdata/events.yaml", opt: Options{Runtime: EC2, SourceAccount: "123456789012"}},
		{name: "events-lambda", config: "testdata/events.yaml", opt: Options{Runtime: Lambda, SourceAccount: "123456789012"}},
		{name: "rewrite", config: "testdata/rewrite.yaml", opt: Options{Runtime: User,
			RoleARN: "arn:aws:iam::111111111111:user/ferry-sync", ObjectLock: true}},
		// A function that deploys and answers CodePipeline: no ferry.yaml.
		{name: "deploy", opt: Options{Runtime: Lambda, Region: "us-east-1",
			RoleARN:      "arn:aws:iam::123456789012:role/site-deployer",
			Deploys:      []string{"s3://www.example.com", "s3://static.example.com/app"},
			DeployDelete: true, DeployACL: "public-read", DeployKMSKey: "alias/site",
			Distributions: []string{"E2QWRUHEXAMPLE"}, CodePipeline: true}},
	}
}

// generate loads tc's config and generates its set.
func generate(t *testing.T, tc testCase) (*config.Config, *Set) {
	t.Helper()
	var cfg *config.Config
	if tc.config != "" {
		var err error
		if cfg, err = config.Load(filepath.FromSlash(tc.config)); err != nil {
			t.Fatalf("%s: %v", tc.config, err)
		}
	}
	opt := tc.opt
	opt.Profile = readProfile
	set, err := Generate(cfg, opt)
	if err != nil {
		t.Fatalf("%s: generate: %v", tc.name, err)
	}
	return cfg, set
}
