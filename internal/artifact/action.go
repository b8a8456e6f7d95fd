package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/ferry-s3/ferry/internal/deploy"
	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/pipeline"
	"github.com/ferry-s3/ferry/internal/replicate"
	"github.com/ferry-s3/ferry/internal/store"
)

// Opener opens an endpoint; the CLI's registers its secrets for redaction.
type Opener func(ctx context.Context, o endpoint.Options) (*endpoint.Endpoint, error)

// Params is an action's configuration: the UserParameters of the
// pipeline's Lambda invoke action, a JSON object.
type Params struct {
	// Action is deploy, invalidate or replicate.
	Action string `json:"action"`
	// Artifact names the input artifact to use (default: the first).
	Artifact string `json:"artifact,omitempty"`
	// ArtifactStore says how to reach the artifact bucket, with the job's
	// credentials (default: AWS, the function's region).
	ArtifactStore endpoint.Options `json:"artifact_store,omitzero"`

	// deploy: the bucket and prefix, reached with the function's role or
	// a profile; then, optionally, the CloudFront invalidation.
	Target
	Delete       bool        `json:"delete,omitempty"`
	CacheControl []CacheRule `json:"cache_control,omitempty"`
	NoDefaults   bool        `json:"no_default_cache_control,omitempty"`

	// deploy and invalidate: the distribution, and for invalidate the
	// paths (default /*).
	Invalidate *Invalidation `json:"invalidate,omitempty"`

	// replicate: where the artifact is copied.
	Destinations []Destination `json:"destinations,omitempty"`
}

// Target is a bucket (and prefix) a deploy writes to.
type Target struct {
	endpoint.Options
	Bucket   string `json:"bucket,omitempty"`
	Prefix   string `json:"prefix,omitempty"`
	ACL      string `json:"acl,omitempty"`
	SSE      string `json:"sse,omitempty"`
	KMSKeyID string `json:"kms_key_id,omitempty"`
}

// CacheRule is deploy's --cache-control GLOB=VALUE.
type CacheRule struct {
	Glob  string `json:"glob"`
	Value string `json:"value"`
}

// Invalidation is a CloudFront invalidation to make.
type Invalidation struct {
	endpoint.Options
	Distribution string   `json:"distribution"`
	Paths        []string `json:"paths,omitempty"`       // invalidate only; default /*
	OriginPath   string   `json:"origin_path,omitempty"` // deploy only: the prefix the distribution serves as /
	MaxPaths     int      `json:"max_paths,omitempty"`   // deploy only; default 15
	Wait         bool     `json:"wait,omitempty"`
}

// Destination is a bucket the artifact is copied to.
type Destination struct {
	endpoint.Options
	Bucket string `json:"bucket"`
	// Key is the artifact's key there (default: its key in the store);
	// CodeDeploy wants a known one, e.g. "app/latest.zip".
	Key string `json:"key,omitempty"`
	// KMSKeyID re-encrypts the copy with the destination region's key
	// (SSE-KMS); empty: the bucket's default encryption.
	KMSKeyID string `json:"kms_key_id,omitempty"`
	ACL      string `json:"acl,omitempty"`
}

// Action returns the pipeline action that carries out a job's Params.
func Action(open Opener, log *slog.Logger) pipeline.Action {
	return func(ctx context.Context, job pipeline.Job) (pipeline.Outcome, error) {
		var p Params
		if err := job.DecodeParams(&p); err != nil {
			return pipeline.Outcome{}, err
		}
		r := runner{open: open, log: log, job: job, p: p}
		if job.ContinuationToken != "" {
			return r.resume(ctx)
		}
		switch p.Action {
		case "deploy":
			return r.deploy(ctx)
		case "invalidate":
			return r.invalidateOnly(ctx)
		case "replicate":
			return r.replicate(ctx)
		}
		return pipeline.Outcome{}, configError("action %q: want deploy, invalidate or replicate", p.Action)
	}
}

func configError(format string, args ...any) error {
	return pipeline.Fail(pipeline.ConfigurationError, fmt.Errorf(format, args...))
}

type runner struct {
	open Opener
	log  *slog.Logger
	job  pipeline.Job
	p    Params
}

// input is the artifact the action works on, with the job's credentials.
func (r runner) input(ctx context.Context) (*store.Bucket, pipeline.Artifact, error) {
	var art pipeline.Artifact
	switch {
	case len(r.job.Inputs) == 0:
		return nil, art, configError("the action has no input artifact")
	case r.p.Artifact == "":
		art = r.job.Inputs[0]
	default:
		found := false
		for _, a := range r.job.Inputs {
			if a.Name == r.p.Artifact {
				art, found = a, true
			}
		}
		if !found {
			return nil, art, configError("no input artifact named %q", r.p.Artifact)
		}
	}
	o := r.p.ArtifactStore
	o.Credentials = credentials.StaticCredentialsProvider{Value: r.job.Credentials}
	ep, err := r.open(ctx, o)
	if err != nil {
		return nil, art, fmt.Errorf("artifact store: %w", err)
	}
	return &store.Bucket{EP: ep, Name: art.Bucket}, art, nil
}

