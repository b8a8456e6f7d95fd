package cli

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/daemon"
	"github.com/ferry-s3/ferry/internal/intake"
	"github.com/ferry-s3/ferry/internal/notify"
	"github.com/ferry-s3/ferry/internal/queue"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/worker"
)

type runFlags struct {
	config, listen, dataDir string
	workers                 int
}

func (a *app) runCmd() *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Replicate continuously, from S3 event notifications (webhook, SQS, NATS)",
		Long: `run is ferry's daemon. It receives S3 event notifications and replicates each
object they name to the destinations the config's rules send it to:

  webhook  POST /events, for MinIO, Ceph RGW and versitygw notification targets
           (bearer token from $FERRY_WEBHOOK_TOKEN or run.webhook in the config;
           required when listening beyond loopback, unless
           run.webhook.allow_unauthenticated; HTTPS with run.webhook.tls_cert/tls_key);
           answered 200 only once the events are in the durable queue
  SQS      run.sqs.queue_url: S3 -> SQS notifications (AWS); a message is deleted
           only when its work is done
  NATS     run.nats: MinIO's NATS JetStream target; acked when done

Events only name keys: what is copied (or deleted) comes from the buckets' current
state, so duplicate, late and reordered events are harmless. Every
run.reconcile_interval (default 1h, and at start) the whole source is compared with
the destinations, and what the events missed is queued.

The queue lives in run.data_dir (SQLite). Killing ferry at any moment loses
nothing: on restart, unfinished work is redone. SIGTERM lets copies in flight
finish (run.shutdown_timeout) and hands the rest back to the queue.

Every operation's status is kept: 'ferry status' shows it, 'ferry retry' re-queues
what FAILED. Operations slower than their rule's replication time threshold
(replication_time, default 15m) or failed are sent as S3 replication events to the
notifications targets (webhook, SQS, SNS).

HTTP: /events, / (the status page), /metrics (Prometheus), /healthz (process alive),
/readyz (queue open, intakes running). Keep the listen address private.`,
		Example: `  FERRY_WEBHOOK_TOKEN=s3cret ferry run --config ferry.yaml
  FERRY_WEBHOOK_TOKEN=s3cret ferry run --config ferry.yaml --listen 0.0.0.0:8443 --data-dir /var/lib/ferry`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.run(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "ferry YAML config (required)")
	fl.StringVar(&f.listen, "listen", "", "HTTP address (overrides run.listen; default "+config.DefaultListen+")")
	fl.StringVar(&f.dataDir, "data-dir", "", "directory of the durable queue (overrides run.data_dir; default ./"+config.DefaultDataDir+")")
	fl.IntVar(&f.workers, "workers", 0, "keys replicated at once (overrides run.workers; default 16)")
	return cmd
}

func (a *app) run(ctx context.Context, f *runFlags) error {
	if f.config == "" {
		return usagef("--config is required: ferry run needs the source, destinations and rules")
	}
	if a.logLevel == "" && !a.verbose {
		// A daemon's log is its only output: say what it does.
		a.log = slog.New(slog.NewTextHandler(a.errOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		return usageError{err}
	}
	rc := cfg.Run.WithDefaults()
	if f.listen != "" {
		rc.Listen = f.listen
	}
	if f.dataDir != "" {
		rc.DataDir = f.dataDir
	}
	if f.workers > 0 {
		rc.Workers = f.workers
	}
	token := rc.Webhook.Token
	if v := os.Getenv(rc.Webhook.TokenEnv); v != "" {
		token = v
	}
	a.out.Add(token)
	a.errOut.Add(token)
	if wh := rc.Webhook; !wh.Disabled {
		if err := intake.CheckExposure(rc.Listen, token, wh.AllowUnauthenticated); err != nil {
			return usagef("%s: run.webhook: %v", f.config, err)
		}
		switch {
		case token == "":
			a.log.Warn("the webhook accepts events from anyone: set " + wh.TokenEnv + " (or run.webhook.token) to require a bearer token")
		case wh.TLSCert == "" && !intake.Loopback(rc.Listen):
			a.log.Warn("the webhook's bearer token crosses the network in clear text: set run.webhook.tls_cert and tls_key, or put a TLS proxy in front", "listen", rc.Listen)
		}
	}

	// Same endpoint and credentials: the server copies, no bytes pass here.
	w, err := worker.New(ctx, cfg, a.openEndpoint, replicate.Options{ServerSide: true}, a.log)
	if err != nil {
		return asUsage(err)
	}
	q, err := queue.Open(rc.DataDir)
	if err != nil {
		return usageError{err}
	}
	defer q.Close()
	n, err := notify.New(ctx, cfg.Notifications, a.openEndpoint, a.log.With("part", "notify"))
	if err != nil {
		return asUsage(err)
	}
	a.out.Add(n.Secrets()...)
	a.errOut.Add(n.Secrets()...)
	defer func() {
		// Notifications still buffered get a few seconds to go out.
		nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		n.Close(nctx)
	}()
	d := &daemon.Daemon{Run: rc, Worker: w, Queue: q, Token: token, Notify: n, Log: a.log}
	if d.Shared, err = a.openShared(ctx, rc); err != nil {
		return err
	}
	if d.Shared != nil {
		defer d.Shared.Close()
	}
	if d.Intakes, err = a.durableIntakes(ctx, rc, d.Handle); err != nil {
		return err
	}
	return d.Serve(ctx)
}
