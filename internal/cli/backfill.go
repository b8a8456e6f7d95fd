package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/backfill"
	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/manifest"
	"github.com/ferry-s3/ferry/internal/reconcile"
	"github.com/ferry-s3/ferry/internal/store"
	"github.com/ferry-s3/ferry/internal/worker"
)

type backfillFlags struct {
	syncFlags
	dataDir, job, report string
	restart              bool
	manifest, inventory  string
	prefix               string
	after, before        string
	status               string
	every                time.Duration
}

func (a *app) backfillCmd() *cobra.Command {
	f := &backfillFlags{}
	cmd := &cobra.Command{
		Use:   "backfill SRC DST | backfill --config FILE",
		Short: "Copy the objects that already exist, resumably, with a completion report",
		Long: `backfill copies what already exists at the source to its destinations: the job S3's
own replication leaves to Batch Replication. It decides from the listings alone (size
and ETag), so a bucket already in sync costs LIST requests only, and it lists a bucket's
folders in parallel (--list-fanout). Memory stays constant whatever the bucket's size.

With --manifest (a CSV of bucket,key[,versionId], the S3 Batch Operations format) or
--inventory (an S3 Inventory manifest.json), no bucket is listed at all: each object
named is synced with the config's rules, as an event would be (needs --config).

A backfill is a job with a checkpoint in --data-dir: kill it at any moment, run the same
command again, and it goes on after the last object it finished. A job that completed
starts a new pass when run again; --restart starts one at once.

Every object copied or failed is written to the completion report (CSV: bucket, key,
version id, destination, status COMPLETED/FAILED, S3's failure reason). Objects in
sync are counted, not listed. Nothing is ever deleted at a destination.`,
		Example: `  # Everything the config's rules cover, with a report, capped for production hours
  ferry backfill --config ferry.yaml --rate 200 --bandwidth 50MiB --report backfill.csv

  # Only objects written in 2025 under logs/, see the plan first
  ferry backfill --config ferry.yaml --prefix logs/ \
      --created-after 2025-01-01 --created-before 2026-01-01 --dry-run

  # From an S3 Inventory report: no LIST at all; only what S3 replication failed on
  ferry backfill --config ferry.yaml --replication-status FAILED \
      --inventory s3://inventory-bucket/src/daily/2026-11-20T01-00Z/manifest.json

  # Two buckets, every version in order
  ferry backfill s3://src s3://dst --src-profile a --dst-profile b --versions --delete-markers`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case f.config != "" && len(args) > 0:
				return usagef("give either SRC DST or --config, not both")
			case f.config == "" && len(args) != 2:
				return usagef("backfill needs SRC and DST (or --config FILE); see ferry backfill --help")
			}
			return a.runBackfill(cmd.Context(), f, args)
		},
	}
	f.register(cmd.Flags())
	fl := cmd.Flags()
	fl.StringVar(&f.dataDir, "data-dir", "", "where jobs keep their checkpoint and report (default: the config's run.data_dir, else ./ferry-data)")
	fl.StringVar(&f.job, "job", "", "job name (default: derived from the command, so the same command resumes the same job)")
	fl.StringVar(&f.report, "report", "", "completion report CSV (default: DATA_DIR/backfill/JOB/report.csv)")
	fl.BoolVar(&f.restart, "restart", false, "ignore the job's checkpoint and start a new pass")
	fl.StringVar(&f.manifest, "manifest", "", "CSV manifest (bucket,key[,versionId]; local path or s3://bucket/key) instead of listing")
	fl.StringVar(&f.inventory, "inventory", "", "S3 Inventory manifest.json (local path or s3://bucket/key) instead of listing")
	fl.StringVar(&f.prefix, "prefix", "", "only source keys under this prefix")
	fl.StringVar(&f.after, "created-after", "", "only objects last written after this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&f.before, "created-before", "", "only objects last written before this time (RFC 3339 or YYYY-MM-DD)")
	fl.StringVar(&f.status, "replication-status", "", "only objects whose S3 replication status is NONE (never replicated), PENDING, COMPLETED, FAILED or REPLICA (a HEAD per listed object; free with --inventory)")
	fl.DurationVar(&f.every, "checkpoint-every", time.Second, "how often the checkpoint is written")
	return cmd
}

func (a *app) runBackfill(ctx context.Context, f *backfillFlags, args []string) error {
	if err := f.validate(); err != nil {
		return err
	}
	job, err := f.jobFor(args)
	if err != nil {
		return err
	}
	opt, err := f.engineOptions()
	if err != nil {
		return err
	}
	var st reconcile.Stats
	start := time.Now()
	p := newPrinter(a.out, a.errOut, f.json, a.verbose || f.dryRun, f.dryRun)
	job.OnItem = p.item
	var res backfill.Result
	var stopProgress func()
	if f.manifest != "" || f.inventory != "" {
		w, err := a.configWorker(ctx, &f.syncFlags, opt)
		if err != nil {
			return err
		}
		in, err := f.openInput(ctx, w)
		if err != nil {
			return err
		}
		stopProgress = p.progress(&st, start, in.Progress) // bytes of the manifest read
		res, err = job.RunManifest(ctx, in, w, &st)
		stopProgress()
		return a.backfillDone(p, &st, res, err, time.Since(start), f.dryRun)
	}
	var pairs []reconcile.Pair
	if f.config != "" {
		pairs, err = a.configPairs(ctx, &f.syncFlags, opt)
	} else {
		pairs, err = a.argPairs(ctx, &f.syncFlags, opt, args[0], args[1])
	}
	if err != nil {
		return err
	}
	if f.versions {
		if err := checkVersioned(ctx, pairs); err != nil {
			return err
		}
	}
	// The last complete pass's size gives this one an ETA.
	total := job.Estimate()
	stopProgress = p.progress(&st, start, func() (int64, int64) { return st.Listed.Load(), total })
	res, err = job.RunListing(ctx, pairs, &st)
	stopProgress()
	return a.backfillDone(p, &st, res, err, time.Since(start), f.dryRun)
}

