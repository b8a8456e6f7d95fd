// Package queue is the daemon's durable job queue, embedded in SQLite.
//
// A job asks "bring source key (bucket, key) up to date at its
// destinations". The worker decides from the buckets' current state, not from
// the event, so all pending events of one key coalesce into one job, and a
// job that is done twice does no harm. That is what makes the rules below
// safe: a job claimed by a process that died is simply run again.
//
// A key has at most one job in each state (a unique index says so): one
// PENDING (new events fold into it), one RUNNING (per-key order: its PENDING
// successor waits), and one FAILED (the latest failure, kept for `ferry
// status` and `ferry retry`).
package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ferry-s3/ferry/internal/event"
)

// State is where a job is in its life.
type State string

const (
	Pending State = "PENDING" // waiting to be claimed, once due
	Running State = "RUNNING" // claimed by a worker of this process
	Failed  State = "FAILED"  // given up; kept until a later success or a requeue
)

// Job is one key to bring up to date.
type Job struct {
	ID       int64
	Event    event.Event // the newest event that asked for this key
	Attempts int         // failed attempts so far
	Enqueued time.Time   // when the first still-pending event for the key arrived (for replication latency)
	Reason   string      // last failure reason (S3 vocabulary, e.g. "DstPutObjectNotPermitted")
	State    State
	Size     int64 // the object's size per the event, for bytes pending

	// Failures are the per-destination failures of the last failed
	// attempt; FirstFailed is when the first of the attempts failed.
	Failures    []Failure
	FirstFailed time.Time
	// Owed names the destinations the job still owes; nil means all the
	// rules name. A failed attempt leaves only its failed destinations,
	// so a retry does not redo (nor count again) what succeeded.
	Owed []string
	// Notified names the destinations already told that the job missed
	// its replication time threshold.
	Notified []string
}

// Failure is why one destination of a job failed.
type Failure struct {
	Rule      string `json:"rule,omitempty"`
	Dest      string `json:"dest"`
	DstKey    string `json:"dst_key,omitempty"`
	VersionID string `json:"version_id,omitempty"`
	Reason    string `json:"reason"`           // S3 vocabulary, e.g. DstPutObjectNotPermitted
	Detail    string `json:"detail,omitempty"` // the error
}

// Owes reports whether the job still owes destination dest.
func (j Job) Owes(dest string) bool { return j.Owed == nil || slices.Contains(j.Owed, dest) }

// Counts is a snapshot of the queue's size, for metrics and `ferry status`.
type Counts struct {
	Pending, Running, Failed int
	OldestPending            time.Time // zero when nothing is pending
}

// ErrNoJob is returned when a job id is not in the state the call needs (for
// example Done on a job that is not running).
var ErrNoJob = errors.New("no such job")

// Queue is an open queue directory. Its methods are safe for concurrent use.
type Queue struct {
	db    *sql.DB
	lock  *dirLock
	mu    sync.Mutex // serialises writers: SQLite has one writer, and waiting here is cheaper than its busy loop
	ready chan struct{}
}

// Close closes the database and releases the directory lock.
func (q *Queue) Close() error {
	err := q.db.Close()
	if q.lock == nil { // OpenShared
		return err
	}
	if lerr := q.lock.release(); err == nil {
		err = lerr
	}
	return err
}

// Ready receives a value whenever new work may be claimable, so workers wait
// on it instead of polling. One value may stand for many jobs: claim until
// Claim returns none. Jobs whose retry time comes do not signal; poll for
// those at a slow interval.
func (q *Queue) Ready() <-chan struct{} { return q.ready }

func now() int64 { return time.Now().UnixNano() }