// target opens a bucket to write to.
func (r runner) target(ctx context.Context, o endpoint.Options, bucket string) (*store.Bucket, error) {
	ep, err := r.open(ctx, o)
	if err != nil {
		return nil, err
	}
	b := &store.Bucket{EP: ep, Name: bucket}
	if err := b.Check(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// deploy unzips the input artifact and deploys it as `ferry deploy` does.
func (r runner) deploy(ctx context.Context) (pipeline.Outcome, error) {
	t := r.p.Target
	if t.Bucket == "" {
		return pipeline.Outcome{}, configError(`deploy needs "bucket"`)
	}
	if t.Prefix != "" && !strings.HasSuffix(t.Prefix, "/") {
		t.Prefix += "/"
	}
	src, art, err := r.input(ctx)
	if err != nil {
		return pipeline.Outcome{}, err
	}
	tmp, err := os.MkdirTemp("", "ferry-deploy-")
	if err != nil {
		return pipeline.Outcome{}, err
	}
	defer os.RemoveAll(tmp)
	zipName := filepath.Join(tmp, "artifact.zip")
	if err := download(ctx, src, art.Key, zipName); err != nil {
		return pipeline.Outcome{}, err
	}
	site := filepath.Join(tmp, "site")
	if err := unzip(zipName, site); err != nil {
		return pipeline.Outcome{}, pipeline.Fail(pipeline.JobFailed, err)
	}
	dst, err := r.target(ctx, t.Options, t.Bucket)
	if err != nil {
		return pipeline.Outcome{}, err
	}
	rules := make([]deploy.Rule, 0, len(r.p.CacheControl)+len(deploy.DefaultRules))
	for _, c := range r.p.CacheControl {
		if err := deploy.ValidGlob(c.Glob); err != nil || c.Value == "" {
			return pipeline.Outcome{}, configError("cache_control %q=%q: want a glob and a value", c.Glob, c.Value)
		}
		rules = append(rules, deploy.Rule{Glob: c.Glob, Value: c.Value})
	}
	if !r.p.NoDefaults {
		rules = append(rules, deploy.DefaultRules...)
	}
	dir := &store.Dir{Root: site}
	plan, err := deploy.MakePlan(ctx, dir, dst, deploy.Options{Prefix: t.Prefix, Rules: rules, Delete: r.p.Delete})
	if err != nil {
		return pipeline.Outcome{}, err
	}
	c, err := replicate.New(dir, dst, replicate.Options{})
	if err != nil {
		return pipeline.Outcome{}, err
	}
	var uploaded, deleted int
	var failures []string
	settings := replicate.Settings{ACL: t.ACL, SSE: t.SSE, KMSKeyID: t.KMSKeyID}
	err = deploy.Apply(ctx, plan, deploy.Target{Bucket: dst, Copier: c, Settings: settings}, func(ch deploy.Change, err error) {
		switch {
		case err != nil:
			failures = append(failures, err.Error())
		case ch.Action == deploy.Upload:
			uploaded++
		default:
			deleted++
		}
	})
	if err != nil {
		if len(failures) > 0 {
			err = fmt.Errorf("%w: %s", err, strings.Join(failures[:min(len(failures), 3)], "; "))
		}
		return pipeline.Outcome{}, err
	}
	summary := fmt.Sprintf("deployed %s to s3://%s/%s: %d uploaded, %d deleted, %d unchanged", art.Name, t.Bucket, t.Prefix, uploaded, deleted, plan.Unchanged)
	if inv := r.p.Invalidate; inv != nil && !plan.Empty() {
		return r.invalidate(ctx, *inv, deployPaths(plan, *inv), plan.Digest(), summary)
	}
	return pipeline.Outcome{Summary: summary}, nil
}

func download(ctx context.Context, b *store.Bucket, key, to string) error {
	body, _, err := b.Open(ctx, key)
	if err != nil {
		return fmt.Errorf("artifact: %w", err)
	}
	defer body.Close()
	f, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, body); err != nil {
		f.Close()
		return fmt.Errorf("artifact %s: %w", key, err)
	}
	return f.Close()
}

// replicate copies the input artifact to every destination, re-encrypted
// with each one's KMS key. The copy streams through ferry (the artifact
// store and the destinations have different credentials) and keeps the
// artifact's metadata.
func (r runner) replicate(ctx context.Context) (pipeline.Outcome, error) {
	if len(r.p.Destinations) == 0 {
		return pipeline.Outcome{}, configError(`replicate needs "destinations"`)
	}
	src, art, err := r.input(ctx)
	if err != nil {
		return pipeline.Outcome{}, err
	}
	meta, err := src.Head(ctx, art.Key, "")
	if err != nil {
		return pipeline.Outcome{}, fmt.Errorf("artifact %s: %w", art.Key, err)
	}
	if meta == nil {
		return pipeline.Outcome{}, pipeline.Fail(pipeline.RevisionUnavailable, fmt.Errorf("artifact s3://%s/%s does not exist", art.Bucket, art.Key))
	}
	var done []string
	var errs []error
	for _, d := range r.p.Destinations {
		if d.Bucket == "" {
			return pipeline.Outcome{}, configError(`a destination needs "bucket"`)
		}
		key := d.Key
		if key == "" {
			key = art.Key
		}
		where := "s3://" + d.Bucket + "/" + key
		dst, err := r.target(ctx, d.Options, d.Bucket)
		if err == nil {
			var c *replicate.Copier
			if c, err = replicate.New(src, dst, replicate.Options{}); err == nil {
				s := replicate.Settings{ACL: d.ACL}
				if d.KMSKeyID != "" {
					s.SSE, s.KMSKeyID = "aws:kms", d.KMSKeyID
				}
				_, err = c.Copy(ctx, replicate.Job{Src: meta.Info, DstKey: key, Settings: s})
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if d.KMSKeyID != "" {
			where += " (SSE-KMS " + d.KMSKeyID + ")"
		}
		done = append(done, where)
	}
	if err := errors.Join(errs...); err != nil {
		if len(done) > 0 {
			err = fmt.Errorf("%w (copied to %s)", err, strings.Join(done, ", "))
		}
		return pipeline.Outcome{}, err
	}
	return pipeline.Outcome{Summary: fmt.Sprintf("copied %s (%d bytes) to %s", art.Name, meta.Size, strings.Join(done, ", "))}, nil
}
