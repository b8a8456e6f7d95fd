package daemon

import (
	"context"
	"time"
)

// retryOnRecovery makes the jobs waiting for an endpoint due at once when
// it answers again after an outage (endpoint.OnRecovery), instead of at
// the end of their backoff. While a destination is down, each job backs
// off exponentially, up to minutes, so a long outage costs few attempts;
// this is what keeps that from delaying the recovery. The source's
// recovery expedites every job. It returns a func that stops it.
func (d *Daemon) retryOnRecovery(ctx context.Context) (stop func()) {
	var cancels []func()
	for dest, ep := range d.Worker.Endpoints() {
		cancels = append(cancels, ep.OnRecovery(func(down time.Duration) {
			if ctx.Err() != nil {
				return
			}
			qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			n, err := d.Queue.Expedite(qctx, dest)
			what := "destination " + dest
			if dest == "" {
				what = "source " + d.Worker.Source().Name
			}
			if err != nil {
				d.Log.Error("queue: retrying the jobs that waited for an endpoint failed; they retry at their next backoff",
					"endpoint", ep.String(), "err", err)
				return
			}
			d.Log.Info(what+" answers again", "endpoint", ep.String(), "down", down.Round(time.Millisecond), "jobs_retried_now", n)
		}))
	}
	return func() {
		for _, c := range cancels {
			c()
		}
	}
}
