package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/queue"
	"github.com/ferry-s3/ferry/internal/shared"
	"github.com/ferry-s3/ferry/internal/worker"
)

// pollEvery is how often idle workers look for retries that fell due; new
// work wakes them at once through Queue.Ready.
const pollEvery = time.Second

// work claims jobs from the queue and runs them on Run.Workers goroutines
// until ctx is cancelled; then it waits up to Run.ShutdownTimeout for the
// jobs in flight and releases the rest to the queue.
func (d *Daemon) work(ctx context.Context) {
	// Jobs get their own context, cancelled only when the grace period
	// after ctx's end runs out.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(d.Run.ShutdownTimeout, cancelJobs)
		context.AfterFunc(jobCtx, func() { t.Stop() })
	})
	defer stop()

	slots := make(chan struct{}, d.Run.Workers)
	var wg sync.WaitGroup
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for ctx.Err() == nil {
		free := cap(slots) - len(slots)
		var jobs []queue.Job
		if free > 0 {
			var err error
			if jobs, err = d.Queue.Claim(ctx, free); err != nil && ctx.Err() == nil {
				d.Log.Error("queue: claim failed", "err", err)
			}
		}
		for _, j := range jobs {
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				d.runJob(jobCtx, j)
			}()
		}
		if len(jobs) > 0 && len(jobs) == free {
			// Maybe more is due; claim again as soon as a slot frees.
			select {
			case slots <- struct{}{}:
				<-slots
			case <-ctx.Done():
			}
			continue
		}
		select {
		case <-d.Queue.Ready():
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	wg.Wait()
}

// runJob replicates one key and records the outcome in the queue.
func (d *Daemon) runJob(ctx context.Context, j queue.Job) {
	defer d.Metrics.Busy()()
	outs := d.Worker.SyncOwed(ctx, j.Event, j.Owes)
	err := worker.Failed(outs)
	// The queue is updated even when ctx ended: use a context of our own.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var qerr error
	switch e, _ := err.(*worker.Error); {
	case err == nil:
		var sup []queue.Failure
		if sup, qerr = d.Queue.Done(qctx, j.ID); qerr == nil {
			d.account(j.Event, j.Enqueued, j.Owes, j.Notified, outs, ended)
			d.superseded(j.Event.Key, sup)
		}
	case ctx.Err() != nil:
		qerr = d.Queue.Release(qctx, j.ID) // shutdown: the next start redoes it
	case e.Permanent():
		if qerr = d.Queue.Fail(qctx, j.ID, failures(e.Outcomes)); qerr == nil {
			d.account(j.Event, j.Enqueued, j.Owes, j.Notified, outs, ended)
		}
	default:
		after := queue.Backoff(j.Attempts + 1)
		fs := failures(e.Outcomes)
		d.Log.Info("will retry", "key", j.Event.Key, "attempt", j.Attempts+1, "after", after.Round(time.Millisecond), "reason", queue.Summary(fs))
		if qerr = d.Queue.Retry(qctx, j.ID, after, fs); qerr == nil {
			d.account(j.Event, j.Enqueued, j.Owes, j.Notified, outs, retrying)
		}
	}
	if qerr != nil {
		// The job stays RUNNING in the database and is redone at the
		// next start; nothing is lost.
		d.Log.Error("queue: recording the outcome failed", "key", j.Event.Key, "err", qerr)
	}
}

// Handle is the SQS and NATS intakes' handler. Those servers hold each
// message until it returns nil. A key that fails for good is recorded
// FAILED (in the shared state with NATS, else in the local queue) for
// `ferry status` and `ferry retry`, and its message let go; a transient
// failure returns an error, so the server delivers the message again.
func (d *Daemon) Handle(ctx context.Context, evs []event.Event) error {
	d.Metrics.Event("durable", len(evs))
	var again []worker.Outcome
	var errs []error
	for _, ev := range evs {
		if ev.Bucket != d.Worker.Source().Name {
			d.Log.Warn("event for a bucket that is not the source, ignored", "bucket", ev.Bucket, "key", ev.Key)
			continue
		}
		unlock, err := d.lock(ctx, ev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		done := d.inflight.add(ev)
		outs := d.handleOne(ctx, ev)
		done()
		unlock()
		again = append(again, outs...)
	}
	return errors.Join(append(errs, worker.Failed(again))...)
}

// lockPoll is how often a key held by another worker is tried again.
const lockPoll = 200 * time.Millisecond

// lock takes the key's shared lock when processes share the work, so one
// key is replicated by one worker at a time. A key held by another worker
// is waited for (a killed worker's lock frees itself after its TTL).
func (d *Daemon) lock(ctx context.Context, ev event.Event) (unlock func(), err error) {
	if d.Shared == nil {
		return func() {}, nil
	}
	t := time.NewTicker(lockPoll)
	defer t.Stop()
	give := time.Now().Add(d.Shared.LockTTL() + 5*time.Second)
	for {
		unlock, err := d.Shared.Lock(ctx, ev.Bucket, ev.Key)
		if !errors.Is(err, shared.ErrBusy) {
			return unlock, err
		}
		if time.Now().After(give) {
			return nil, fmt.Errorf("%s: %w", ev.Key, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// handleOne replicates one key of a durable intake and returns the
// outcomes that call for another delivery.
func (d *Daemon) handleOne(ctx context.Context, ev event.Event) []worker.Outcome {
	defer d.Metrics.Busy()()
	now := time.Now()
	outs := d.Worker.Sync(ctx, ev)
	e, _ := worker.Failed(outs).(*worker.Error)
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	switch {
	case e == nil:
		d.account(ev, now, nil, nil, outs, ended)
		if d.Shared != nil {
			sup, err := d.Shared.Done(qctx, ev.Bucket, ev.Key)
			if err != nil {
				d.Log.Warn("shared: forgetting an earlier failure failed", "key", ev.Key, "err", err)
			}
			d.superseded(ev.Key, sup)
		}
		return nil
	case ctx.Err() != nil || !e.Permanent():
		d.account(ev, now, nil, nil, outs, retrying)
		return e.Outcomes
	}
	record := d.Queue.Record
	if d.Shared != nil {
		record = d.Shared.Record
	}
	if err := record(qctx, ev, failures(e.Outcomes)); err != nil {
		d.Log.Error("recording a failure failed; the message will be delivered again", "key", ev.Key, "err", err)
		return e.Outcomes
	}
	d.account(ev, now, nil, nil, outs, ended)
	return nil
}