func (a *app) backfillDone(p *printer, st *reconcile.Stats, res backfill.Result, err error, took time.Duration, dryRun bool) error {
	if res.Resumed {
		a.log.Info("backfill resumed from checkpoint", "after", res.From)
	}
	p.summary(st, took, dryRun)
	if res.ReportPath != "" {
		fmt.Fprintf(a.errOut, "report: %s\n", res.ReportPath)
	}
	if err != nil {
		return fmt.Errorf("backfill stopped (run the same command again to go on): %w", err)
	}
	if n := st.Failed.Load(); n > 0 {
		return failedError{n}
	}
	return nil
}

func (f *backfillFlags) validate() error {
	if err := f.syncFlags.validate(); err != nil {
		return err
	}
	if f.manifest != "" && f.inventory != "" {
		return usagef("give --manifest or --inventory, not both")
	}
	if (f.manifest != "" || f.inventory != "") && f.config == "" {
		return usagef("--manifest and --inventory need --config (the rules say where each object goes)")
	}
	if (f.manifest != "" || f.inventory != "") && f.versions {
		return usagef("--versions comes from the listings: a manifest's entries are synced with the config's rules, versions included where both buckets are versioned")
	}
	hasFilter := f.after != "" || f.before != "" || f.status != ""
	if f.versions && hasFilter {
		return usagef("--created-after, --created-before and --replication-status apply to current objects, not with --versions")
	}
	f.status = strings.ToUpper(f.status)
	return nil
}

// jobFor builds the job: its directory, its fingerprint and its filters.
func (f *backfillFlags) jobFor(args []string) (*backfill.Job, error) {
	var filter backfill.Filter
	var err error
	filter.Prefix, filter.Status = f.prefix, f.status
	if filter.After, err = parseWhen(f.after); err != nil {
		return nil, usagef("--created-after: %v", err)
	}
	if filter.Before, err = parseWhen(f.before); err != nil {
		return nil, usagef("--created-before: %v", err)
	}
	if err := filter.Validate(); err != nil {
		return nil, usagef("--replication-status / --created-*: %v", err)
	}
	// The fingerprint is what the job copies: the same command (same
	// config content, inputs and filters) resumes the same job.
	h := sha256.New()
	fmt.Fprintf(h, "args=%q versions=%v markers=%v dry=%v manifest=%q inventory=%q filter=%+v\n",
		args, f.versions, f.markers, f.dryRun, f.manifest, f.inventory, filter)
	dataDir := f.dataDir
	if f.config != "" {
		cfgFile, err := os.Open(f.config)
		if err != nil {
			return nil, usagef("--config: %v", err)
		}
		io.Copy(h, cfgFile)
		cfgFile.Close()
		if dataDir == "" {
			if cfg, err := config.Load(f.config); err == nil {
				dataDir = cfg.Run.WithDefaults().DataDir
			}
		}
	}
	if dataDir == "" {
		dataDir = config.DefaultDataDir
	}
	fp := hex.EncodeToString(h.Sum(nil))[:16]
	name := f.job
	if name == "" {
		name = fp
	} else if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return nil, usagef("--job %q: a name, not a path", name)
	}
	return &backfill.Job{Dir: filepath.Join(dataDir, "backfill", name), Fingerprint: fp, Restart: f.restart,
		ReportPath: f.report, Filter: filter, Every: f.every,
		Engine: reconcile.Options{Concurrency: f.concurrency, DryRun: f.dryRun, Versions: f.versions,
			DeleteMarkers: f.markers, FanOut: f.fanOut}}, nil
}

// parseWhen reads RFC 3339 or a plain date (midnight UTC).
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-01-02T15:04:05Z) or a date (2026-01-02)", s)
	}
	return t, nil
}

// openInput opens the manifest or inventory; an s3:// one is read with the
// config source's credentials.
func (f *backfillFlags) openInput(ctx context.Context, w *worker.Worker) (*manifest.Input, error) {
	loc, kind := f.manifest, "csv"
	if f.inventory != "" {
		loc, kind = f.inventory, "inventory"
	}
	in, err := manifest.Open(ctx, loc, kind, s3Opener{w.Source()})
	if err != nil {
		return nil, usageError{err}
	}
	return in, nil
}

// s3Opener reads manifests through the source's endpoint.
type s3Opener struct{ src *store.Bucket }

func (o s3Opener) Open(ctx context.Context, bucket, key string) (io.ReadCloser, int64, error) {
	b := &store.Bucket{EP: o.src.EP, Name: bucket}
	return b.Open(ctx, key)
}
