// Package shared keeps the state that several `ferry run` processes
// consuming one NATS JetStream stream share, in two JetStream key-value
// buckets, so that no worker's disk holds the truth:
//
//   - NAME_locks: a lock per source key, so that one key is replicated by
//     one worker at a time. Each worker copies the source's current state,
//     so with the lock the newest version wins whatever order the events
//     arrive in. A lock lives LockTTL after its last refresh: the lock of a
//     killed worker frees itself.
//   - NAME_failed: the FAILED record of each key that failed for good,
//     which `ferry status` and `ferry retry` read from any machine. Retry
//     publishes the event to the stream again, for any worker to take.
//
// NAME is the JetStream consumer's durable name, so two ferry deployments on
// one NATS do not share state by accident.
package shared

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ferry-s3/ferry/internal/event"
	"github.com/ferry-s3/ferry/internal/queue"
)

// Options say which buckets to use and how to make them.
type Options struct {
	Name    string // prefix of the buckets: the consumer's durable name
	Subject string // where Requeue publishes events again
	// Replicas of the buckets when Open creates them (1, or 3 in a
	// cluster); existing buckets are used as they are.
	Replicas int
	// LockTTL is how long a lock outlives its last refresh; 0 means 30s.
	// Holders refresh every LockTTL/3.
	LockTTL time.Duration
	Log     *slog.Logger
}

// Store is the open shared state. Its methods are safe for concurrent use.
type Store struct {
	nc      *nats.Conn // set by Dial
	js      jetstream.JetStream
	locks   jetstream.KeyValue
	failed  jetstream.KeyValue
	subject string
	ttl     time.Duration
	owner   []byte
	log     *slog.Logger
}

// ErrBusy is returned by Lock when another worker holds the key.
var ErrBusy = errors.New("another worker is replicating this key")

// Open creates the buckets if they are missing, or binds to them.
func Open(ctx context.Context, js jetstream.JetStream, o Options) (*Store, error) {
	if o.Name == "" {
		return nil, errors.New("shared state: a name is required")
	}
	ttl := o.LockTTL
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	replicas := max(o.Replicas, 1)
	host, _ := os.Hostname()
	s := &Store{js: js, subject: o.Subject, ttl: ttl, log: o.Log,
		owner: []byte(host + ":" + strconv.Itoa(os.Getpid()))}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var err error
	if s.locks, err = bucket(ctx, js, jetstream.KeyValueConfig{Bucket: o.Name + "_locks", TTL: ttl, Replicas: replicas,
		Description: "ferry: which worker replicates which key"}); err != nil {
		return nil, err
	}
	if s.failed, err = bucket(ctx, js, jetstream.KeyValueConfig{Bucket: o.Name + "_failed", Replicas: replicas,
		Storage: jetstream.FileStorage, Description: "ferry: keys that failed for good (ferry status, ferry retry)"}); err != nil {
		return nil, err
	}
	return s, nil
}

