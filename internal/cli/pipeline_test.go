package cli_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestLambdaCodePipeline runs the ferry binary as a Lambda function with
// no ferry.yaml, invoked by CodePipeline's Lambda invoke action. The
// artifact store is MinIO a, read with the job's credentials; the jobs
// deploy the build artifact to MinIO b and invalidate CloudFront, copy the
// artifact to another bucket re-encrypted with its KMS key, and fail
// clearly. Every job's result is reported to CodePipeline. CloudFront and
// CodePipeline have no local server: testbed fakes check the SDK's real
// requests.
func TestLambdaCodePipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary: -short skips it")
	}
	bed := testbed.Require(t)
	store := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	site := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	dr := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	for name, body := range map[string]string{"index.html": "<h1>v2</h1>", "assets/app.3f2a9c1b.js": "go()", "docs/": ""} {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(store), Key: aws.String("web/BuildOutput/x1.zip"), Body: bytes.NewReader(zipped.Bytes())})

	cp, cf := testbed.NewCodePipeline(t), testbed.NewCloudFront(t)
	cf.AccessKey, cf.SecretKey = cp.AccessKey, cp.SecretKey // the function's role
	cf.AddDistribution("E2QWRUHEXAMPLE")
	api := testbed.NewLambdaAPI(t)
	cmd := exec.Command(testbed.FerryBinary(t))
	cmd.Dir = t.TempDir() // no ferry.yaml: CodePipeline jobs only
	cmd.Env = append(os.Environ(), bed.Env()...)
	cmd.Env = append(cmd.Env, "AWS_LAMBDA_RUNTIME_API="+api.Addr(), "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID="+cp.AccessKey, "AWS_SECRET_ACCESS_KEY="+cp.SecretKey,
		"AWS_ENDPOINT_URL_CODEPIPELINE="+cp.URL, "AWS_ENDPOINT_URL_CLOUDFRONT="+cf.URL)
	var log testbed.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srvA := bed.Server(t, testbed.A)
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if strings.Contains(log.String(), srvA.SecretKey) {
			t.Errorf("the job's artifact credentials appear in the function's log")
		}
		if t.Failed() {
			t.Logf("function log:\n%s", clip(log.String()))
		}
	})

	run := func(params any) testbed.CodePipelineResult {
		t.Helper()
		id := cp.NewJob()
		p, _ := json.Marshal(params)
		job := map[string]any{"CodePipeline.job": map[string]any{"id": id, "accountId": "111122223333", "data": map[string]any{
			"actionConfiguration": map[string]any{"configuration": map[string]any{"FunctionName": "ferry", "UserParameters": string(p)}},
			"inputArtifacts": []any{map[string]any{"name": "BuildOutput", "location": map[string]any{"type": "S3",
				"s3Location": map[string]any{"bucketName": store, "objectKey": "web/BuildOutput/x1.zip"}}}},
			"outputArtifacts":     []any{},
			"artifactCredentials": map[string]any{"accessKeyId": srvA.AccessKey, "secretAccessKey": srvA.SecretKey, "sessionToken": ""},
		}}}
		payload, _ := json.Marshal(job)
		if _, errp, err := api.Invoke(payload, 60*time.Second); err != nil || errp != nil {
			t.Fatalf("invocation: %v %s", err, errp)
		}
		res, ok := cp.Result(id)
		if !ok {
			t.Fatalf("job %s left without a result", id)
		}
		t.Logf("job %s: %+v", params.(map[string]any)["action"], res)
		return res
	}
	artifactStore := map[string]any{"endpoint_url": srvA.URL, "region": "us-east-1"}

	// Deploy the build and invalidate the distribution.
	res := run(map[string]any{"action": "deploy", "artifact_store": artifactStore, "bucket": site, "profile": "tb-b",
		"delete": true, "invalidate": map[string]any{"distribution": "E2QWRUHEXAMPLE"}})
	if !res.Success || !strings.Contains(res.Summary, "2 uploaded") || !strings.Contains(res.Summary, "invalidation") {
		t.Fatalf("deploy job: %+v", res)
	}
	h, err := b.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(site), Key: aws.String("assets/app.3f2a9c1b.js")})
	if err != nil || aws.ToString(h.CacheControl) != "public, max-age=31536000, immutable" {
		t.Fatalf("deployed asset: %v %+v", err, h)
	}
	if invs := cf.Invalidations("E2QWRUHEXAMPLE"); len(invs) != 1 || !strings.Contains(strings.Join(invs[0].Paths, " "), "/index.html") {
		t.Fatalf("invalidations: %+v", invs)
	}

	// Copy the artifact to another region's bucket, re-encrypted there.
	res = run(map[string]any{"action": "replicate", "artifact_store": artifactStore, "destinations": []any{
		map[string]any{"bucket": dr, "profile": "tb-b", "key": "app/latest.zip", "kms_key_id": bed.KMSKey}}})
	if !res.Success || !strings.Contains(res.Summary, "s3://"+dr+"/app/latest.zip") {
		t.Fatalf("replicate job: %+v", res)
	}
	h, err = b.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(dr), Key: aws.String("app/latest.zip")})
	if err != nil || h.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToInt64(h.ContentLength) != int64(zipped.Len()) {
		t.Fatalf("replicated artifact: %v %+v", err, h)
	}

	// Failures are reported, with what to fix.
	res = run(map[string]any{"action": "deploy", "artifact_store": artifactStore, "bucket": "no-such-bucket-ferry", "profile": "tb-b"})
	if res.Success || res.FailureType != "JobFailed" || !strings.Contains(res.FailureMessage, "no-such-bucket-ferry") {
		t.Fatalf("deploy to a missing bucket: %+v", res)
	}
	res = run(map[string]any{"action": "publish"})
	if res.Success || res.FailureType != "ConfigurationError" || !strings.Contains(res.FailureMessage, "want deploy, invalidate or replicate") {
		t.Fatalf("unknown action: %+v", res)
	}
	res = run(map[string]any{"action": "deploy", "artifact_store": map[string]any{"endpoint_url": srvA.URL, "region": "us-east-1"},
		"bucket": site, "profile": "tb-b", "invalidate": map[string]any{"distribution": "E404NOSUCH"}, "no_default_cache_control": true})
	if !res.Success || !strings.Contains(res.Summary, "0 uploaded") { // nothing changed: nothing to invalidate
		t.Fatalf("an unchanged deploy: %+v", res)
	}
	res = run(map[string]any{"action": "invalidate", "invalidate": map[string]any{"distribution": "E404NOSUCH"}})
	if res.Success || !strings.Contains(res.FailureMessage, "E404NOSUCH does not exist") {
		t.Fatalf("invalidate of an unknown distribution: %+v", res)
	}
}
