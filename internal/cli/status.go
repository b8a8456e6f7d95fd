package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/queue"
	"github.com/ferry-s3/ferry/internal/worker"
)

// Replication statuses, as S3 names them; NONE: no rule replicates it.
const (
	statusPending   = "PENDING"
	statusCompleted = "COMPLETED"
	statusFailed    = "FAILED"
	statusReplica   = "REPLICA"
	statusNone      = "NONE"
)

type statusFlags struct {
	config, dataDir, versionID, prefix string
	json                               bool
}

func (a *app) statusCmd() *cobra.Command {
	f := &statusFlags{}
	cmd := &cobra.Command{
		Use:   "status --config FILE s3://BUCKET/KEY | --prefix P",
		Short: "Show an object's replication status at each destination",
		Long: `status tells, for one object (or every object under --prefix), whether each
destination the config's rules send it to holds its replica, as S3 replication
names it:

  COMPLETED  the destination holds a replica of this version (with the time it took:
             the replica's write time minus the source's)
  PENDING    not replicated yet: queued, being retried after a transient failure
             (attempts and the last reason are shown), or not yet seen
  FAILED     failed for good (reason in S3's vocabulary, attempts, since when, and
             what to do); fix the cause, then run 'ferry retry'
  REPLICA    the object is itself a replica ferry wrote; it is never replicated again
  NONE       no enabled rule replicates it

The object's status is COMPLETED only when every destination's is; FAILED if any
failed; PENDING otherwise. The replicas are read from the buckets; attempts and
reasons come from the daemon's queue in the data directory (run.data_dir, or
--data-dir), read beside a running daemon. Nothing is changed.`,
		Example: `  ferry status --config ferry.yaml s3://artifacts/builds/app-1.4.2.tar.gz
  ferry status --config ferry.yaml s3://artifacts/report.pdf --version-id 3HL4kqtJlcpXroDTDmJ
  ferry status --config ferry.yaml --prefix builds/ --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.status(cmd.Context(), f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "ferry YAML config (required)")
	fl.StringVar(&f.dataDir, "data-dir", "", "the daemon's data directory (default: run.data_dir of the config)")
	fl.StringVar(&f.versionID, "version-id", "", "a version of the object (default: the current one)")
	fl.StringVar(&f.prefix, "prefix", "", "every object of the source under this prefix (instead of one object)")
	fl.BoolVar(&f.json, "json", false, "one JSON object per object")
	return cmd
}

// keyStatus is one object's status, as printed.
type keyStatus struct {
	Bucket       string       `json:"bucket"`
	Key          string       `json:"key"`
	VersionID    string       `json:"version_id,omitempty"`
	Size         int64        `json:"size"`
	LastModified time.Time    `json:"last_modified,omitzero"`
	Status       string       `json:"status"`
	Note         string       `json:"note,omitempty"`
	Origin       string       `json:"origin,omitempty"` // for a REPLICA: what it is a replica of
	Destinations []destStatus `json:"destinations"`
}

type destStatus struct {
	Rule     string    `json:"rule"`
	Bucket   string    `json:"bucket"`
	Key      string    `json:"key"`
	Status   string    `json:"status"`
	Took     float64   `json:"took_seconds,omitempty"` // COMPLETED: replica write time minus the source's
	Attempts int       `json:"attempts,omitempty"`
	Reason   string    `json:"reason,omitempty"` // S3's failure reason
	Detail   string    `json:"detail,omitempty"`
	Fix      string    `json:"fix,omitempty"`
	Since    time.Time `json:"since,omitzero"` // first failure
	Why      string    `json:"why,omitempty"`  // why the replica is not there yet
}

func (a *app) status(ctx context.Context, f *statusFlags, args []string) error {
	if f.config == "" {
		return usagef("--config is required: status needs the source, destinations and rules")
	}
	if (len(args) == 1) == (f.prefix != "") {
		return usagef("give one object (s3://BUCKET/KEY) or --prefix, not both")
	}
	cfg, err := config.Load(f.config)
	if err != nil {
		return usageError{err}
	}
	var key string
	if len(args) == 1 {
		rest, ok := strings.CutPrefix(args[0], "s3://")
		bucket, k, _ := strings.Cut(rest, "/")
		if !ok || bucket == "" || k == "" {
			return usagef("%q: want s3://BUCKET/KEY (the key as it is, not URL-encoded)", args[0])
		}
		if bucket != cfg.Source.Bucket {
			return usagef("%s is not the config's source bucket (%s): status reads objects of the source", bucket, cfg.Source.Bucket)
		}
		key = k
	} else if f.versionID != "" {
		return usagef("--version-id goes with one object, not --prefix")
	}
	w, err := worker.Inspect(ctx, cfg, a.openEndpoint, a.log)
	if err != nil {
		return asUsage(err)
	}
	q, err := a.openFailures(ctx, cfg, f.dataDir)
	if err != nil {
		// Without the daemon's queue the buckets still tell what is
		// replicated; only attempts and reasons are missing.
		a.log.Warn("attempts and failure reasons unknown", "err", err)
		q = nil
	} else {
		defer q.Close()
	}
	st := statusReader{w: w, q: q}
	if key != "" {
		ks, err := st.read(ctx, key, f.versionID)
		if err != nil {
			return err
		}
		a.printStatus(ks, f.json)
		return nil
	}
	return st.each(ctx, f.prefix, func(ks keyStatus) { a.printStatus(ks, f.json) })
}

type statusReader struct {
	w *worker.Worker
	q failureLog // nil: no failure log to read
}

// read combines what the buckets say with what the queue knows.
func (s statusReader) read(ctx context.Context, key, versionID string) (keyStatus, error) {
	src := s.w.Source().Name
	ks := keyStatus{Bucket: src, Key: key, Destinations: []destStatus{}}
	bs, err := s.w.Status(ctx, key, versionID)
	if err != nil {
		return ks, fmt.Errorf("status of s3://%s/%s: %w", src, key, err)
	}
	ks.VersionID, ks.Size, ks.LastModified = bs.VersionID, bs.Size, bs.LastModified
	switch {
	case !bs.Exists:
		ks.Status, ks.Note = statusNone, "no such object at the source (deleted, or never written)"
		return ks, nil
	case bs.Origin != nil:
		ks.Status, ks.Origin = statusReplica, origin(bs.Origin)
		return ks, nil
	case len(bs.Dests) == 0:
		ks.Status, ks.Note = statusNone, "no enabled rule replicates this key"
		return ks, nil
	}
	var jobs []queue.Job
	if s.q != nil {
		if jobs, err = s.q.Key(ctx, src, key); err != nil {
			return ks, err
		}
	}
	for _, d := range bs.Dests {
		ks.Destinations = append(ks.Destinations, destState(d, jobs))
	}
	ks.Status = aggregate(ks.Destinations)
	return ks, nil
}

// destState is one destination's status: the bucket's replica first (it
// is the truth), then the queue's record of why it is not there yet.
func destState(d worker.DestStatus, jobs []queue.Job) destStatus {
	ds := destStatus{Rule: d.Rule, Bucket: d.Dest, Key: d.DstKey}
	if d.InSync {
		ds.Status, ds.Took = statusCompleted, d.Took.Seconds()
		return ds
	}
	ds.Status, ds.Why = statusPending, d.Why
	if d.Err != nil {
		ds.Why = "cannot read the destination: " + failure.Classify(d.Err).Reason + ": " + oneLine(d.Err)
	}
	for _, j := range jobs {
		if !j.Owes(d.Dest) {
			continue
		}
		f, ok := failureFor(j, d.Dest)
		if j.State == queue.Failed {
			if !ok {
				continue
			}
			ds.Status = statusFailed
		}
		ds.Attempts, ds.Since = j.Attempts, j.FirstFailed
		if ok {
			ds.Reason, ds.Detail, ds.Fix = f.Reason, f.Detail, failure.Fix(f.Reason)
		}
		if j.State == queue.Failed {
			break // FAILED wins over a pending job of the key
		}
	}
	return ds
}

func failureFor(j queue.Job, dest string) (queue.Failure, bool) {
	for _, f := range j.Failures {
		if f.Dest == dest || f.Dest == "" {
			return f, true
		}
	}
	return queue.Failure{}, false
}

// aggregate is the object's status as S3 defines it: COMPLETED only when
// every destination is, FAILED when any failed, else PENDING.
func aggregate(ds []destStatus) string {
	all := statusCompleted
	for _, d := range ds {
		switch d.Status {
		case statusFailed:
			return statusFailed
		case statusPending:
			all = statusPending
		}
	}
	return all
}

func origin(o *object.Origin) string {
	if o.Bucket == "" {
		return "written by S3 replication"
	}
	s := "s3://" + o.Bucket + "/" + o.Key
	if o.VersionID != "" {
		s += " version " + o.VersionID
	}
	return s
}

// each reads the status of every source object under prefix, a few at a
// time, and calls fn in key order.
func (s statusReader) each(ctx context.Context, prefix string, fn func(keyStatus)) error {
	const batch = 64
	var keys []string
	flush := func() error {
		out := make([]keyStatus, len(keys))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(16)
		for i, k := range keys {
			g.Go(func() (err error) {
				out[i], err = s.read(gctx, k, "")
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for _, ks := range out {
			fn(ks)
		}
		keys = keys[:0]
		return nil
	}
	err := s.w.Source().List(ctx, prefix, "", func(o object.Info) error {
		keys = append(keys, o.Key)
		if len(keys) == batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

func (a *app) printStatus(ks keyStatus, asJSON bool) {
	if asJSON {
		writeJSON(a.out, ks)
		return
	}
	printStatusText(a.out, ks)
}

func printStatusText(w io.Writer, ks keyStatus) {
	head := "s3://" + ks.Bucket + "/" + ks.Key
	if ks.VersionID != "" {
		head += "  version " + ks.VersionID
	}
	if ks.Size > 0 || ks.Status != statusNone {
		head += "  " + humanBytes(ks.Size)
	}
	fmt.Fprintf(w, "%s  %s\n", head, ks.Status)
	switch {
	case ks.Origin != "":
		fmt.Fprintf(w, "  replica of %s: replicas are not replicated again\n", ks.Origin)
	case ks.Note != "":
		fmt.Fprintf(w, "  %s\n", ks.Note)
	}
	for _, d := range ks.Destinations {
		line := fmt.Sprintf("  rule %s -> s3://%s/%s  %s", d.Rule, d.Bucket, d.Key, d.Status)
		var facts []string
		if d.Status == statusCompleted {
			facts = append(facts, "took "+(time.Duration(d.Took*float64(time.Second))).Round(time.Millisecond).String())
		}
		if d.Reason != "" {
			facts = append(facts, d.Reason)
		}
		if d.Attempts > 0 {
			facts = append(facts, fmt.Sprintf("%d attempts", d.Attempts))
		}
		if !d.Since.IsZero() {
			facts = append(facts, "failing since "+d.Since.UTC().Format(time.RFC3339))
		}
		if d.Status == statusPending && d.Reason == "" {
			facts = append(facts, d.Why)
		}
		if len(facts) > 0 {
			line += "  (" + strings.Join(facts, ", ") + ")"
		}
		fmt.Fprintln(w, line)
		if d.Detail != "" {
			fmt.Fprintf(w, "      error: %s\n", d.Detail)
		}
		if d.Fix != "" {
			fmt.Fprintf(w, "      fix:   %s\n", d.Fix)
		}
	}
}
