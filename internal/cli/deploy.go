package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ferry-s3/ferry/internal/cdn"
	"github.com/ferry-s3/ferry/internal/deploy"
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/location"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/store"
)

type deployFlags struct {
	dst          endpoint.Options
	cdnProfile   string
	settings     replicate.Settings
	cacheControl []string
	noDefaults   bool
	delete       bool
	dryRun, json bool
	concurrency  int
	invalidate   string
	wait         bool
	maxPaths     int
	originPath   string
	all          bool
}

func (a *app) deployCmd() *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "deploy DIR s3://BUCKET[/PREFIX]",
		Short: "Publish a build folder to a bucket, and invalidate the CDN",
		Long: `deploy uploads the files of DIR whose content the bucket does not already hold
(MD5 against the ETag, or against the MD5 a previous deploy recorded), in an order that
never breaks the site: assets first, then the HTML pages that reference them, then,
with --delete, the files DIR no longer has. If an upload fails, nothing after it is
done. Nothing changed: nothing uploaded, no invalidation.

Content-Type comes from the extension (a table of web types: .js, .css, .svg, .wasm,
.woff2, .webmanifest, ...). Cache-Control comes from --cache-control GLOB=VALUE rules,
first match wins, then the defaults: *.html "no-cache" (a deploy shows at once), files
whose names carry a content hash (app.3f2a9c1b.js, index-BxQ3k9aZ.js) "public,
max-age=31536000, immutable". A glob without "/" matches a file name in any folder; with
"/", the path from DIR's root, "**" for any folders.

--invalidate DISTRIBUTION_ID creates one CloudFront invalidation for the keys written or
removed (an index.html also invalidates its folder's path), collapsed to folder
wildcards over --invalidate-max-paths, "/*" as the last resort. Its caller reference is
derived from the content, so running the same deploy again creates no second
invalidation. --wait waits until CloudFront reports it Completed.`,
		Example: `  ferry deploy ./dist s3://www --delete --dry-run
  ferry deploy ./dist s3://www --profile prod --delete --invalidate E2QWRUHEXAMPLE --wait
  ferry deploy ./build s3://static/app --cache-control 'assets/**=public, max-age=86400'`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.deploy(cmd.Context(), f, args[0], args[1])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.dst.Profile, "profile", "", "AWS shared-config profile for the bucket (default: the default credential chain)")
	fl.StringVar(&f.dst.EndpointURL, "endpoint-url", "", "override the bucket's endpoint URL (non-AWS servers)")
	fl.StringVar(&f.dst.Region, "region", "", "override the bucket's region")
	fl.StringArrayVar(&f.cacheControl, "cache-control", nil, "GLOB=VALUE: Cache-Control for the files GLOB matches (repeatable; first match wins)")
	fl.BoolVar(&f.noDefaults, "no-default-cache-control", false, "do not add the default rules (HTML no-cache, hashed assets immutable)")
	fl.BoolVar(&f.delete, "delete", false, "remove keys under the prefix that DIR does not have, after the upload")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print what would be uploaded, deleted and invalidated; change nothing")
	fl.BoolVar(&f.json, "json", false, "print JSON lines (one per change, then a summary)")
	fl.IntVar(&f.concurrency, "concurrency", 16, "files uploaded in parallel")
	fl.StringVar(&f.settings.ACL, "acl", "", "canned ACL for the uploads, e.g. public-read")
	fl.StringVar(&f.settings.SSE, "sse", "", "encryption: aws:kms, AES256 (default: the bucket's default)")
	fl.StringVar(&f.settings.KMSKeyID, "sse-kms-key-id", "", "KMS key for --sse aws:kms")
	fl.StringVar(&f.invalidate, "invalidate", "", "CloudFront distribution ID to invalidate the changed paths of")
	fl.BoolVar(&f.wait, "wait", false, "with --invalidate, wait until the invalidation is Completed")
	fl.IntVar(&f.maxPaths, "invalidate-max-paths", cdn.DefaultMaxPaths, "more changed paths than this are collapsed to folder wildcards (/* at most)")
	fl.StringVar(&f.originPath, "cdn-origin-path", "", "the bucket prefix the distribution serves as / (its origin path; default: the bucket's root)")
	fl.StringVar(&f.cdnProfile, "cdn-profile", "", "AWS profile for CloudFront (default: --profile)")
	fl.BoolVar(&f.all, "invalidate-all", false, "invalidate /* even if nothing changed (after a deploy whose invalidation failed)")
	return cmd
}

