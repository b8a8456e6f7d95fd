package cdn_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/ferry-s3/ferry/internal/cdn"
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/testbed"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func setup(t *testing.T) (*testbed.CloudFront, cdn.Invalidator) {
	fake := testbed.NewCloudFront(t)
	fake.AddDistribution("E1")
	return fake, cdn.Invalidator{Client: fake.Client(), PollEvery: time.Millisecond}
}

var (
	deployKeys = []string{"site/index.html", "site/assets/app 1.js", "site/caf\u00e9.css"}
	wantPaths  = []string{"/", "/assets/app%201.js", "/caf%C3%A9.css", "/index.html"}
)

// TestInvalidate creates an invalidation, waits for it, and retries the
// same deploy: CloudFront's caller reference makes the retry reuse it.
func TestInvalidate(t *testing.T) {
	t.Parallel()
	fake, inv := setup(t)
	fake.CompleteAfter(3)
	paths := cdn.Paths(deployKeys, "site/", cdn.DefaultMaxPaths)
	if !slices.Equal(paths, wantPaths) {
		t.Fatalf("Paths = %q, want %q", paths, wantPaths)
	}
	ref := cdn.CallerReference(paths, "index.html=e1,app 1.js=e2")

	res, err := inv.Invalidate(ctx(t), "E1", paths, ref, true)
	if err != nil {
		t.Fatalf("Invalidate: %v", err)
	}
	if res.ID == "" || res.Status != cdn.StatusCompleted || res.Reused {
		t.Errorf("Invalidate = %+v, want a new Completed invalidation", res)
	}
	if n := fake.Calls("GetInvalidation"); n != 3 {
		t.Errorf("%d polls, want 3 (the fake completes on the third)", n)
	}
	got := fake.Invalidations("E1")
	if len(got) != 1 || got[0].ID != res.ID || got[0].CallerReference != ref || !slices.Equal(got[0].Paths, paths) {
		t.Fatalf("fake has %+v, want one invalidation %s of %q, ref %s", got, res.ID, paths, ref)
	}

	// The deploy runs again with the same content: the same invalidation,
	// no second one, nothing to wait for.
	again, err := inv.Invalidate(ctx(t), "E1", paths, ref, true)
	if err != nil || again.ID != res.ID || again.Status != cdn.StatusCompleted {
		t.Fatalf("Invalidate again = %+v, %v; want %s, Completed", again, err, res.ID)
	}
	if n := len(fake.Invalidations("E1")); n != 1 {
		t.Errorf("fake has %d invalidations after a retried deploy, want 1", n)
	}
	if n := fake.Calls("GetInvalidation"); n != 3 {
		t.Errorf("a completed invalidation was polled again (%d polls)", n)
	}

	// Made by an earlier run of this deploy: Reused says so.
	fake.Backdate("E1", res.ID, 30*time.Minute)
	old, err := inv.Invalidate(ctx(t), "E1", paths, ref, false)
	if err != nil || old.ID != res.ID || !old.Reused || time.Since(old.CreateTime) < 30*time.Minute {
		t.Errorf("Invalidate of a half-hour-old reference = %+v, %v; want %s, Reused", old, err, res.ID)
	}
	// Older than a retry would be: a past deploy of the same content (a
	// redeploy after a rollback), whose invalidation came before what the
	// edges now hold. This one gets its own.
	fake.Backdate("E1", res.ID, 2*time.Hour)
	fresh, err := inv.Invalidate(ctx(t), "E1", paths, ref, false)
	if err != nil || fresh.ID == res.ID || fresh.Reused {
		t.Errorf("Invalidate of a two-hour-old reference = %+v, %v; want a new invalidation", fresh, err)
	}
	if invs := fake.Invalidations("E1"); len(invs) != 2 || invs[1].CallerReference == ref {
		t.Errorf("invalidations after a redeploy: %+v", invs)
	}
}

func TestInvalidateNoWait(t *testing.T) {
	t.Parallel()
	fake, inv := setup(t)
	res, err := inv.Invalidate(ctx(t), "E1", []string{"/a.html"}, "ref-nowait", false)
	if err != nil || res.Status != "InProgress" {
		t.Fatalf("Invalidate = %+v, %v; want InProgress", res, err)
	}
	if n := fake.Calls("GetInvalidation"); n != 0 {
		t.Errorf("%d polls without wait", n)
	}
}

// TestInvalidateWaitEnds: the context ends the wait, with the invalidation
// it was waiting for.
func TestInvalidateWaitEnds(t *testing.T) {
	t.Parallel()
	fake, inv := setup(t)
	fake.CompleteAfter(1 << 30)
	c, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
	defer cancel()
	res, err := inv.Invalidate(c, "E1", []string{"/a.html"}, "ref-wait", true)
	if !errors.Is(err, context.DeadlineExceeded) || res.ID == "" || res.Status != "InProgress" {
		t.Fatalf("Invalidate = %+v, %v; want the InProgress invalidation and DeadlineExceeded", res, err)
	}
	if !strings.Contains(err.Error(), res.ID) {
		t.Errorf("error %q does not name invalidation %s", err, res.ID)
	}
}

