package endpoint

import (
	"context"
	"math"

	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// limitRequests makes every request to the endpoint wait for a token of a
// limiter shared by the endpoint's client. It sits after the retry step, so
// each attempt counts: what the server sees is what is capped.
func limitRequests(perSecond float64) func(*middleware.Stack) error {
	l := rate.NewLimiter(rate.Limit(perSecond), int(math.Max(1, math.Ceil(perSecond/10))))
	return func(s *middleware.Stack) error {
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("ferryRequestLimit",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				if err := l.Wait(ctx); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}
