package cli

import (
	"context"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/worker"
)

// durableIntakes builds the SQS and NATS intakes of the config.
func (a *app) durableIntakes(ctx context.Context, rc config.Run, w *worker.Worker) ([]func(context.Context) error, error) {
	if rc.SQS != nil || rc.NATS != nil {
		return nil, usagef("run.sqs and run.nats are not wired yet")
	}
	return nil, nil
}
