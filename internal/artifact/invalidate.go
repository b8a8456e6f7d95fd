package artifact

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-s3/ferry/internal/cdn"
	"github.com/ferry-s3/ferry/internal/deploy"
	"github.com/ferry-s3/ferry/internal/pipeline"
)

// pollEvery is how often a waiting invalidation is asked about (AWS's own
// waiter's pace); tests shorten it.
var pollEvery = cdn.DefaultPollEvery

// waitToken starts the continuation token of an invalidation still in
// progress when the invocation's time ran out: "wait DISTRIBUTION ID".
const waitToken = "wait "

// invalidateOnly is the invalidate action: the given paths, /* by default.
func (r runner) invalidateOnly(ctx context.Context) (pipeline.Outcome, error) {
	inv := r.p.Invalidate
	if inv == nil || inv.Distribution == "" {
		return pipeline.Outcome{}, configError(`invalidate needs "invalidate": {"distribution": "E..."}`)
	}
	paths := inv.Paths
	if len(paths) == 0 {
		paths = []string{"/*"}
	}
	for _, p := range paths {
		if !strings.HasPrefix(p, "/") {
			return pipeline.Outcome{}, configError("invalidation path %q must start with /", p)
		}
	}
	// One job, one invalidation: a retried invocation of the same job
	// reuses it.
	return r.invalidate(ctx, *inv, paths, r.job.ID, "")
}

// invalidate creates the invalidation and, if asked, waits for it; when
// the invocation's time runs out first, it hands CodePipeline a
// continuation token, and the next invocation goes on waiting.
func (r runner) invalidate(ctx context.Context, inv Invalidation, paths []string, digest, summary string) (pipeline.Outcome, error) {
	i, err := r.invalidator(ctx, inv)
	if err != nil {
		return pipeline.Outcome{}, err
	}
	res, err := i.Invalidate(ctx, inv.Distribution, paths, cdn.CallerReference(paths, digest), inv.Wait)
	if summary != "" {
		summary += "; "
	}
	switch {
	case err != nil && res.ID != "" && ctx.Err() != nil:
		return pipeline.Outcome{Summary: summary + fmt.Sprintf("invalidation %s in progress", res.ID),
			Continue: waitToken + inv.Distribution + " " + res.ID}, nil
	case err != nil:
		return pipeline.Outcome{}, err
	}
	return pipeline.Outcome{Summary: summary + fmt.Sprintf("invalidation %s of %s: %s (%s)", res.ID, inv.Distribution,
		res.Status, strings.Join(paths, " "))}, nil
}

// resume goes on with a job CodePipeline invoked again with the
// continuation token an earlier invocation returned.
func (r runner) resume(ctx context.Context) (pipeline.Outcome, error) {
	rest, ok := strings.CutPrefix(r.job.ContinuationToken, waitToken)
	dist, id, ok2 := strings.Cut(rest, " ")
	if !ok || !ok2 || r.p.Invalidate == nil {
		return pipeline.Outcome{}, fmt.Errorf("continuation token %q is not one of ferry's", r.job.ContinuationToken)
	}
	i, err := r.invalidator(ctx, *r.p.Invalidate)
	if err != nil {
		return pipeline.Outcome{}, err
	}
	res, err := i.Wait(ctx, dist, id)
	switch {
	case err != nil && ctx.Err() != nil:
		return pipeline.Outcome{Summary: fmt.Sprintf("invalidation %s in progress", id), Continue: r.job.ContinuationToken}, nil
	case err != nil:
		return pipeline.Outcome{}, err
	}
	return pipeline.Outcome{Summary: fmt.Sprintf("invalidation %s of %s: %s", id, dist, res.Status)}, nil
}

func (r runner) invalidator(ctx context.Context, inv Invalidation) (cdn.Invalidator, error) {
	if inv.Distribution == "" {
		return cdn.Invalidator{}, configError(`"invalidate" needs "distribution"`)
	}
	ep, err := r.open(ctx, inv.Options)
	if err != nil {
		return cdn.Invalidator{}, err
	}
	return cdn.Invalidator{Client: cdn.NewClient(ep.Config), Log: r.log, PollEvery: pollEvery}, nil
}

// deployPaths are the paths a deploy's changes invalidate.
func deployPaths(p deploy.Plan, inv Invalidation) []string {
	return cdn.Paths(p.ChangedKeys(), inv.OriginPath, inv.MaxPaths)
}