// deploySummary is the last JSON line of a deploy.
type deploySummary struct {
	Summary      bool     `json:"summary"`
	Uploaded     int      `json:"uploaded"`
	Deleted      int      `json:"deleted"`
	Unchanged    int      `json:"unchanged"`
	Stale        int      `json:"stale"`
	Bytes        int64    `json:"bytes"`
	Failed       int      `json:"failed"`
	Invalidation string   `json:"invalidation,omitempty"`
	Status       string   `json:"invalidation_status,omitempty"`
	Paths        []string `json:"paths,omitempty"`
	DryRun       bool     `json:"dry_run,omitempty"`
}

func (a *app) deploy(ctx context.Context, f *deployFlags, dirArg, dstArg string) error {
	if err := checkDir(dirArg); err != nil {
		return usagef("DIR %v", err)
	}
	dstLoc, err := location.Parse(dstArg)
	if err != nil || !dstLoc.IsS3() {
		return usagef("%q: want s3://BUCKET[/PREFIX]", dstArg)
	}
	rules, err := cacheRules(f.cacheControl, !f.noDefaults)
	if err != nil {
		return err
	}
	switch f.settings.SSE {
	case "", "AES256", "aws:kms":
	default:
		return usagef("--sse %q: want aws:kms or AES256", f.settings.SSE)
	}
	if (f.wait || f.all) && f.invalidate == "" {
		return usagef("--wait and --invalidate-all go with --invalidate")
	}
	dirLoc, _ := location.Parse(dirArg)
	dir := &store.Dir{Root: dirLoc.Dir}
	st, err := a.openStore(ctx, dstLoc, f.dst, false)
	if err != nil {
		return err
	}
	bucket := st.(*store.Bucket)
	plan, err := deploy.MakePlan(ctx, dir, bucket, deploy.Options{Prefix: dstLoc.Prefix, Rules: rules, Delete: f.delete})
	if err != nil {
		return err
	}
	sum := deploySummary{Summary: true, Unchanged: plan.Unchanged, Stale: plan.Stale, DryRun: f.dryRun}
	var paths []string
	switch {
	case f.all:
		paths = []string{"/*"}
	case f.invalidate != "" && !plan.Empty():
		paths = cdn.Paths(plan.ChangedKeys(), f.originPath, f.maxPaths)
	}
	report := func(c deploy.Change, err error) {
		switch {
		case err != nil:
			sum.Failed++
		case c.Action == deploy.Upload:
			sum.Uploaded++
			sum.Bytes += c.Size
		default:
			sum.Deleted++
		}
		a.printChange(c, err, f)
	}
	if f.dryRun {
		for _, c := range plan.Changed() {
			a.printChange(c, nil, f)
		}
		sum.Paths = paths
		a.printDeploySummary(sum, f, plan)
		return nil
	}
	c, err := replicate.New(dir, bucket, replicate.Options{})
	if err != nil {
		return usagef("%v", err)
	}
	applyErr := deploy.Apply(ctx, plan, deploy.Target{Bucket: bucket, Copier: c, Settings: f.settings, Concurrency: f.concurrency}, report)
	if applyErr == nil && len(paths) > 0 {
		res, err := a.invalidateCDN(ctx, f, paths, plan)
		if err != nil {
			a.printDeploySummary(sum, f, plan)
			return fmt.Errorf("the upload is done, but the invalidation failed: %w; once fixed, run the same command with --invalidate-all (nothing is uploaded again)", err)
		}
		sum.Invalidation, sum.Status, sum.Paths = res.ID, res.Status, paths
	}
	a.printDeploySummary(sum, f, plan)
	if applyErr != nil && sum.Failed > 0 {
		return failedError{int64(sum.Failed)}
	}
	return applyErr
}

