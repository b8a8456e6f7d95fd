package pipeline_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-s3/ferry/internal/pipeline"
)

// Credentials of testdata/job.json; none may ever be printed.
var secrets = []string{
	"pipelineSecretMarker/K7MDENG/bPxRfiCYEXAMPLEKEY",
	"FwoGZXIvYXdzEPipelineSessionTokenMarkerEXAMPLE",
	"ASIAEXAMPLEPIPELINE1",
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParse reads a job shaped like the example event of the CodePipeline
// user guide (Lambda invoke action), with artifacts, a continuation token
// and a KMS key.
func TestParse(t *testing.T) {
	job, err := pipeline.Parse(readTestdata(t, "job.json"))
	if err != nil {
		t.Fatal(err)
	}
	if job.ID != "6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5" || job.AccountID != "111122223333" {
		t.Errorf("id %q, account %q", job.ID, job.AccountID)
	}
	if job.UserParameters != `{"bucket":"www.example.com","prefix":"site/"}` {
		t.Errorf("UserParameters %q", job.UserParameters)
	}
	wantIn := pipeline.Artifact{Name: "BuildOutput", Bucket: "codepipeline-eu-west-1-123456789012", Key: "my-site/BuildOutpu/Xy3kQ9a.zip"}
	if len(job.Inputs) != 1 || job.Inputs[0] != wantIn {
		t.Errorf("inputs %+v, want [%+v]", job.Inputs, wantIn)
	}
	if len(job.Outputs) != 1 || job.Outputs[0].Name != "DeployReport" || job.Outputs[0].Key != "my-site/DeployRepo/Ab12Cd3.zip" {
		t.Errorf("outputs %+v", job.Outputs)
	}
	c := job.Credentials
	if c.AccessKeyID != secrets[2] || c.SecretAccessKey != secrets[0] || c.SessionToken != secrets[1] || !c.HasKeys() {
		t.Errorf("credentials not read from artifactCredentials")
	}
	if job.ContinuationToken != "upload-from:assets/logo.png" {
		t.Errorf("continuation token %q", job.ContinuationToken)
	}
	if k := job.EncryptionKey; k == nil || k.ID != "arn:aws:kms:eu-west-1:111122223333:alias/aws/s3" || k.Type != "KMS" {
		t.Errorf("encryption key %+v", k)
	}

	var params struct{ Bucket, Prefix string }
	if err := job.DecodeParams(&params); err != nil || params.Bucket != "www.example.com" || params.Prefix != "site/" {
		t.Errorf("DecodeParams: %+v, %v", params, err)
	}
}

func TestParseMinimal(t *testing.T) {
	// The first invocation of a job: no artifacts, no token, no key.
	job, err := pipeline.Parse([]byte(`{"CodePipeline.job":{"id":"11111111-abcd-1111-abcd-111111abcdef","accountId":"1",
		"data":{"actionConfiguration":{"configuration":{"FunctionName":"f"}},"inputArtifacts":[],"outputArtifacts":[],
		"artifactCredentials":{"accessKeyId":"AKIA","secretAccessKey":"s","sessionToken":"t"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if job.ContinuationToken != "" || job.EncryptionKey != nil || job.Inputs != nil || job.UserParameters != "" {
		t.Errorf("%+v", job)
	}
}

func TestParseErrors(t *testing.T) {
	const id = "11111111-abcd-1111-abcd-111111abcdef"
	for _, tc := range []struct {
		name, payload, err string
		id                 string // kept on error, so the job can be failed
	}{
		{"not JSON", `{"CodePipeline.job":`, "not a JSON object", ""},
		{"other event", `{"Records":[]}`, `no "CodePipeline.job" member`, ""},
		{"null job", `{"CodePipeline.job":null}`, `no "CodePipeline.job" member`, ""},
		{"no id", `{"CodePipeline.job":{"accountId":"1","data":{}}}`, "no job id", ""},
		{"id not a string", `{"CodePipeline.job":{"id":7}}`, "malformed job", ""},
		{"bad data", `{"CodePipeline.job":{"id":"` + id + `","data":{"inputArtifacts":{}}}}`, "malformed job data", id},
		{"artifact not in S3", `{"CodePipeline.job":{"id":"` + id + `","data":{"inputArtifacts":[{"name":"Src","location":{"type":"CodeCommit"}}]}}}`,
			`input artifact 0 ("Src"): no S3 location`, id},
		{"artifact without key", `{"CodePipeline.job":{"id":"` + id + `","data":{"outputArtifacts":[{"name":"Out","location":{"type":"S3","s3Location":{"bucketName":"b"}}}]}}}`,
			`output artifact 0 ("Out")`, id},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job, err := pipeline.Parse([]byte(tc.payload))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("error %v, want one containing %q", err, tc.err)
			}
			if job.ID != tc.id {
				t.Errorf("job id %q, want %q", job.ID, tc.id)
			}
		})
	}
}

// TestJobHidesCredentials prints and logs a job every usual way.
func TestJobHidesCredentials(t *testing.T) {
	job, err := pipeline.Parse(readTestdata(t, "job.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "%v %+v %#v %s\n", job, job, job, job)
	slog.New(slog.NewTextHandler(&out, nil)).Info("job", "job", job)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("job", "job", job)
	for _, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Fatalf("credential %q printed:\n%s", s, out.String())
		}
	}
	if !strings.Contains(out.String(), job.ID) {
		t.Errorf("the job id is not printed:\n%s", out.String())
	}
}

func TestDecodeParamsErrors(t *testing.T) {
	var v struct{ Bucket string }
	for _, p := range []string{"", "deploy", `{"bucket":"b","extra":1}`, `{"bucket":"b"} {}`} {
		err := pipeline.Job{UserParameters: p}.DecodeParams(&v)
		if err == nil || pipeline.KindOf(err) != pipeline.ConfigurationError || !strings.Contains(err.Error(), "UserParameters") {
			t.Errorf("UserParameters %q: %v (kind %s), want a ConfigurationError about UserParameters", p, err, pipeline.KindOf(err))
		}
	}
}
