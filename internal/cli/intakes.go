package cli

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/intake"
	"github.com/ferry-s3/ferry/internal/shared"
)

// durableIntakes builds the SQS and NATS intakes of the config. Both hand
// their events straight to the worker and acknowledge a message only once
// it returns: the queue server holds the message until then.
func (a *app) durableIntakes(ctx context.Context, rc config.Run, handle func(context.Context, []event.Event) error) ([]func(context.Context) error, error) {
	var runs []func(context.Context) error
	if s := rc.SQS; s != nil {
		ep, err := a.openEndpoint(ctx, s.Options)
		if err != nil {
			return nil, err
		}
		q := &intake.SQS{Client: sqs.NewFromConfig(ep.Config), QueueURL: s.QueueURL, Handle: handle,
			Workers: s.Workers, Log: a.log.With("intake", "sqs")}
		runs = append(runs, q.Run)
	}
	if n := rc.NATS; n != nil {
		opts, err := intake.NATSOptions(n)
		if err != nil {
			return nil, usageError{err}
		}
		j := &intake.NATS{Options: opts, URL: n.URL, Stream: n.Stream, Subject: n.Subject, Durable: n.Durable, Handle: handle,
			Workers: n.Workers, AckWait: n.AckWait, Replicas: n.Replicas, Log: a.log.With("intake", "nats")}
		runs = append(runs, j.Run)
	}
	return runs, nil
}

// openShared opens the state the `ferry run` processes of a NATS intake
// share in JetStream (key locks, FAILED records); nil without NATS.
func (a *app) openShared(ctx context.Context, rc config.Run) (*shared.Store, error) {
	n := rc.NATS
	if n == nil {
		return nil, nil
	}
	opts, err := intake.NATSOptions(n)
	if err != nil {
		return nil, usageError{err}
	}
	return shared.Dial(ctx, n.URL, shared.Options{Name: n.Durable, Subject: n.Subject, Replicas: n.Replicas,
		LockTTL: n.AckWait, Log: a.log.With("part", "shared")}, opts...)
}
