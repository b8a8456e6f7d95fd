package cdn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// DefaultPollEvery is how often Invalidate asks whether an invalidation is
// done, as the SDK's InvalidationCompleted waiter does. Invalidations take
// from seconds to several minutes; asking more often only costs requests.
const DefaultPollEvery = 20 * time.Second

// StatusCompleted is the Status of a finished invalidation.
const StatusCompleted = "Completed"

// CallerReference derives an invalidation's caller reference from what a
// deploy changed: its paths (in any order) and contentDigest, a digest of
// the content the deploy wrote. CloudFront answers a repeated caller
// reference with the same paths by returning the invalidation it already
// made, so a retried deploy (same content, same paths) creates no second
// one and is not billed twice.
//
// contentDigest must tell deploys apart, not just contents: CloudFront
// remembers caller references, so a rollback that rewrites exactly what an
// earlier deploy wrote would get that earlier (long completed)
// invalidation back and leave the edges serving what it rolls back. A
// digest of the sorted "key=old-etag->new-etag" list (what was replaced,
// and by what) is stable across retries and differs for a rollback; a
// CodePipeline job id is another good one. Invalidate logs a warning when
// CloudFront hands back an old invalidation.
func CallerReference(paths []string, contentDigest string) string {
	ps := slices.Clone(paths)
	slices.Sort(ps)
	h := sha256.New()
	for _, p := range ps {
		fmt.Fprintf(h, "%d:%s,", len(p), p)
	}
	fmt.Fprintf(h, ";%s", contentDigest)
	return "ferry-" + hex.EncodeToString(h.Sum(nil)[:20])
}

// Invalidator creates CloudFront invalidations. Client is required; Log
// and PollEvery have defaults (no logging, DefaultPollEvery).
type Invalidator struct {
	Client    *cloudfront.Client
	Log       *slog.Logger
	PollEvery time.Duration
	// ReuseWithin: an invalidation CloudFront hands back for the same
	// caller reference counts as this deploy's (retried) only if it is
	// younger than this; an older one is a past deploy of the same
	// content (say, before a rollback), and a new invalidation is made.
	// Default DefaultReuseWithin.
	ReuseWithin time.Duration
}

// Result is the invalidation Invalidate created, or found.
type Result struct {
	ID     string
	Status string // "InProgress" or "Completed"
	// Reused is true when CloudFront returned an invalidation it had made
	// before for the same caller reference and paths (its CreateTime is
	// older than the request) instead of creating one.
	Reused     bool
	CreateTime time.Time
}

// Invalidate creates an invalidation of paths (as Paths makes them) in the
// distribution, with caller reference callerRef (see CallerReference),
// and if wait, polls it every PollEvery until it is Completed or ctx ends.
// On a ctx end while waiting it returns the Result so far with the error.
//
// Throttling is retried by the SDK's retryer (Throttling is one of its
// throttle error codes); the other errors are explained: which distribution
// does not exist, which permission is missing, which CloudFront limit was
// hit.
func (i Invalidator) Invalidate(ctx context.Context, distributionID string, paths []string, callerRef string, wait bool) (Result, error) {
	log := i.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if i.Client == nil {
		return Result{}, errors.New("invalidate: no CloudFront client")
	}
	if err := checkBatch(distributionID, paths, callerRef); err != nil {
		return Result{}, err
	}

	start := time.Now()
	out, err := i.Client.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(distributionID),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(callerRef),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	})
	if err != nil {
		return Result{}, explain(err, "CreateInvalidation", distributionID, callerRef, len(paths))
	}
	inv := out.Invalidation
	if inv == nil || aws.ToString(inv.Id) == "" {
		return Result{}, fmt.Errorf("create invalidation on distribution %s: CloudFront answered without an invalidation", distributionID)
	}
	res := Result{ID: aws.ToString(inv.Id), Status: aws.ToString(inv.Status), CreateTime: aws.ToTime(inv.CreateTime)}
	res.Reused = inv.CreateTime != nil && older(res.CreateTime, start, out.ResultMetadata)
	if res.Reused {
		log.Warn("CloudFront returned an existing invalidation for this caller reference instead of creating one",
			"distribution", distributionID, "invalidation", res.ID, "created", res.CreateTime, "status", res.Status,
			"caller_reference", callerRef)
	} else {
		log.Info("invalidation created", "distribution", distributionID, "invalidation", res.ID, "paths", len(paths))
	}
	if res.Reused && time.Since(res.CreateTime) > i.reuseWithin() {
		// Not a retry of this deploy but an old one with the same
		// content (a rollback and a redeploy): the edges may hold what
		// came between, so this deploy needs an invalidation of its own.
		log.Info("the reused invalidation is older than a retry would be; creating a new one",
			"invalidation", res.ID, "created", res.CreateTime)
		return i.Invalidate(ctx, distributionID, paths, fmt.Sprintf("%s-%d", callerRef, time.Now().Unix()), wait)
	}
	if !wait || res.Status == StatusCompleted {
		return res, nil
	}
	got, err := i.Wait(ctx, distributionID, res.ID)
	got.Reused, got.CreateTime = res.Reused, res.CreateTime
	return got, err
}

