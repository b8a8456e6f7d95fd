package testbed_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"

	"github.com/ferry-s3/ferry/internal/testbed"
)

func cfInput(ref string, quantity int32, paths ...string) *cloudfront.CreateInvalidationInput {
	return &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String("EDIST1"),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(ref),
			Paths:           &types.Paths{Quantity: aws.Int32(quantity), Items: paths},
		},
	}
}

// cfCode is the API error code and HTTP status of err.
func cfCode(err error) (string, int) {
	var api smithy.APIError
	var resp *awshttp.ResponseError
	code, status := "", 0
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	if errors.As(err, &resp) {
		status = resp.HTTPStatusCode()
	}
	return code, status
}

// TestCloudFrontFake checks the fake against the SDK: invalidations, their
// caller reference semantics, completion, validation and injected errors.
func TestCloudFrontFake(t *testing.T) {
	t.Parallel()
	fake := testbed.NewCloudFront(t)
	fake.AddDistribution("EDIST1")
	c := fake.Client()

	out, err := c.CreateInvalidation(ctx(t), cfInput("ref-1", 2, "/index.html", "/a%20b/*"))
	if err != nil {
		t.Fatalf("CreateInvalidation: %v", err)
	}
	inv := out.Invalidation
	id := aws.ToString(inv.Id)
	if aws.ToString(inv.Status) != "InProgress" || inv.CreateTime == nil ||
		aws.ToString(inv.InvalidationBatch.CallerReference) != "ref-1" ||
		!slices.Equal(inv.InvalidationBatch.Paths.Items, []string{"/index.html", "/a%20b/*"}) ||
		aws.ToInt32(inv.InvalidationBatch.Paths.Quantity) != 2 {
		t.Fatalf("CreateInvalidation = %+v (batch %+v)", inv, inv.InvalidationBatch)
	}
	if want := fake.URL + "/2020-05-31/distribution/EDIST1/invalidation/" + id; aws.ToString(out.Location) != want {
		t.Errorf("Location %q, want %q", aws.ToString(out.Location), want)
	}

	// The same caller reference and paths (in any order): the same
	// invalidation, not a second one.
	again, err := c.CreateInvalidation(ctx(t), cfInput("ref-1", 2, "/a%20b/*", "/index.html"))
	if err != nil || aws.ToString(again.Invalidation.Id) != id {
		t.Fatalf("CreateInvalidation again = %v, %v; want invalidation %s", again, err, id)
	}
	// The same caller reference, other paths: refused.
	_, err = c.CreateInvalidation(ctx(t), cfInput("ref-1", 1, "/other.html"))
	if code, status := cfCode(err); code != "InvalidationBatchAlreadyExists" || status != http.StatusConflict {
		t.Errorf("same ref, other paths: %v (%s %d), want 409 InvalidationBatchAlreadyExists", err, code, status)
	}
	if got := fake.Invalidations("EDIST1"); len(got) != 1 || got[0].ID != id || got[0].CallerReference != "ref-1" ||
		!slices.Equal(got[0].Paths, []string{"/index.html", "/a%20b/*"}) {
		t.Errorf("Invalidations = %+v, want the one %s", got, id)
	}

	// InProgress until the second GetInvalidation (the default).
	for i, want := range []string{"InProgress", "Completed", "Completed"} {
		g, err := c.GetInvalidation(ctx(t), &cloudfront.GetInvalidationInput{DistributionId: aws.String("EDIST1"), Id: aws.String(id)})
		if err != nil {
			t.Fatalf("GetInvalidation: %v", err)
		}
		if got := aws.ToString(g.Invalidation.Status); got != want {
			t.Errorf("poll %d: status %s, want %s", i+1, got, want)
		}
	}
	if n := fake.Calls("GetInvalidation"); n != 3 {
		t.Errorf("Calls(GetInvalidation) = %d, want 3", n)
	}

	// Errors of CloudFront's own.
	var noDist *types.NoSuchDistribution
	if _, err := c.CreateInvalidation(ctx(t), &cloudfront.CreateInvalidationInput{
		DistributionId:    aws.String("ENOSUCH"),
		InvalidationBatch: cfInput("r", 1, "/x").InvalidationBatch,
	}); !errors.As(err, &noDist) {
		t.Errorf("unknown distribution: %v, want NoSuchDistribution", err)
	}
	var noInv *types.NoSuchInvalidation
	if _, err := c.GetInvalidation(ctx(t), &cloudfront.GetInvalidationInput{DistributionId: aws.String("EDIST1"), Id: aws.String("INOSUCH")}); !errors.As(err, &noInv) {
		t.Errorf("unknown invalidation: %v, want NoSuchInvalidation", err)
	}
	var inconsistent *types.InconsistentQuantities
	if _, err := c.CreateInvalidation(ctx(t), cfInput("r2", 3, "/x")); !errors.As(err, &inconsistent) {
		t.Errorf("Quantity 3 with 1 item: %v, want InconsistentQuantities", err)
	}
	for _, bad := range []string{"x.html", "/a b.html", "/a*b", "/caf\u00e9", "/100%.html"} {
		var arg *types.InvalidArgument
		if _, err := c.CreateInvalidation(ctx(t), cfInput("r-"+bad, 1, bad)); !errors.As(err, &arg) {
			t.Errorf("path %q: %v, want InvalidArgument", bad, err)
		}
	}
	if len(fake.Invalidations("EDIST1")) != 1 {
		t.Errorf("refused batches were recorded: %+v", fake.Invalidations("EDIST1"))
	}

	// Injected errors: Throttling is retried by the SDK's standard
	// retryer; AccessDenied is not.
	before := fake.Calls("CreateInvalidation")
	fake.FailNext("Throttling", http.StatusBadRequest, 2)
	if _, err := c.CreateInvalidation(ctx(t), cfInput("ref-2", 1, "/b.html")); err != nil {
		t.Fatalf("CreateInvalidation after two throttles: %v", err)
	}
	if n := fake.Calls("CreateInvalidation") - before; n != 3 {
		t.Errorf("%d attempts for two throttles, want 3", n)
	}
	fake.FailNext("AccessDenied", http.StatusForbidden, 1)
	var denied *types.AccessDenied
	if _, err := c.CreateInvalidation(ctx(t), cfInput("ref-3", 1, "/c.html")); !errors.As(err, &denied) {
		t.Errorf("injected AccessDenied: %v", err)
	}

	// At most 15 wildcards in progress per distribution.
	fake.AddDistribution("EDIST2")
	for i := range 15 {
		in := cfInput(fmt.Sprint("w", i), 1, fmt.Sprintf("/d%d/*", i))
		in.DistributionId = aws.String("EDIST2")
		if _, err := c.CreateInvalidation(ctx(t), in); err != nil {
			t.Fatalf("wildcard %d: %v", i, err)
		}
	}
	in := cfInput("w15", 1, "/d15/*")
	in.DistributionId = aws.String("EDIST2")
	var tooMany *types.TooManyInvalidationsInProgress
	if _, err := c.CreateInvalidation(ctx(t), in); !errors.As(err, &tooMany) {
		t.Errorf("16th wildcard in progress: %v, want TooManyInvalidationsInProgress", err)
	}
}