func bucket(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	deadline := time.Now().Add(time.Minute)
	for wait := 250 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		kv, err := js.KeyValue(ctx, cfg.Bucket)
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			kv, err = js.CreateKeyValue(ctx, cfg)
			if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				kv, err = js.KeyValue(ctx, cfg.Bucket) // made by another worker meanwhile
			}
		}
		if err == nil {
			return kv, nil
		}
		// JetStream answers 503 while a cluster places a new stream, or
		// when several workers make the same bucket at once: try again.
		var apiErr *jetstream.APIError
		if !errors.As(err, &apiErr) || apiErr.Code != 503 || time.Now().After(deadline) {
			return nil, fmt.Errorf("nats key-value bucket %s: %w", cfg.Bucket, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

// id is the KV key of a source key: object keys may hold any character,
// KV keys only a few.
func id(bucket, key string) string {
	h := sha256.Sum256([]byte(bucket + "\x00" + key))
	return "k" + hex.EncodeToString(h[:20])
}

// Lock takes the lock of a source key, or returns ErrBusy. The lock is
// refreshed until unlock is called; if the process dies, it frees itself
// after LockTTL.
func (s *Store) Lock(ctx context.Context, bucket, key string) (unlock func(), err error) {
	k := id(bucket, key)
	rev, err := s.locks.Create(ctx, k, s.owner)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, ErrBusy
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", key, err)
	}
	var mu sync.Mutex // guards rev
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			rctx, cancel := context.WithTimeout(context.Background(), s.ttl/3)
			mu.Lock()
			r, err := s.locks.Update(rctx, k, s.owner, rev)
			if err == nil {
				rev = r
			}
			mu.Unlock()
			cancel()
			if err != nil {
				s.log.Warn("shared: refreshing a key's lock failed", "key", key, "err", err)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		dctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		mu.Lock()
		defer mu.Unlock()
		// Only our own lock: after a lost refresh another worker may hold it.
		if err := s.locks.Delete(dctx, k, jetstream.LastRevision(rev)); err != nil {
			s.log.Warn("shared: releasing a key's lock failed; it frees itself", "key", key, "after", s.ttl, "err", err)
		}
	}, nil
}

// record is a FAILED key as kept in NAME_failed.
type record struct {
	Event       event.Event     `json:"event"`
	Failures    []queue.Failure `json:"failures"`
	Attempts    int             `json:"attempts"`
	FirstFailed time.Time       `json:"first_failed"`
	Owed        []string        `json:"owed,omitempty"`
}

func (r record) job() queue.Job {
	owed := r.Owed
	return queue.Job{Event: r.Event, Attempts: r.Attempts, Enqueued: r.FirstFailed, Reason: queue.Summary(r.Failures),
		State: queue.Failed, Size: r.Event.Size, Failures: r.Failures, FirstFailed: r.FirstFailed, Owed: owed}
}

// LockTTL is how long a lock outlives its holder.
func (s *Store) LockTTL() time.Duration { return s.ttl }

// Record keeps ev as FAILED with fails, replacing the key's earlier
// record (whose attempts it adds to).
func (s *Store) Record(ctx context.Context, ev event.Event, fails []queue.Failure) error {
	r := record{Event: ev, Failures: fails, Attempts: 1, FirstFailed: time.Now().UTC()}
	for _, f := range fails {
		r.Owed = append(r.Owed, f.Dest)
	}
	if _, old, err := s.entry(ctx, id(ev.Bucket, ev.Key)); err == nil && old != nil {
		r.Attempts += old.Attempts
		r.FirstFailed = old.FirstFailed
	}
	b, err := json.Marshal(r)
	if err == nil {
		_, err = s.failed.Put(ctx, id(ev.Bucket, ev.Key), b)
	}
	if err != nil {
		return fmt.Errorf("record failure of %s: %w", ev.Key, err)
	}
	return nil
}

// Done forgets the key's FAILED record, if any, and returns its failures:
// a success supersedes them.
func (s *Store) Done(ctx context.Context, bucket, key string) ([]queue.Failure, error) {
	e, r, err := s.entry(ctx, id(bucket, key))
	if err != nil || r == nil {
		return nil, err
	}
	// Only that record: a newer failure recorded meanwhile stays.
	if err := s.failed.Delete(ctx, e.Key(), jetstream.LastRevision(e.Revision())); err != nil &&
		!errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("forget failure of %s: %w", key, err)
	}
	return r.Failures, nil
}

// entry reads and decodes the record under KV key k; no record is nil, nil.
func (s *Store) entry(ctx context.Context, k string) (jetstream.KeyValueEntry, *record, error) {
	e, err := s.failed.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("failed record %s: %w", k, err)
	}
	var r record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return nil, nil, fmt.Errorf("failed record %s: %w", k, err)
	}
	return e, &r, nil
}

// Key returns the key's FAILED record as a job, or none.
func (s *Store) Key(ctx context.Context, bucket, key string) ([]queue.Job, error) {
	_, r, err := s.entry(ctx, id(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if r == nil {
		return nil, nil
	}
	return []queue.Job{r.job()}, nil
}

// Failed calls fn for each FAILED record, as a job.
func (s *Store) Failed(ctx context.Context, fn func(queue.Job) error) error {
	keys, err := s.failed.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("list failed records: %w", err)
	}
	defer keys.Stop()
	for k := range keys.Keys() {
		_, r, err := s.entry(ctx, k)
		if err != nil {
			return err
		}
		if r == nil {
			continue // superseded meanwhile
		}
		if err := fn(r.job()); err != nil {
			return err
		}
	}
	return nil
}

// Requeue publishes the event of each FAILED record that filter accepts
// (all if nil) to the stream again, for any worker to take, and returns
// how many. The records stay until a worker succeeds (Done), so a retry
// that fails again is still seen.
func (s *Store) Requeue(ctx context.Context, filter func(queue.Job) bool) (int, error) {
	if s.subject == "" {
		return 0, errors.New("requeue: no subject to publish to")
	}
	var evs []event.Event
	err := s.Failed(ctx, func(j queue.Job) error {
		if filter == nil || filter(j) {
			evs = append(evs, j.Event)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for i, ev := range evs {
		body, err := event.Encode([]event.Event{ev})
		if err == nil {
			_, err = s.js.Publish(ctx, s.subject, body)
		}
		if err != nil {
			return i, fmt.Errorf("requeue %s to %s: %w", ev.Key, s.subject, err)
		}
	}
	return len(evs), nil
}

// Dial connects to NATS at url (one or more comma-separated servers) and
// opens the store; Close closes the connection.
func Dial(ctx context.Context, url string, o Options, nopts ...nats.Option) (*Store, error) {
	nc, err := nats.Connect(url, append([]nats.Option{nats.Name("ferry"), nats.MaxReconnects(-1)}, nopts...)...)
	if err != nil {
		return nil, fmt.Errorf("nats %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err == nil {
		var s *Store
		if s, err = Open(ctx, js, o); err == nil {
			s.nc = nc
			return s, nil
		}
	}
	nc.Close()
	return nil, err
}

// Close closes the connection Dial made.
func (s *Store) Close() error {
	if s.nc != nil {
		s.nc.Close()
	}
	return nil
}