// DefaultReuseWithin is how old an invalidation with the same caller
// reference may be and still count as this deploy's, retried.
const DefaultReuseWithin = time.Hour

func (i Invalidator) reuseWithin() time.Duration {
	if i.ReuseWithin > 0 {
		return i.ReuseWithin
	}
	return DefaultReuseWithin
}

// Wait polls invalidation id of the distribution every PollEvery until it
// is Completed or ctx ends; then it returns the Result so far with an
// error that wraps ctx's.
func (i Invalidator) Wait(ctx context.Context, distributionID, id string) (Result, error) {
	log := i.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res := Result{ID: id, Status: "InProgress"}
	start := time.Now()
	every := i.PollEvery
	if every <= 0 {
		every = DefaultPollEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("wait for invalidation %s of distribution %s (status %s): %w",
				res.ID, distributionID, res.Status, context.Cause(ctx))
		case <-tick.C:
		}
		got, err := i.Client.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{
			DistributionId: aws.String(distributionID),
			Id:             aws.String(res.ID),
		})
		if err != nil {
			if ctx.Err() != nil {
				return res, fmt.Errorf("wait for invalidation %s of distribution %s (status %s): %w",
					res.ID, distributionID, res.Status, context.Cause(ctx))
			}
			return res, explain(err, "GetInvalidation", distributionID, "", 0)
		}
		if got.Invalidation != nil {
			res.Status = aws.ToString(got.Invalidation.Status)
			res.CreateTime = aws.ToTime(got.Invalidation.CreateTime)
		}
		log.Debug("invalidation status", "distribution", distributionID, "invalidation", res.ID, "status", res.Status)
		if res.Status == StatusCompleted {
			log.Info("invalidation completed", "distribution", distributionID, "invalidation", res.ID,
				"after", time.Since(start).Round(time.Second))
			return res, nil
		}
	}
}

// checkBatch catches, before any request, what CloudFront would refuse.
func checkBatch(distributionID string, paths []string, callerRef string) error {
	switch {
	case distributionID == "":
		return errors.New("invalidate: no distribution id")
	case strings.Contains(distributionID, "."):
		return fmt.Errorf("invalidate: %q looks like a domain name; CloudFront wants the distribution's ID (like E2QWRUHAPOMQZL, see `aws cloudfront list-distributions`)", distributionID)
	case callerRef == "":
		return errors.New("invalidate: no caller reference")
	case len(paths) == 0:
		return fmt.Errorf("invalidate distribution %s: no paths to invalidate", distributionID)
	case len(paths) > MaxPathsPerRequest:
		return fmt.Errorf("invalidate distribution %s: %d paths, CloudFront takes at most %d in one invalidation (cdn.Paths collapses them under a limit)",
			distributionID, len(paths), MaxPathsPerRequest)
	}
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			return fmt.Errorf("invalidate distribution %s: path %q does not start with /", distributionID, p)
		}
		if i := strings.IndexByte(p, '*'); i >= 0 && i != len(p)-1 {
			return fmt.Errorf("invalidate distribution %s: path %q has a * before its end; CloudFront allows a wildcard only as the last character", distributionID, p)
		}
	}
	return nil
}

