package replicate

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/ferry-s3/ferry/internal/failure"
	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/store"
)

// Options tune the engine. Zero values take the defaults.
type Options struct {
	// PartSize is the multipart part size for objects ferry splits itself
	// (default 16 MiB). Objects up to PartSize go in one PUT.
	PartSize int64
	// PartsInFlight is the number of parts of one object moved at once
	// (default 4).
	PartsInFlight int
	// Memory bounds the part buffers of all copies together (default
	// 256 MiB): ferry never holds more than this of object bodies.
	Memory int64
	// Attempts is how often a copy whose integrity check failed is
	// retried from scratch before it fails (default 3).
	Attempts int
	// ServerSide allows server-side copies when source and destination
	// share an endpoint and credentials. Callers set it (every command
	// does, unless `--server-side=false`); the zero Options stream every
	// byte through ferry.
	ServerSide bool
	// BytesPerSecond caps the bytes this copier reads from the source, all
	// copies together (0: no cap). Server-side copies move no bytes
	// through ferry and are not paced.
	BytesPerSecond int64
}

const (
	mib = 1 << 20
	gib = 1 << 30
	// maxCopyObject is the largest object a single CopyObject may copy.
	maxCopyObject = 5 * gib
	// maxParts is S3's limit on parts per upload.
	maxParts = 10000
	// maxPartSize is S3's limit on one part.
	maxPartSize = 5 * gib
)

// ErrIntegrity marks a copy whose bytes did not verify.
var ErrIntegrity = errors.New("integrity check failed")

// Copier copies versions from one store to another. It is safe for
// concurrent use; all its copies share one memory budget.
type Copier struct {
	src, dst store.Store
	opt      Options
	budget   *semaphore.Weighted
	bufs     sync.Pool // *[]byte of PartSize
	server   bool      // server-side copies possible
	limit    *rate.Limiter

	lockOnce sync.Once
	lockOK   bool
	lockErr  error
}

// New returns a copier from src to dst (each a *store.Bucket or *store.Dir).
func New(src, dst store.Store, opt Options) (*Copier, error) {
	if opt.PartSize == 0 {
		opt.PartSize = 16 * mib
	}
	if opt.PartSize < 5*mib || opt.PartSize > maxPartSize {
		return nil, fmt.Errorf("part size %d: must be between 5 MiB and 5 GiB", opt.PartSize)
	}
	if opt.PartsInFlight <= 0 {
		opt.PartsInFlight = 4
	}
	if opt.Memory == 0 {
		opt.Memory = 256 * mib
	}
	if opt.Memory < opt.PartSize {
		opt.Memory = opt.PartSize
	}
	if opt.Attempts <= 0 {
		opt.Attempts = 3
	}
	c := &Copier{src: src, dst: dst, opt: opt, budget: semaphore.NewWeighted(opt.Memory)}
	if bps := opt.BytesPerSecond; bps > 0 {
		// A burst of up to 256 KiB keeps reads efficient without letting
		// a slow limit be overshot by much.
		c.limit = rate.NewLimiter(rate.Limit(bps), int(min(bps, 256<<10)))
	}
	sb, sOK := src.(*store.Bucket)
	db, dOK := dst.(*store.Bucket)
	_, sDir := src.(*store.Dir)
	_, dDir := dst.(*store.Dir)
	switch {
	case sOK && dOK:
		c.server = opt.ServerSide && sb.EP.SameAccount(db.EP)
	case sDir && dDir:
		return nil, errors.New("both locations are local directories: use cp or rsync")
	case !(sOK || sDir) || !(dOK || dDir):
		return nil, fmt.Errorf("unsupported stores %T -> %T", src, dst)
	}
	return c, nil
}

// ServerSide reports whether copies stay on the server.
func (c *Copier) ServerSide() bool { return c.server }

// Copy copies one version. An integrity failure is retried from scratch;
// after the last attempt it fails with ErrIntegrity.
func (c *Copier) Copy(ctx context.Context, j Job) (Result, error) {
	var err error
	for attempt := 1; attempt <= c.opt.Attempts; attempt++ {
		var res Result
		res, err = c.copyOnce(ctx, j)
		if err == nil || !errors.Is(err, ErrIntegrity) {
			return res, err
		}
	}
	return Result{}, fmt.Errorf("%w after %d attempts", err, c.opt.Attempts)
}

func (c *Copier) copyOnce(ctx context.Context, j Job) (Result, error) {
	switch src := c.src.(type) {
	case *store.Bucket:
		switch dst := c.dst.(type) {
		case *store.Bucket:
			if c.server {
				return c.serverCopy(ctx, src, dst, j)
			}
			return c.streamCopy(ctx, src, dst, j)
		case *store.Dir:
			return c.download(ctx, src, dst, j)
		}
	case *store.Dir:
		return c.upload(ctx, src, c.dst.(*store.Bucket), j)
	}
	return Result{}, errors.New("unreachable store combination")
}

// lockEnabled tells, once per copier, whether the destination bucket can
// hold object lock settings.
func (c *Copier) lockEnabled(ctx context.Context, dst *store.Bucket) (bool, error) {
	// A Get on the destination: marked, or it would be taken for the
	// source's (failure.Classify guesses Get* is a read of the source).
	c.lockOnce.Do(func() { c.lockOK, c.lockErr = dst.LockEnabled(ctx); c.lockErr = failure.Dst(c.lockErr) })
	return c.lockOK, c.lockErr
}

// originOf is the origin a replica of src records.
func originOf(bucket string, m *object.Meta) *object.Origin {
	return &object.Origin{Bucket: bucket, Key: m.Key, VersionID: m.VersionID, ETag: m.ETag, MTime: m.LastModified}
}

// acquire reserves n bytes of the memory budget (capped at the budget, so
// one huge part can still proceed alone) and returns a buffer of n bytes.
// release returns both. Part-size buffers are reused: allocating a fresh
// 16 MiB slice per part leaves the garbage collector behind and RSS at
// several times the budget.
func (c *Copier) acquire(ctx context.Context, n int64) (buf []byte, release func(), err error) {
	w := min(n, c.opt.Memory)
	if err := c.budget.Acquire(ctx, w); err != nil {
		return nil, nil, err
	}
	if n == c.opt.PartSize {
		if p, ok := c.bufs.Get().(*[]byte); ok {
			buf = *p
		}
	}
	if buf == nil {
		buf = make([]byte, n)
	}
	return buf, func() {
		if int64(cap(buf)) == c.opt.PartSize {
			c.bufs.Put(&buf)
		}
		c.budget.Release(w)
	}, nil
}

// partLayout splits size bytes into parts of at least partSize, growing the
// part size when needed to stay within S3's 10,000 parts.
func partLayout(size, partSize int64) (n int, ps int64) {
	ps = partSize
	for (size+ps-1)/ps > maxParts {
		ps *= 2
	}
	n = int((size + ps - 1) / ps)
	if n == 0 {
		n = 1
	}
	return n, ps
}
