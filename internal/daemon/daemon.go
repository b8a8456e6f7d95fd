// Package daemon is `ferry run`: intakes feed events in, workers take keys
// from the durable queue and replicate them, a periodic scan catches what
// the events missed, and an HTTP server offers /events, /healthz,
// /readyz, /metrics and the status page (/).
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/intake"
	"github.com/ferry-s3/ferry/internal/metrics"
	"github.com/ferry-s3/ferry/internal/notify"
	"github.com/ferry-s3/ferry/internal/page"
	"github.com/ferry-s3/ferry/internal/queue"
	"github.com/ferry-s3/ferry/internal/shared"
	"github.com/ferry-s3/ferry/internal/worker"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Daemon is one `ferry run` process.
type Daemon struct {
	Run    config.Run // with defaults applied
	Worker *worker.Worker
	Queue  *queue.Queue
	Token  string // webhook bearer token
	// Intakes are the durable intakes (SQS, NATS): they call the worker
	// directly and ack only when it is done, so they need no local queue.
	Intakes []func(ctx context.Context) error
	// Shared, when set, is the state the processes on one JetStream
	// consumer share: the durable intakes take a key's lock before
	// replicating it, and keep failures there instead of in Queue.
	Shared *shared.Store
	Log    *slog.Logger
	// Notify sends replication notifications (failed, missed threshold);
	// nil sends none.
	Notify *notify.Notifier
	// Metrics is set by Serve if nil.
	Metrics *metrics.Metrics

	ready    atomic.Bool
	addr     atomic.Value // net.Addr, once listening
	inflight inflight
}

// init sets what Serve needs and the caller left unset.
func (d *Daemon) init() {
	if d.Metrics == nil {
		d.Metrics = metrics.New(d.backlog)
		d.Metrics.Notifications(func() (uint64, uint64, uint64) {
			s := d.Notify.Stats()
			return s.Sent, s.Failed, s.Dropped
		})
	}
	d.Metrics.Workers(d.Run.Workers)
}

// Addr is the HTTP server's address once it listens (nil before).
func (d *Daemon) Addr() net.Addr {
	a, _ := d.addr.Load().(net.Addr)
	return a
}

// Serve runs until ctx is cancelled, then shuts down in order: stop taking
// events, let copies in flight finish (up to Run.ShutdownTimeout), hand the
// rest back to the queue.
func (d *Daemon) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", d.Run.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", d.Run.Listen, err)
	}
	d.addr.Store(ln.Addr())
	d.init()
	srv := &http.Server{Handler: d.mux(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(d.Log.Handler(), slog.LevelWarn)}

	intakeCtx, stopIntakes := context.WithCancel(ctx)
	defer stopIntakes()
	var wg sync.WaitGroup
	errc := make(chan error, 2+len(d.Intakes))
	wg.Add(1)
	go func() {
		defer wg.Done()
		var err error
		if w := d.Run.Webhook; w.TLSCert != "" {
			err = srv.ServeTLS(ln, w.TLSCert, w.TLSKey)
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server: %w", err)
		}
	}()
	for _, run := range d.Intakes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(intakeCtx); err != nil && intakeCtx.Err() == nil {
				errc <- err
			}
		}()
	}
	if iv := *d.Run.ReconcileInterval; iv > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.reconcileEvery(intakeCtx, iv)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.watchThresholds(intakeCtx)
	}()
	defer d.retryOnRecovery(intakeCtx)() // recover.go: an endpoint back after an outage: its jobs are due now
	workersDone := make(chan struct{})
	go func() {
		d.work(ctx)
		close(workersDone)
	}()
	d.ready.Store(true)
	d.Log.Info("ferry is running", "listen", ln.Addr().String(), "source", d.Worker.Source().String(),
		"workers", d.Run.Workers, "data_dir", d.Run.DataDir)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
		d.Log.Error("stopping", "err", runErr)
	}
	d.ready.Store(false)
	d.Log.Info("shutting down: no new events; finishing copies in flight", "timeout", d.Run.ShutdownTimeout)
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(shutCtx)
	cancel()
	stopIntakes()
	wg.Wait()
	<-workersDone
	d.Log.Info("stopped")
	return runErr
}

func (d *Daemon) mux() *http.ServeMux {
	mux := http.NewServeMux()
	if !d.Run.Webhook.Disabled {
		mux.Handle("/events", &intake.Webhook{Token: d.Token, Queue: countedQueue{d}, Log: d.Log,
			Accept: func(ev event.Event) bool { return ev.Bucket == d.Worker.Source().Name }})
	}
	mux.Handle("/metrics", promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(d.Log.Handler(), slog.LevelWarn)}))
	mux.Handle("/", page.Handler(pageBackend{d}, d.Log))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if !d.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		if _, err := d.Queue.Counts(r.Context()); err != nil {
			http.Error(w, "queue: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}

// countedQueue counts the webhook's events once they are queued: from
// then on each is an operation pending.
type countedQueue struct{ d *Daemon }

func (c countedQueue) Add(ctx context.Context, evs []event.Event) error {
	err := c.d.Queue.Add(ctx, evs)
	if err == nil {
		c.d.Metrics.Event("webhook", len(evs))
	}
	return err
}
