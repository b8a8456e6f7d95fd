package shared

import (
	"context"

	"github.com/ferry-s3/ferry/internal/queue"
)

// FailureLog is a place FAILED keys are kept: the shared Store, or a
// process's local queue (*queue.Queue).
type FailureLog interface {
	Key(ctx context.Context, bucket, key string) ([]queue.Job, error)
	Failed(ctx context.Context, fn func(queue.Job) error) error
	Requeue(ctx context.Context, filter func(queue.Job) bool) (int, error)
}

// Join reads several failure logs as one: a daemon with both a NATS intake
// (failures in the Store) and a webhook (failures in its local queue).
func Join(logs ...FailureLog) FailureLog { return joined(logs) }

type joined []FailureLog

func (j joined) Key(ctx context.Context, bucket, key string) ([]queue.Job, error) {
	var all []queue.Job
	for _, l := range j {
		jobs, err := l.Key(ctx, bucket, key)
		if err != nil {
			return nil, err
		}
		all = append(all, jobs...)
	}
	return all, nil
}

func (j joined) Failed(ctx context.Context, fn func(queue.Job) error) error {
	for _, l := range j {
		if err := l.Failed(ctx, fn); err != nil {
			return err
		}
	}
	return nil
}

func (j joined) Requeue(ctx context.Context, filter func(queue.Job) bool) (int, error) {
	total := 0
	for _, l := range j {
		n, err := l.Requeue(ctx, filter)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
