package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/location"
	"github.com/ferry-s3/ferry/internal/reconcile"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/store"
)

type syncFlags struct {
	src, dst    endpoint.Options
	pathStyle   string
	checksums   string
	config      string
	delete      bool
	versions    bool
	markers     bool
	dryRun      bool
	json        bool
	concurrency int
	partSize    string
	memory      string
	serverSide  bool
	settings    replicate.Settings
	rate        float64 // requests/s per endpoint
	bandwidth   string  // bytes/s read from sources
	fanOut      int     // key ranges listed at once per bucket
}

func (a *app) syncCmd() *cobra.Command {
	f := &syncFlags{}
	cmd := &cobra.Command{
		Use:   "sync SRC DST | sync --config FILE",
		Short: "Copy what is missing or changed from SRC to DST, once",
		Long: `sync copies every object of SRC that is missing or different at DST, faithfully:
body, Content-* headers, Cache-Control, Expires, user metadata, tags, storage class,
object lock (where DST supports it), with DST's encryption and ACL settings.

SRC and DST are s3://bucket[/prefix] or a local directory (push a build folder,
pull a bucket). A prefix is a folder: s3://b/logs means the keys under logs/.

Within one endpoint and account the server copies the bytes (CopyObject); otherwise
they stream through ferry in parts (--part-size), with memory bounded by --memory.
Every copy is verified (Content-MD5 per part, ETag of the whole) and records its
origin in user metadata, so a second run copies nothing.

Nothing is ever deleted at DST unless --delete is given. --dry-run prints the plan.`,
		Example: `  # Two MinIO servers with different credentials (profiles in ~/.aws/config)
  ferry sync s3://builds s3://builds-dr --src-profile site-a --dst-profile site-b

  # Re-encrypt for the destination's KMS key, hand ownership to the bucket owner
  ferry sync s3://artifacts/app s3://deploy-eu/app --dst-profile eu \
      --sse aws:kms --sse-kms-key-id alias/deploy --acl bucket-owner-full-control

  # Push a build folder, removing files that are gone; see the plan first
  ferry sync ./dist s3://www --delete --dry-run

  # Apply the rules of a config file (AWS ReplicationConfiguration + ferry's extensions)
  ferry sync --config ferry.yaml --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case f.config != "" && len(args) > 0:
				return usagef("give either SRC DST or --config, not both")
			case f.config == "" && len(args) != 2:
				return usagef("sync needs SRC and DST (or --config FILE); see ferry sync --help")
			}
			return a.runSync(cmd.Context(), f, args)
		},
	}
	f.register(cmd.Flags())
	cmd.Flags().BoolVar(&f.delete, "delete", false, "delete DST objects that are absent at SRC (never without this flag)")
	return cmd
}

// register adds the flags sync and backfill share: endpoints, the copy
// engine, the copies' settings and the limits.
func (f *syncFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&f.src.Profile, "src-profile", "", "AWS shared-config profile for SRC (default: the default credential chain)")
	fl.StringVar(&f.dst.Profile, "dst-profile", "", "AWS shared-config profile for DST")
	fl.StringVar(&f.src.EndpointURL, "src-endpoint-url", "", "override SRC's endpoint URL (non-AWS servers)")
	fl.StringVar(&f.dst.EndpointURL, "dst-endpoint-url", "", "override DST's endpoint URL")
	fl.StringVar(&f.src.Region, "src-region", "", "override SRC's region")
	fl.StringVar(&f.dst.Region, "dst-region", "", "override DST's region")
	fl.StringVar(&f.pathStyle, "path-style", "auto", "addressing: auto (path-style for non-AWS endpoints), on, off")
	fl.StringVar(&f.checksums, "checksums", "auto", "request checksums: auto (when_required for non-AWS), when_required, when_supported")
	fl.StringVar(&f.config, "config", "", "apply the rules of a ferry YAML config instead of SRC DST")
	fl.BoolVar(&f.versions, "versions", false, "copy every version of each object, oldest first (DST must have versioning enabled)")
	fl.BoolVar(&f.markers, "delete-markers", false, "with --versions, also replay delete markers")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print what would be copied or deleted; change nothing")
	fl.BoolVar(&f.json, "json", false, "print JSON lines (one per object acted on, then a summary) for scripts")
	fl.IntVar(&f.concurrency, "concurrency", 16, "objects copied in parallel")
	fl.StringVar(&f.partSize, "part-size", "16MiB", "multipart part size for large objects")
	fl.StringVar(&f.memory, "memory", "256MiB", "upper bound on object data held in memory at once")
	fl.BoolVar(&f.serverSide, "server-side", true, "let the server copy when SRC and DST share endpoint and credentials")
	fl.StringVar(&f.settings.ACL, "acl", "", "canned ACL for the copies, e.g. bucket-owner-full-control")
	fl.StringVar(&f.settings.StorageClass, "storage-class", "", "storage class for the copies (default: the source's)")
	fl.StringVar(&f.settings.SSE, "sse", "", "encryption at DST: aws:kms, AES256 or none (default: DST bucket's default)")
	fl.StringVar(&f.settings.KMSKeyID, "sse-kms-key-id", "", "KMS key id, ARN or alias for --sse aws:kms")
	fl.Float64Var(&f.rate, "rate", 0, "at most this many requests per second to each endpoint (0: no limit)")
	fl.StringVar(&f.bandwidth, "bandwidth", "", "at most this many bytes per second read from the source, e.g. 50MiB (default: no limit)")
	fl.IntVar(&f.fanOut, "list-fanout", 8, "key ranges (folders) of a bucket listed in parallel")
}

func (a *app) runSync(ctx context.Context, f *syncFlags, args []string) error {
	if err := f.validate(); err != nil {
		return err
	}
	opt, err := f.engineOptions()
	if err != nil {
		return err
	}
	var pairs []reconcile.Pair
	if f.config != "" {
		pairs, err = a.configPairs(ctx, f, opt)
	} else {
		pairs, err = a.argPairs(ctx, f, opt, args[0], args[1])
	}
	if err != nil {
		return err
	}
	if f.versions {
		if err := checkVersioned(ctx, pairs); err != nil {
			return err
		}
	}
	return a.reconcile(ctx, pairs, reconcile.Options{Concurrency: f.concurrency, Delete: f.delete, DryRun: f.dryRun,
		Versions: f.versions, DeleteMarkers: f.markers, FanOut: f.fanOut}, f.json)
}

func (f *syncFlags) validate() error {
	switch f.settings.SSE {
	case "", "AES256", "aws:kms":
	case "none":
		f.settings.SSE = ""
	default:
		return usagef("--sse %q: want aws:kms, AES256 or none", f.settings.SSE)
	}
	if f.settings.KMSKeyID != "" && f.settings.SSE != "aws:kms" {
		return usagef("--sse-kms-key-id needs --sse aws:kms")
	}
	if f.versions && f.delete {
		return usagef("--versions and --delete cannot be combined: replay delete markers with --delete-markers instead")
	}
	if f.markers && !f.versions {
		return usagef("--delete-markers needs --versions")
	}
	if f.markers && f.config != "" {
		return usagef("--delete-markers does not apply with --config: each rule's DeleteMarkerReplication decides")
	}
	if f.concurrency < 1 {
		return usagef("--concurrency must be at least 1")
	}
	if f.rate < 0 {
		return usagef("--rate must not be negative")
	}
	if f.fanOut < 1 {
		return usagef("--list-fanout must be at least 1")
	}
	for _, o := range []*endpoint.Options{&f.src, &f.dst} {
		o.RequestsPerSecond = f.rate
		switch f.pathStyle {
		case "auto":
		case "on", "off":
			v := f.pathStyle == "on"
			o.PathStyle = &v
		default:
			return usagef("--path-style %q: want auto, on or off", f.pathStyle)
		}
		switch f.checksums {
		case "auto":
		case "when_required", "when_supported":
			o.Checksums = f.checksums
		default:
			return usagef("--checksums %q: want auto, when_required or when_supported", f.checksums)
		}
	}
	return nil
}

// checkVersioned makes sure --versions has versioned buckets on both sides:
// on an unversioned destination each version would overwrite the last.
func checkVersioned(ctx context.Context, pairs []reconcile.Pair) error {
	for _, p := range pairs {
		for _, s := range []store.Store{p.Src, p.Dst} {
			b, ok := s.(*store.Bucket)
			if !ok {
				return usagef("--versions needs buckets on both sides, not a local directory")
			}
			on, err := b.Versioned(ctx)
			if err != nil {
				return usageError{err}
			}
			if !on && s == p.Dst {
				return usagef("--versions: versioning is not enabled on %s (each version would overwrite the last); enable it first", b)
			}
		}
	}
	return nil
}

func (f *syncFlags) engineOptions() (replicate.Options, error) {
	ps, err := parseSize(f.partSize)
	if err != nil {
		return replicate.Options{}, usagef("--part-size: %v", err)
	}
	mem, err := parseSize(f.memory)
	if err != nil {
		return replicate.Options{}, usagef("--memory: %v", err)
	}
	if ps < 5<<20 || ps > 5<<30 {
		return replicate.Options{}, usagef("--part-size %s: must be between 5MiB and 5GiB", f.partSize)
	}
	var bps int64
	if f.bandwidth != "" {
		if bps, err = parseSize(f.bandwidth); err != nil {
			return replicate.Options{}, usagef("--bandwidth: %v", err)
		}
	}
	return replicate.Options{PartSize: ps, Memory: mem, ServerSide: f.serverSide, BytesPerSecond: bps}, nil
}

// argPairs builds the one pair of `ferry sync SRC DST`.
func (a *app) argPairs(ctx context.Context, f *syncFlags, opt replicate.Options, srcArg, dstArg string) ([]reconcile.Pair, error) {
	srcLoc, err := location.Parse(srcArg)
	if err != nil {
		return nil, usagef("SRC %v", err)
	}
	dstLoc, err := location.Parse(dstArg)
	if err != nil {
		return nil, usagef("DST %v", err)
	}
	if !srcLoc.IsS3() && !dstLoc.IsS3() {
		return nil, usagef("SRC and DST are both local directories: use cp or rsync")
	}
	src, err := a.openStore(ctx, srcLoc, f.src, true)
	if err != nil {
		return nil, err
	}
	dst, err := a.openStore(ctx, dstLoc, f.dst, false)
	if err != nil {
		return nil, err
	}
	c, err := replicate.New(src, dst, opt)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return []reconcile.Pair{{Src: src, SrcPrefix: srcLoc.Prefix, Dst: dst, DstPrefix: dstLoc.Prefix, Copier: c, Settings: f.settings}}, nil
}

// openStore opens a location: for a bucket, its endpoint (failing early on
// a bad profile) and a check that the bucket exists.
func (a *app) openStore(ctx context.Context, loc location.Location, o endpoint.Options, isSrc bool) (store.Store, error) {
	if !loc.IsS3() {
		if isSrc {
			if err := checkDir(loc.Dir); err != nil {
				return nil, usagef("SRC %v", err)
			}
		}
		return &store.Dir{Root: loc.Dir}, nil
	}
	ep, err := a.openEndpoint(ctx, o)
	if err != nil {
		return nil, err
	}
	b := &store.Bucket{EP: ep, Name: loc.Bucket}
	if err := b.Check(ctx); err != nil {
		return nil, usageError{err}
	}
	return b, nil
}

func (a *app) openEndpoint(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error) {
	ep, err := endpoint.Open(ctx, o)
	if err != nil {
		return nil, usageError{err}
	}
	a.out.Add(ep.Secrets()...)
	a.errOut.Add(ep.Secrets()...)
	a.log.Info("endpoint ready", "endpoint", ep.String())
	return ep, nil
}

// reconcile runs the pairs and prints the outcome: one line (or JSON
// object) per object acted on or failed, a live progress line on a
// terminal, and a summary.
func (a *app) reconcile(ctx context.Context, pairs []reconcile.Pair, ro reconcile.Options, asJSON bool) error {
	start := time.Now()
	var st reconcile.Stats
	p := newPrinter(a.out, a.errOut, asJSON, a.verbose || ro.DryRun, ro.DryRun)
	ro.Report = p.item
	stopProgress := p.progress(&st, start, nil)
	err := reconcile.Run(ctx, pairs, ro, &st)
	stopProgress()
	p.summary(&st, time.Since(start), ro.DryRun)
	if err != nil {
		return fmt.Errorf("sync stopped: %w", err)
	}
	if n := st.Failed.Load(); n > 0 {
		return failedError{n}
	}
	return nil
}
