package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/queue"
	"github.com/ferry-s3/ferry/internal/shared"
)

type retryFlags struct {
	config, dataDir string
	match           queue.Match
	dryRun, json    bool
}

func (a *app) retryCmd() *cobra.Command {
	f := &retryFlags{}
	cmd := &cobra.Command{
		Use:   "retry --config FILE [--rule ID] [--prefix P] [--key K]",
		Short: "Re-queue FAILED operations once their cause is fixed",
		Long: `retry makes FAILED operations (see 'ferry status' and the status page) pending
again in the daemon's queue, as if their event had just arrived. Run it once the
cause is fixed: a permission granted, a bucket created, a KMS key enabled. Transient
failures (a server down, throttling) are retried automatically and need no retry.

Only the destinations that failed are tried again; what already succeeded is not
redone. The running daemon picks the operations up within a second; retry works
beside it, on its data directory (run.data_dir, or --data-dir).

With no filter every FAILED operation is re-queued; --rule, --prefix and --key
narrow it (all given must match). --dry-run lists what would be re-queued.`,
		Example: `  ferry retry --config ferry.yaml --dry-run
  ferry retry --config ferry.yaml --rule to-dr-region
  ferry retry --config ferry.yaml --prefix builds/2026/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.retry(cmd.Context(), f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "ferry YAML config (required)")
	fl.StringVar(&f.dataDir, "data-dir", "", "the daemon's data directory (default: run.data_dir of the config)")
	fl.StringVar(&f.match.Rule, "rule", "", "only operations of this rule ID")
	fl.StringVar(&f.match.Prefix, "prefix", "", "only keys under this prefix")
	fl.StringVar(&f.match.Key, "key", "", "only this key")
	fl.BoolVar(&f.dryRun, "dry-run", false, "list what would be re-queued; change nothing")
	fl.BoolVar(&f.json, "json", false, "JSON output")
	return cmd
}

type retryItem struct {
	Key      string          `json:"key"`
	Attempts int             `json:"attempts"`
	Failures []queue.Failure `json:"failures"`
}

func (a *app) retry(ctx context.Context, f *retryFlags) error {
	if f.config == "" {
		return usagef("--config is required: retry reads the daemon's data directory from it")
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		return usageError{err}
	}
	if r := f.match.Rule; r != "" && !hasRule(cfg, r) {
		return usagef("--rule %q: the config has no rule with this ID", r)
	}
	q, err := a.openFailures(ctx, cfg, f.dataDir)
	if err != nil {
		return usageError{err}
	}
	defer q.Close()
	if f.dryRun {
		n := 0
		err := q.Failed(ctx, func(j queue.Job) error {
			if !f.match.Accepts(j) {
				return nil
			}
			n++
			if f.json {
				writeJSON(a.out, retryItem{Key: j.Event.Key, Attempts: j.Attempts, Failures: j.Failures})
				return nil
			}
			fmt.Fprintf(a.out, "would retry %s (%s, %d attempts)\n", j.Event.Key, j.Reason, j.Attempts)
			return nil
		})
		if err != nil {
			return err
		}
		if !f.json {
			fmt.Fprintf(a.out, "%d FAILED keys would be re-queued (dry run: nothing changed)\n", n)
		}
		return nil
	}
	n, err := q.Requeue(ctx, f.match.Accepts)
	if err != nil {
		return err
	}
	if f.json {
		writeJSON(a.out, map[string]int{"requeued": n})
		return nil
	}
	fmt.Fprintf(a.out, "re-queued %d FAILED keys; the running daemon replicates them now (ferry status shows progress)\n", n)
	return nil
}

func hasRule(cfg *config.Config, id string) bool {
	for _, r := range cfg.Replication.Rules {
		if r.ID == id {
			return true
		}
	}
	return false
}

// failureLog is where the daemons that run a config keep their FAILED
// keys: the local queue, the state their processes share in JetStream
// (NATS intake), or both (NATS and the webhook).
type failureLog interface {
	shared.FailureLog
	Close() error
}

// openFailures opens the failure log of the daemons that run cfg. The local
// queue is opened beside the daemon, in dataDir if given, else in the
// config's run.data_dir; with a NATS intake the shared state is read too
// (unless dataDir names one process's queue), and the local queue only if
// the webhook is on.
func (a *app) openFailures(ctx context.Context, cfg *config.Config, dataDir string) (failureLog, error) {
	rc := cfg.Run.WithDefaults()
	if rc.NATS == nil || dataDir != "" {
		return queue.OpenShared(cmp.Or(dataDir, rc.DataDir))
	}
	s, err := a.openShared(ctx, rc)
	if err != nil {
		return nil, err
	}
	if rc.Webhook.Disabled {
		return s, nil
	}
	q, err := queue.OpenShared(rc.DataDir)
	if err != nil {
		// No local queue here: this machine runs no webhook daemon.
		return s, nil
	}
	return joinedLog{shared.Join(s, q), []func() error{s.Close, q.Close}}, nil
}

type joinedLog struct {
	shared.FailureLog
	closers []func() error
}

func (j joinedLog) Close() error {
	var errs []error
	for _, c := range j.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}
