package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/reconcile"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/rules"
	"github.com/ferry-s3/ferry/internal/store"
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
	cfg, err := config.Load(f.config)
	if err != nil {
		return nil, usageError{err}
	}
	if f.delete {
		return nil, usagef("--delete is not supported with --config yet: rules decide what is replicated, and deletions follow DeleteMarkerReplication in `ferry run`")
	}
	srcEP, err := a.openEndpoint(ctx, cfg.Source.Options)
	if err != nil {
		return nil, err
	}
	src := &store.Bucket{EP: srcEP, Name: cfg.Source.Bucket}
	if err := src.Check(ctx); err != nil {
		return nil, usageError{err}
	}
	var pairs []reconcile.Pair
	for _, d := range cfg.Destinations {
		dstEP, err := a.openEndpoint(ctx, d.Options)
		if err != nil {
			return nil, err
		}
		dst := &store.Bucket{EP: dstEP, Name: d.Bucket}
		if err := dst.Check(ctx); err != nil {
			return nil, usageError{err}
		}
		c, err := replicate.New(src, dst, opt)
		if err != nil {
			return nil, usagef("%v", err)
		}
		srcPrefix := commonPrefix(cfg, d)
		dstPrefix := srcPrefix
		if rw := d.KeyRewrite; rw != nil {
			// Only keys under From can be merged in order with the
			// destination listing under To.
			srcPrefix, dstPrefix = rw.From, rw.To
		}
		pairs = append(pairs, reconcile.Pair{Src: src, SrcPrefix: srcPrefix, Dst: dst, DstPrefix: dstPrefix, Copier: c,
			Select: selector(cfg, d, src)})
	}
	return pairs, nil
}

// selector returns the rule filter for one destination.
func selector(cfg *config.Config, d *config.Destination, src *store.Bucket) func(context.Context, object.Info) (*replicate.Settings, error) {
	tags := needsTags(cfg, d)
	return func(ctx context.Context, o object.Info) (*replicate.Settings, error) {
		obj := rules.Object{Key: o.Key}
		if tags {
			var err error
			if obj.Tags, err = src.Tags(ctx, o.Key, o.VersionID); err != nil {
				return nil, err
			}
		}
		for _, t := range cfg.Targets(obj) {
			if t.Dest != d {
				continue
			}
			s := &replicate.Settings{ACL: t.ACL, StorageClass: t.StorageClass}
			if e := t.Encryption; e != nil && e.Type != config.EncryptionNone {
				s.SSE, s.KMSKeyID = e.Type, e.KMSKeyID
			}
			return s, nil
		}
		return nil, nil
	}
}

// needsTags reports whether any enabled rule for d filters on tags.
func needsTags(cfg *config.Config, d *config.Destination) bool {
	for _, r := range cfg.Replication.Rules {
		if !r.Enabled() || r.Destination.BucketName() != d.Bucket || r.Filter == nil {
			continue
		}
		if r.Filter.Tag != nil || (r.Filter.And != nil && len(r.Filter.And.Tags) > 0) {
			return true
		}
	}
	return false
}

// commonPrefix is the longest prefix shared by the enabled rules sending to
// d, so the listing covers only what they can select.
func commonPrefix(cfg *config.Config, d *config.Destination) string {
	first, p := true, ""
	for _, r := range cfg.Replication.Rules {
		if !r.Enabled() || r.Destination.BucketName() != d.Bucket {
			continue
		}
		k := r.KeyPrefix()
		if first {
			p, first = k, false
			continue
		}
		for !strings.HasPrefix(k, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}
