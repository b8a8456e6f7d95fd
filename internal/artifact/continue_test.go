package artifact

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/pipeline"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// An invalidation still in progress when the invocation's time runs out is
// not a failure: the job is reported with a continuation token, and the
// next invocation (CodePipeline's, with that token) goes on waiting until
// CloudFront says Completed. No job is left without a result.
func TestInvalidateContinues(t *testing.T) {
	cf, cp := testbed.NewCloudFront(t), testbed.NewCodePipeline(t)
	cf.AddDistribution("E1")
	cf.CompleteAfter(40)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_ACCESS_KEY_ID", cf.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", cf.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL_CLOUDFRONT", cf.URL)
	pollEvery = 100 * time.Millisecond
	t.Cleanup(func() { pollEvery = 20 * time.Second })

	params, _ := json.Marshal(map[string]any{"action": "invalidate",
		"invalidate": map[string]any{"distribution": "E1", "paths": []string{"/index.html"}, "wait": true}})
	action := Action(endpoint.Open, slog.New(slog.DiscardHandler))
	rep := pipeline.NewReporter(cp.Client())
	first := pipeline.Job{ID: cp.NewJob(), UserParameters: string(params)}
	if err := pipeline.Run(context.Background(), first, time.Now().Add(6*time.Second), action, rep, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	res, ok := cp.Result(first.ID)
	invs := cf.Invalidations("E1")
	if !ok || !res.Success || len(invs) != 1 || res.ContinuationToken != "wait E1 "+invs[0].ID || invs[0].Status == "Completed" {
		t.Fatalf("first invocation: %+v; invalidations %+v", res, invs)
	}

	next := pipeline.Job{ID: cp.NewJob(), UserParameters: string(params), ContinuationToken: res.ContinuationToken}
	if err := pipeline.Run(context.Background(), next, time.Now().Add(6*time.Second), action, rep, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	res, ok = cp.Result(next.ID)
	if !ok || !res.Success || res.ContinuationToken != "" || !strings.Contains(res.Summary, "Completed") {
		t.Fatalf("continued invocation: %+v", res)
	}
	if n := len(cf.Invalidations("E1")); n != 1 {
		t.Errorf("the continuation created another invalidation (%d)", n)
	}
}
