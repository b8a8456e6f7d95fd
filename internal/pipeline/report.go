package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// reportAttempts bounds the tries of one report. The SDK client retries
// on its own too; these cover what gets past it (a throttled burst, a
// client built with retries off) while the deadline allows.
const (
	reportAttempts = 4
	reportBackoff  = 200 * time.Millisecond
)

var (
	retryables = retry.IsErrorRetryables(retry.DefaultRetryables)
	throttles  = retry.IsErrorThrottles(retry.DefaultThrottles)
)

// report calls send until it succeeds, fails for good, or ctx ends.
func report(ctx context.Context, log *slog.Logger, what string, send func(context.Context) error) error {
	delay := reportBackoff
	for attempt := 1; ; attempt++ {
		err := send(ctx)
		if err == nil {
			return nil
		}
		// An earlier try that seemed to fail may have reached CodePipeline:
		// the job is then no longer open for reports.
		if attempt > 1 && code(err) == "InvalidJobStateException" {
			log.Warn("pipeline: job already closed when reporting again; taking the earlier report as delivered",
				"report", what, "error", err)
			return nil
		}
		if attempt == reportAttempts || !transient(err) || ctx.Err() != nil {
			log.Error("pipeline: could not report the job's result: it stays in progress until CodePipeline times it out",
				"report", what, "attempts", attempt, "error", err)
			return tried(err, attempt)
		}
		log.Warn("pipeline: report failed, trying again", "report", what, "attempt", attempt, "error", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			log.Error("pipeline: could not report the job's result before the deadline: it stays in progress until CodePipeline times it out",
				"report", what, "attempts", attempt, "error", err)
			return fmt.Errorf("out of time: %w", tried(err, attempt))
		}
		delay *= 2
	}
}

// tried notes how often a report was tried.
func tried(err error, attempts int) error {
	if attempts == 1 {
		return err
	}
	return fmt.Errorf("%w (tried %d times)", err, attempts)
}

// transient says whether trying again may help, by the SDK's own rules
// (throttling, 5xx, connection errors).
func transient(err error) bool {
	return throttles.IsErrorThrottle(err) == aws.TrueTernary || retryables.IsErrorRetryable(err) == aws.TrueTernary
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