// older reports whether created (CloudFront's clock) is before start (ours):
// a fresh invalidation is created after its request was sent, so an older
// one is one CloudFront made earlier for the same caller reference. The
// response's Date header gives the clocks' skew; being whole seconds, it
// makes the server seem at most a second behind, hence the slack.
func older(created, start time.Time, md middleware.Metadata) bool {
	var skew time.Duration
	if server, ok := awsmiddleware.GetServerTime(md); ok {
		if at, ok := awsmiddleware.GetResponseAt(md); ok {
			skew = server.Sub(at)
		}
	}
	return created.Add(-skew).Before(start.Add(-time.Second))
}

// explain turns an error of op into one that says what to do about it.
func explain(err error, op, distributionID, callerRef string, npaths int) error {
	var (
		noDist   *types.NoSuchDistribution
		noInv    *types.NoSuchInvalidation
		denied   *types.AccessDenied
		tooMany  *types.TooManyInvalidationsInProgress
		tooLarge *types.BatchTooLarge
		badArg   *types.InvalidArgument
		api      smithy.APIError
	)
	switch {
	case errors.As(err, &noDist):
		return fmt.Errorf("distribution %s does not exist (check the distribution ID: the ID, such as E2QWRUHEXAMPLE, not the domain name): %w", distributionID, err)
	case errors.As(err, &noInv):
		return fmt.Errorf("%s: distribution %s has no such invalidation: %w", op, distributionID, err)
	case errors.As(err, &denied):
		return fmt.Errorf("access denied to %s on distribution %s: the credentials need cloudfront:%s on arn:aws:cloudfront::<account-id>:distribution/%s: %w",
			op, distributionID, op, distributionID, err)
	case errors.As(err, &tooMany):
		return fmt.Errorf("distribution %s has too many invalidations in progress: CloudFront allows %d file paths or %d wildcard paths in progress at once per distribution; retry later, when some have completed: %w",
			distributionID, MaxPathsPerRequest, MaxWildcardsInProgress, err)
	case errors.As(err, &tooLarge):
		return fmt.Errorf("distribution %s: %d paths are too many for one invalidation (CloudFront takes at most %d): %w",
			distributionID, npaths, MaxPathsPerRequest, err)
	case errors.As(err, &badArg):
		return fmt.Errorf("%s on distribution %s: CloudFront rejected the request (an invalidation path not URL-encoded, or a * not at its end?): %w",
			op, distributionID, err)
	case errors.As(err, &api) && api.ErrorCode() == "InvalidationBatchAlreadyExists":
		// The SDK has no type for it: CloudFront's model does not list it
		// for CreateInvalidation, though the API returns it.
		return fmt.Errorf("distribution %s already has an invalidation with caller reference %s for other paths; CloudFront ties a caller reference to its paths for good, so the same reference cannot invalidate different ones (derive it with cdn.CallerReference, which hashes the paths): %w",
			distributionID, callerRef, err)
	case errors.As(err, &api) && isThrottle(api.ErrorCode()):
		return fmt.Errorf("%s on distribution %s: CloudFront kept throttling the requests, even after the SDK's retries; retry later: %w",
			op, distributionID, err)
	}
	return fmt.Errorf("%s on distribution %s: %w", op, distributionID, err)
}

func isThrottle(code string) bool {
	return code == "Throttling" || code == "ThrottlingException" || code == "TooManyRequestsException"
}
