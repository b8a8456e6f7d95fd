package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/reconcile"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/worker"
)

func (a *app) configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "config",
		Short:   "Check ferry's YAML configuration",
		Example: "  ferry config validate examples/ferry.yaml",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE",
		Short: "Validate a ferry YAML config (and the AWS replication JSON it names), offline",
		Long: `validate reads FILE, the AWS ReplicationConfiguration it wraps, and checks them with
AWS's rules and ferry's: every problem is listed with the rule and field it concerns.
It does not contact any endpoint.`,
		Example: `  ferry config validate ferry.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(args[0])
			if err != nil {
				// All problems, one per line: this command exists to list them.
				fmt.Fprintln(a.errOut, err)
				return usagef("%s is not valid", args[0])
			}
			n := 0
			for _, r := range cfg.Replication.Rules {
				if r.Enabled() {
					n++
				}
			}
			fmt.Fprintf(a.out, "%s: valid: source %s, %d destination(s), %d enabled rule(s)\n",
				args[0], cfg.Source.Bucket, len(cfg.Destinations), n)
			return nil
		},
	})
	return cmd
}

// configPairs builds one pair per destination of a config: the source
// listing is merged with each destination's, and rule filters select the
// objects (tags are fetched only when a rule filters on them).
func (a *app) configPairs(ctx context.Context, f *syncFlags, opt replicate.Options) ([]reconcile.Pair, error) {
	if f.delete {
		return nil, usagef("--delete is not supported with --config yet: rules decide what is replicated, and deletions follow DeleteMarkerReplication in `ferry run`")
	}
	w, err := a.configWorker(ctx, f, opt)
	if err != nil {
		return nil, err
	}
	return w.Pairs(), nil
}

// configWorker loads f.config and opens its endpoints, each capped at
// f.rate requests per second where the config sets no cap of its own.
func (a *app) configWorker(ctx context.Context, f *syncFlags, opt replicate.Options) (*worker.Worker, error) {
	cfg, err := config.Load(f.config)
	if err != nil {
		return nil, usageError{err}
	}
	open := func(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error) {
		if o.RequestsPerSecond == 0 {
			o.RequestsPerSecond = f.rate
		}
		return a.openEndpoint(ctx, o)
	}
	w, err := worker.New(ctx, cfg, open, opt, a.log)
	if err != nil {
		return nil, asUsage(err)
	}
	return w, nil
}
