package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/ferry-s3/ferry/internal/queue"
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
	outs := d.Worker.Sync(ctx, j.Event)
	err := worker.Failed(outs)
	// The queue is updated even when ctx ended: use a context of our own.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var qerr error
	switch e, _ := err.(*worker.Error); {
	case err == nil:
		qerr = d.Queue.Done(qctx, j.ID)
	case ctx.Err() != nil:
		qerr = d.Queue.Release(qctx, j.ID) // shutdown: the next start redoes it
	case e.Permanent():
		qerr = d.Queue.Fail(qctx, j.ID, reason(e))
	default:
		after := queue.Backoff(j.Attempts + 1)
		d.Log.Info("will retry", "key", j.Event.Key, "attempt", j.Attempts+1, "after", after.Round(time.Millisecond), "reason", reason(e))
		qerr = d.Queue.Retry(qctx, j.ID, after, reason(e))
	}
	if qerr != nil {
		// The job stays RUNNING in the database and is redone at the
		// next start; nothing is lost.
		d.Log.Error("queue: recording the outcome failed", "key", j.Event.Key, "err", qerr)
	}
}

// reason is the first failure's reason, prefixed with its destination.
func reason(e *worker.Error) string {
	o := e.Outcomes[0]
	if o.Dest == "" {
		return o.Failure.Reason
	}
	return o.Dest + ": " + o.Failure.Reason
}