// TestInvalidateThrottled: the SDK's retryer retries Throttling, so a
// throttled first attempt costs nothing but a retry.
func TestInvalidateThrottled(t *testing.T) {
	t.Parallel()
	fake, inv := setup(t)
	fake.FailNext("Throttling", http.StatusBadRequest, 1)
	res, err := inv.Invalidate(ctx(t), "E1", []string{"/a.html"}, "ref-throttled", false)
	if err != nil || res.ID == "" {
		t.Fatalf("Invalidate after one throttle = %+v, %v", res, err)
	}
	if n := fake.Calls("CreateInvalidation"); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	if n := len(fake.Invalidations("E1")); n != 1 {
		t.Errorf("%d invalidations, want 1", n)
	}

	// Throttled on every attempt: the SDK gives up, and the error says why.
	fake.FailNext("Throttling", http.StatusBadRequest, 3)
	_, err = inv.Invalidate(ctx(t), "E1", []string{"/b.html"}, "ref-throttled-2", false)
	if err == nil || !strings.Contains(err.Error(), "throttling") || !strings.Contains(err.Error(), "retry later") {
		t.Errorf("Invalidate throttled 3 times: %v", err)
	}
}

func TestInvalidateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fail   string // injected error code
		status int
		dist   string
		paths  []string
		ref    string
		want   []string // in the error
		typ    any      // an SDK error type the error must wrap
	}{
		{name: "no such distribution", dist: "E123",
			want: []string{"distribution E123 does not exist (check the distribution ID: the ID, such as E2QWRUHEXAMPLE, not the domain name)"},
			typ:  new(*types.NoSuchDistribution)},
		{name: "access denied", fail: "AccessDenied", status: http.StatusForbidden,
			want: []string{"cloudfront:CreateInvalidation", "distribution/E1"}, typ: new(*types.AccessDenied)},
		{name: "too many in progress", fail: "TooManyInvalidationsInProgress", status: http.StatusBadRequest,
			want: []string{"too many invalidations in progress", "3000 file paths or 15 wildcard paths", "retry later"},
			typ:  new(*types.TooManyInvalidationsInProgress)},
		{name: "same reference, other paths", ref: "ref-taken", paths: []string{"/other.html"},
			want: []string{"caller reference ref-taken", "InvalidationBatchAlreadyExists"}},
		{name: "a domain for an id", dist: "d111111abcdef8.cloudfront.net",
			want: []string{"looks like a domain name"}},
		{name: "no paths", paths: []string{}, want: []string{"no paths to invalidate"}},
		{name: "a star inside", paths: []string{"/a*b"}, want: []string{"only as the last character"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, inv := setup(t)
			if _, err := inv.Invalidate(ctx(t), "E1", []string{"/taken.html"}, "ref-taken", false); err != nil {
				t.Fatal(err)
			}
			if tc.fail != "" {
				fake.FailNext(tc.fail, tc.status, 1)
			}
			dist, paths, ref := tc.dist, tc.paths, tc.ref
			if dist == "" {
				dist = "E1"
			}
			if paths == nil {
				paths = []string{"/index.html"}
			}
			if ref == "" {
				ref = "ref-" + tc.name
			}
			_, err := inv.Invalidate(ctx(t), dist, paths, ref, true)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not say %q", err, w)
				}
			}
			if tc.typ != nil && !errors.As(err, tc.typ) {
				t.Errorf("error %v does not wrap %T", err, tc.typ)
			}
			if n := len(fake.Invalidations("E1")); n != 1 {
				t.Errorf("%d invalidations, want only the first", n)
			}
		})
	}
}

// TestCloudFrontNewClient: a profile's endpoint_url is the S3 server's, not
// CloudFront's; a CloudFront-specific endpoint is used, signed for
// us-east-1 whatever the profile's region.
func TestCloudFrontNewClient(t *testing.T) {
	c := cdn.NewClient(aws.Config{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String("http://127.0.0.1:9"),
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
	if o := c.Options(); o.BaseEndpoint != nil || o.Region != "eu-west-1" {
		t.Errorf("NewClient kept endpoint %v, region %s; want no endpoint (the SDK's CloudFront one)", aws.ToString(o.BaseEndpoint), o.Region)
	}

	fake := testbed.NewCloudFront(t)
	fake.AddDistribution("E1")
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ACCESS_KEY_ID", fake.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", fake.SecretKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ENDPOINT_URL_CLOUDFRONT", fake.URL)
	os.WriteFile(filepath.Join(dir, "config"), nil, 0o600)
	e, err := endpoint.Open(ctx(t), endpoint.Options{EndpointURL: "http://127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	inv := cdn.Invalidator{Client: cdn.NewClient(e.Config)}
	if _, err := inv.Invalidate(ctx(t), "E1", []string{"/a.html"}, "ref-client", false); err != nil {
		t.Fatalf("Invalidate through the profile's client: %v", err)
	}
	if n := len(fake.Invalidations("E1")); n != 1 {
		t.Errorf("fake has %d invalidations, want 1", n)
	}
}
