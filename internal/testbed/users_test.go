package testbed_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// profileClient builds an S3 client the way any AWS SDK program would:
// from the shared config files the environment names.
func profileClient(t *testing.T, profile string) *s3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithSharedConfigProfile(profile),
		config.WithHTTPClient(awshttp.NewBuildableClient()))
	if err != nil {
		t.Fatalf("profile %s: %v", profile, err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
}

// TestNewUser: a user made with a read-only policy can list and read its
// bucket and nothing more, the bed's own profiles keep working beside it,
// and the user is gone when the test that made it ends.
func TestNewUser(t *testing.T) {
	bed := testbed.Require(t)
	bed.Setenv(t)
	bucket := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	ctx := context.Background()
	if _, err := bed.Client(t, testbed.B).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket),
		Key: aws.String("a.txt"), Body: strings.NewReader("a")}); err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(`{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::%[1]s"]},
  {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::%[1]s/*"]}]}`, bucket)

	var user string
	t.Run("restricted", func(t *testing.T) {
		user = bed.NewUser(t, testbed.B, policy)
		if !strings.HasPrefix(os.Getenv("AWS_CONFIG_FILE"), os.TempDir()) {
			t.Errorf("AWS_CONFIG_FILE = %s, want the test's own copy", os.Getenv("AWS_CONFIG_FILE"))
		}
		c := profileClient(t, user)
		if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}); err != nil {
			t.Errorf("list as %s: %v", user, err)
		}
		if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a.txt")}); err != nil {
			t.Errorf("get as %s: %v", user, err)
		}
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("b.txt"), Body: strings.NewReader("b")})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
			t.Errorf("put as %s: %v, want AccessDenied", user, err)
		}
		// A second user in the same test, and the bed's profile, still work.
		other := bed.NewUser(t, testbed.B, policy)
		if _, err := profileClient(t, other).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}); err != nil {
			t.Errorf("list as the second user %s: %v", other, err)
		}
		if _, err := profileClient(t, "tb-b").PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket),
			Key: aws.String("c.txt"), Body: strings.NewReader("c")}); err != nil {
			t.Errorf("put as tb-b beside the users: %v", err)
		}
		if !bed.UserExists(t, testbed.B, user) {
			t.Errorf("user %s does not exist while its test runs", user)
		}
	})
	if bed.UserExists(t, testbed.B, user) {
		t.Errorf("user %s still exists after its test ended", user)
	}
}
