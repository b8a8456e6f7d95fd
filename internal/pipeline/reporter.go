package pipeline

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline"
	"github.com/aws/aws-sdk-go-v2/service/codepipeline/types"
)

// CodePipeline's limits (API reference: ExecutionDetails.summary,
// PutJobSuccessResult continuationToken, FailureDetails.message). It
// refuses a longer value, and with it the whole report.
const (
	maxSummary = 2048
	maxToken   = 2048
	maxMessage = 5000
)

// Reporter tells CodePipeline how a job ended. Run hands it values within
// CodePipeline's limits.
type Reporter interface {
	// Success reports the job done, or, with o.Continue, not done yet:
	// CodePipeline then invokes the action again with o.Continue as the
	// job's ContinuationToken.
	Success(ctx context.Context, jobID string, o Outcome) error
	// Failure reports the job failed.
	Failure(ctx context.Context, jobID string, kind FailureKind, message string) error
}

// NewReporter returns a Reporter that calls PutJobSuccessResult and
// PutJobFailureResult with c. c needs the codepipeline:PutJobSuccessResult
// and codepipeline:PutJobFailureResult permissions (the function's role
// in Lambda), not the job's artifact credentials.
func NewReporter(c *codepipeline.Client) Reporter { return apiReporter{c} }

type apiReporter struct{ c *codepipeline.Client }

func (r apiReporter) Success(ctx context.Context, jobID string, o Outcome) error {
	in := &codepipeline.PutJobSuccessResultInput{JobId: aws.String(jobID)}
	if o.Summary != "" {
		in.ExecutionDetails = &types.ExecutionDetails{Summary: aws.String(clip(o.Summary, maxSummary))}
	}
	if o.Continue != "" {
		// Never clipped: a cut token would name nothing. Run refuses long ones.
		in.ContinuationToken = aws.String(o.Continue)
	}
	if _, err := r.c.PutJobSuccessResult(ctx, in); err != nil {
		return fmt.Errorf("report success of CodePipeline job %s: %w", jobID, err)
	}
	return nil
}

func (r apiReporter) Failure(ctx context.Context, jobID string, kind FailureKind, message string) error {
	if message == "" {
		message = string(kind) // CodePipeline requires one
	}
	_, err := r.c.PutJobFailureResult(ctx, &codepipeline.PutJobFailureResultInput{
		JobId: aws.String(jobID),
		FailureDetails: &types.FailureDetails{
			Type:    types.FailureType(kind),
			Message: aws.String(clip(message, maxMessage)),
		},
	})
	if err != nil {
		return fmt.Errorf("report failure of CodePipeline job %s: %w", jobID, err)
	}
	return nil
}

// clip shortens s to at most max characters (CodePipeline counts
// characters, not bytes), ending it with "…" when cut.
func clip(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
