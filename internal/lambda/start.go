package lambda

import (
	"context"
	"encoding/json"
	"log/slog"

	awslambda "github.com/aws/aws-lambda-go/lambda"
)

// Start runs the Lambda runtime loop with Invoke; it never returns in
// Lambda (and exits the process when AWS_LAMBDA_RUNTIME_API is not set).
// aws-lambda-go gives each invocation a context with the deadline of the
// Runtime API's Lambda-Runtime-Deadline-Ms header, which Invoke passes on.
func Start(h Handlers, log *slog.Logger) {
	// Lambda accepts only JSON payloads, so aws-lambda-go decoding the
	// payload into a RawMessage rejects nothing Invoke would take.
	awslambda.StartWithOptions(func(ctx context.Context, payload json.RawMessage) (any, error) {
		return Invoke(withLogger(ctx, log), h, payload)
	})
}

type loggerKey struct{}

// withLogger gives Invoke the logger of Start, whose signature has no room
// for one.
func withLogger(ctx context.Context, log *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, log)
}

func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}