// invalidateCDN invalidates paths, with a caller reference derived from
// the content the deploy wrote, so a retried deploy reuses it.
func (a *app) invalidateCDN(ctx context.Context, f *deployFlags, paths []string, plan deploy.Plan) (cdn.Result, error) {
	o := f.dst
	o.EndpointURL, o.Region = "", ""
	if f.cdnProfile != "" {
		o.Profile = f.cdnProfile
	}
	ep, err := a.openEndpoint(ctx, o)
	if err != nil {
		return cdn.Result{}, err
	}
	client := cdn.NewClient(ep.Config)
	inv := cdn.Invalidator{Client: client, Log: a.log}
	return inv.Invalidate(ctx, f.invalidate, paths, cdn.CallerReference(paths, plan.Digest()), f.wait)
}

func cacheRules(flags []string, defaults bool) ([]deploy.Rule, error) {
	var rules []deploy.Rule
	for _, s := range flags {
		glob, value, ok := strings.Cut(s, "=")
		if !ok || glob == "" || value == "" {
			return nil, usagef("--cache-control %q: want GLOB=VALUE, e.g. 'assets/**=public, max-age=31536000, immutable'", s)
		}
		if err := deploy.ValidGlob(glob); err != nil {
			return nil, usagef("--cache-control %q: %v", s, err)
		}
		rules = append(rules, deploy.Rule{Glob: glob, Value: value})
	}
	if defaults {
		rules = append(rules, deploy.DefaultRules...)
	}
	return rules, nil
}

type jsonChange struct {
	deploy.Change
	Status string `json:"status"` // done, planned, failed
	Error  string `json:"error,omitempty"`
}

func (a *app) printChange(c deploy.Change, err error, f *deployFlags) {
	if f.json {
		j := jsonChange{Change: c, Status: "done"}
		switch {
		case err != nil:
			j.Status, j.Error = "failed", store.Reason(err)
		case f.dryRun:
			j.Status = "planned"
		}
		writeJSON(a.out, j)
		return
	}
	verb := string(c.Action)
	if f.dryRun {
		verb = "would " + verb
	}
	switch {
	case err != nil:
		fmt.Fprintf(a.out, "FAILED %s %s: %s\n", c.Action, c.Key, store.Reason(err))
	case c.Action == deploy.Upload:
		cc := c.CacheControl
		if cc == "" {
			cc = "no Cache-Control"
		}
		fmt.Fprintf(a.out, "%s %s (%s, %s, %s; %s)\n", verb, c.Key, c.Reason, humanBytes(c.Size), c.ContentType, cc)
	default:
		fmt.Fprintf(a.out, "%s %s (%s)\n", verb, c.Key, c.Reason)
	}
}

func (a *app) printDeploySummary(s deploySummary, f *deployFlags, p deploy.Plan) {
	if f.json {
		writeJSON(a.out, s)
		return
	}
	if p.Empty() && s.Invalidation == "" && len(s.Paths) == 0 {
		fmt.Fprintf(a.out, "nothing changed: %d files already deployed; nothing uploaded, no invalidation\n", s.Unchanged)
		return
	}
	if f.dryRun {
		fmt.Fprintf(a.out, "dry run: would upload %d, delete %d; %d unchanged", len(p.Uploads), len(p.Deletes), s.Unchanged)
	} else {
		fmt.Fprintf(a.out, "uploaded %d (%s), deleted %d, %d unchanged", s.Uploaded, humanBytes(s.Bytes), s.Deleted, s.Unchanged)
	}
	if s.Failed > 0 {
		fmt.Fprintf(a.out, ", %d FAILED", s.Failed)
	}
	if s.Stale > 0 && !f.delete {
		fmt.Fprintf(a.out, "; %d stale keys left (--delete removes them)", s.Stale)
	}
	fmt.Fprintln(a.out)
	switch {
	case len(s.Paths) > 0 && f.dryRun:
		fmt.Fprintf(a.out, "would invalidate %s on %s\n", strings.Join(s.Paths, " "), f.invalidate)
	case s.Invalidation != "":
		fmt.Fprintf(a.out, "invalidation %s on %s: %s (%s)\n", s.Invalidation, f.invalidate, s.Status, strings.Join(s.Paths, " "))
	}
}
