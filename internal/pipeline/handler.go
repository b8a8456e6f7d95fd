package pipeline

import (
	"context"
	"log/slog"
	"time"
)

// Handler returns what the Lambda side calls for a CodePipeline job
// invocation (lambda.Handlers.Pipeline): it parses the payload and Runs
// action for the job. A malformed job that has an id is reported failed
// rather than left to hang; only a payload without a job id, or a report
// that did not get through, fails the invocation.
func Handler(action Action, rep Reporter, log *slog.Logger) func(ctx context.Context, payload []byte, deadline time.Time) error {
	return func(ctx context.Context, payload []byte, deadline time.Time) error {
		job, err := Parse(payload)
		if err != nil {
			if job.ID == "" {
				return err
			}
			malformed := func(context.Context, Job) (Outcome, error) { return Outcome{}, err }
			return Run(ctx, job, deadline, malformed, rep, log)
		}
		return Run(ctx, job, deadline, action, rep, log)
	}
}
