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

// afterRetry puts mws into the Finalize step right after the SDK's retry
// middleware, in order, so each runs once per attempt and before signing
// (a request that waits is signed when it goes).
func afterRetry(mws ...middleware.FinalizeMiddleware) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		prev := "Retry"
		for _, mw := range mws {
			if err := s.Finalize.Insert(mw, prev, middleware.After); err != nil {
				return err
			}
			prev = mw.ID()
		}
		return nil
	}
}