func (q *Queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// write runs fn in one write transaction.
//
// If durable, the commit is on disk when write returns (synchronous=FULL).
// If not, it is in the WAL but not yet flushed (synchronous=NORMAL): a
// process crash cannot lose it, a power failure can, together with the
// non-durable commits after it but never a durable one, because the WAL is
// one append-only file and each flush covers everything before. Claim and
// the end of a job are not durable: losing them means work is redone, which
// workers do safely, and one flush per job would cap the queue at the disk's
// flush rate.
func (q *Queue) write(ctx context.Context, durable bool, fn func(*sql.Tx) error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	c, err := q.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	// synchronous belongs to the connection and cannot change inside a transaction.
	mode := "NORMAL"
	if durable {
		mode = "FULL"
	}
	if _, err := c.ExecContext(ctx, "PRAGMA synchronous = "+mode); err != nil {
		return err
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Counts counts the jobs in each state.
func (q *Queue) Counts(ctx context.Context) (Counts, error) {
	var c Counts
	var oldest sql.NullInt64
	err := q.db.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM jobs WHERE state = 'PENDING'),
		(SELECT count(*) FROM jobs WHERE state = 'RUNNING'),
		(SELECT count(*) FROM jobs WHERE state = 'FAILED'),
		(SELECT min(enqueued) FROM jobs INDEXED BY jobs_age WHERE state = 'PENDING')`).
		Scan(&c.Pending, &c.Running, &c.Failed, &oldest)
	if err != nil {
		return c, fmt.Errorf("queue counts: %w", err)
	}
	if oldest.Valid {
		c.OldestPending = time.Unix(0, oldest.Int64)
	}
	return c, nil
}

// Failed calls fn for each FAILED job, oldest first, and stops at fn's
// first error, which it returns.
func (q *Queue) Failed(ctx context.Context, fn func(Job) error) error {
	return q.each(ctx, fn, `SELECT `+jobColumns+` FROM jobs WHERE state = 'FAILED' ORDER BY enqueued, id`)
}

const jobColumns = `id, event, attempts, enqueued, reason, state, size, failures, owed, first_failed, notified`

// scanJob scans jobColumns, then extra.
func scanJob(r interface{ Scan(...any) error }, extra ...any) (Job, error) {
	var j Job
	var ev []byte
	var enq, firstFailed int64
	var failures, owed, notified string
	err := r.Scan(append([]any{&j.ID, &ev, &j.Attempts, &enq, &j.Reason, &j.State, &j.Size, &failures, &owed, &firstFailed, &notified}, extra...)...)
	if err != nil {
		return j, err
	}
	j.Enqueued = time.Unix(0, enq)
	if firstFailed != 0 {
		j.FirstFailed = time.Unix(0, firstFailed)
	}
	if err := json.Unmarshal(ev, &j.Event); err != nil {
		return j, fmt.Errorf("job %d: event: %w", j.ID, err)
	}
	for _, f := range []struct {
		text string
		into any
	}{{failures, &j.Failures}, {owed, &j.Owed}, {notified, &j.Notified}} {
		if f.text == "" {
			continue
		}
		if err := json.Unmarshal([]byte(f.text), f.into); err != nil {
			return j, fmt.Errorf("job %d: %w", j.ID, err)
		}
	}
	return j, nil
}

// list encodes a list column: ” for none.
func list[T any](v []T) string {
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v) // strings and plain structs always marshal
	return string(b)
}

// Jobs calls fn for every job of every state, in no particular order, and
// stops at fn's first error, which it returns. For status and metrics: it
// reads a snapshot and never blocks the writer.
func (q *Queue) Jobs(ctx context.Context, fn func(Job) error) error {
	return q.each(ctx, fn, `SELECT `+jobColumns+` FROM jobs`)
}

// Overdue calls fn for each PENDING job whose first event arrived before
// t, oldest first: the candidates for a missed replication time threshold.
func (q *Queue) Overdue(ctx context.Context, t time.Time, fn func(Job) error) error {
	return q.each(ctx, fn, `SELECT `+jobColumns+` FROM jobs INDEXED BY jobs_age
		WHERE state = 'PENDING' AND enqueued < ? ORDER BY enqueued`, t.UnixNano())
}

// Key returns the jobs of one key, in any state (at most one per state).
func (q *Queue) Key(ctx context.Context, bucket, key string) ([]Job, error) {
	var jobs []Job
	err := q.each(ctx, func(j Job) error { jobs = append(jobs, j); return nil },
		`SELECT `+jobColumns+` FROM jobs WHERE bucket = ? AND key = ?`, bucket, key)
	return jobs, err
}

func (q *Queue) each(ctx context.Context, fn func(Job) error, query string, args ...any) error {
	rows, err := q.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("queue read: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return fmt.Errorf("queue read: %w", err)
		}
		if err := fn(j); err != nil {
			return err
		}
	}
	return rows.Err()
}
