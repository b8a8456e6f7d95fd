package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ferry-s3/ferry/internal/event"
)

// Done ends running job id successfully. It also deletes the key's FAILED
// job, whose failures it returns: this success supersedes them.
func (q *Queue) Done(ctx context.Context, id int64) (superseded []Failure, err error) {
	err = q.end(ctx, "done", id, func(tx *sql.Tx, bucket, key string) error {
		var failures string
		err := tx.QueryRowContext(ctx, `SELECT failures FROM jobs WHERE bucket = ? AND key = ? AND state = 'FAILED'`,
			bucket, key).Scan(&failures)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case failures == "":
			superseded = []Failure{{}} // a failure recorded before failures were
		default:
			if err := json.Unmarshal([]byte(failures), &superseded); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM jobs WHERE bucket = ? AND key = ? AND state IN ('RUNNING', 'FAILED')`, bucket, key)
		return err
	})
	return superseded, err
}

// Fail ends running job id for good and keeps it as FAILED, with its
// per-destination failures, for `ferry status` and `ferry retry`. It
// replaces the key's earlier FAILED job, if any. A PENDING job of the key
// still runs. The job then owes only the failed destinations.
func (q *Queue) Fail(ctx context.Context, id int64, fails []Failure) error {
	return q.end(ctx, "fail", id, func(tx *sql.Tx, bucket, key string) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE bucket = ? AND key = ? AND state = 'FAILED'`, bucket, key)
		if err == nil {
			_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = 'FAILED', attempts = attempts + 1, reason = ?, failures = ?,
				owed = ?, first_failed = iif(first_failed = 0, ?, first_failed) WHERE id = ?`,
				Summary(fails), list(fails), list(dests(fails)), now(), id)
		}
		return err
	})
}

// Summary is the one-line reason of a failed attempt: its first
// failure's reason, after the destination's name.
func Summary(fails []Failure) string {
	if len(fails) == 0 {
		return ""
	}
	if f := fails[0]; f.Dest != "" {
		return f.Dest + ": " + f.Reason
	}
	return fails[0].Reason
}

// dests are the destinations of fails, each once; nil if a failure has
// none (the source failed): then every destination is still owed.
func dests(fails []Failure) []string {
	var ds []string
	for _, f := range fails {
		if f.Dest == "" {
			return nil
		}
		if !slices.Contains(ds, f.Dest) {
			ds = append(ds, f.Dest)
		}
	}
	return ds
}

// end ends running job id with fn, and signals Ready if a PENDING job of the
// same key was waiting for it.
func (q *Queue) end(ctx context.Context, op string, id int64, fn func(tx *sql.Tx, bucket, key string) error) error {
	var waiting bool
	err := q.write(ctx, false, func(tx *sql.Tx) error {
		var bucket, key string
		err := tx.QueryRowContext(ctx, `SELECT bucket, key FROM jobs WHERE id = ? AND state = 'RUNNING'`, id).Scan(&bucket, &key)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNoJob
		}
		if err != nil {
			return err
		}
		if err := fn(tx, bucket, key); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM jobs WHERE bucket = ? AND key = ? AND state = 'PENDING')`,
			bucket, key).Scan(&waiting)
	})
	if err != nil {
		return fmt.Errorf("queue %s job %d: %w", op, id, err)
	}
	if waiting {
		q.signal()
	}
	return nil
}

// Retry counts a failed attempt of running job id and makes it PENDING
// again, due after the given delay (see Backoff), owing only the failed
// destinations. If events for the key arrived while it ran, it merges
// into their PENDING job, which is then due after the delay too: whatever
// made this attempt fail likely persists.
func (q *Queue) Retry(ctx context.Context, id int64, after time.Duration, fails []Failure) error {
	return q.reopen(ctx, "retry", id, func(t *terms) {
		t.attempts++
		t.due = now() + int64(after)
		t.reason, t.failures, t.owed = Summary(fails), list(fails), list(dests(fails))
		if t.firstFailed == 0 {
			t.firstFailed = now()
		}
	})
}

// Release hands running job id back unfinished, due at once, with its
// attempts unchanged: for a graceful shutdown.
func (q *Queue) Release(ctx context.Context, id int64) error {
	return q.reopen(ctx, "release", id, nil)
}

func (q *Queue) reopen(ctx context.Context, op string, id int64, change func(*terms)) error {
	err := q.write(ctx, false, func(tx *sql.Tx) error { return reopen(ctx, tx, id, Running, change) })
	if err != nil {
		return fmt.Errorf("queue %s job %d: %w", op, id, err)
	}
	q.signal()
	return nil
}

// Requeue makes the FAILED jobs that filter accepts (all if filter is nil)
// PENDING again, as if their event had just arrived, and returns how many.
func (q *Queue) Requeue(ctx context.Context, filter func(Job) bool) (int, error) {
	var ids []int64
	err := q.Failed(ctx, func(j Job) error {
		if filter == nil || filter(j) {
			ids = append(ids, j.ID)
		}
		return nil
	})
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	var n int
	err = q.write(ctx, true, func(tx *sql.Tx) error {
		t := now()
		for _, id := range ids {
			// As if new, but still owing only the failed destinations.
			err := reopen(ctx, tx, id, Failed, func(x *terms) { *x = terms{enqueued: t, due: t, owed: x.owed} })
			if errors.Is(err, ErrNoJob) {
				continue // superseded by a success since we listed it
			}
			if err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("queue requeue: %w", err)
	}
	q.signal()
	return n, nil
}

// terms are what reopen lets a caller change about a job.
type terms struct {
	attempts                   int
	enqueued, due, firstFailed int64
	reason, failures, owed     string
}

// reopen makes job id, now in state from, PENDING again, on the terms that
// change (if not nil) makes of its current ones; unchanged, its old due time
// keeps its place in line. A key has at most one PENDING job: if one arrived
// meanwhile, job id folds into it, which keeps the earlier Enqueued and the
// newer event (its own, unless sequencers prove otherwise).
func reopen(ctx context.Context, tx *sql.Tx, id int64, from State, change func(*terms)) error {
	var t terms
	err := tx.QueryRowContext(ctx, `SELECT attempts, enqueued, next_at, reason, failures, owed, first_failed
		FROM jobs WHERE id = ? AND state = ?`,
		id, from).Scan(&t.attempts, &t.enqueued, &t.due, &t.reason, &t.failures, &t.owed, &t.firstFailed)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNoJob
	}
	if err != nil {
		return err
	}
	if change != nil {
		change(&t)
	}
	res, err := tx.ExecContext(ctx, `UPDATE jobs AS p SET
			event    = iif(j.seq > p.seq AND p.seq <> '', j.event, p.event),
			seq      = iif(j.seq > p.seq AND p.seq <> '', j.seq, p.seq),
			enqueued = min(p.enqueued, ?2), attempts = ?3, next_at = ?4, reason = ?5,
			failures = ?6, first_failed = ?7
		FROM jobs AS j
		WHERE j.id = ?1 AND p.bucket = j.bucket AND p.key = j.key AND p.state = 'PENDING'`,
		id, t.enqueued, t.attempts, t.due, t.reason, t.failures, t.firstFailed)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n > 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM jobs WHERE id = ?`, id)
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE jobs SET state = 'PENDING', enqueued = ?, attempts = ?, next_at = ?, reason = ?,
		failures = ?, owed = ?, first_failed = ? WHERE id = ?`,
		t.enqueued, t.attempts, t.due, t.reason, t.failures, t.owed, t.firstFailed, id)
	return err
}

// Notified records that PENDING job id's destination dest was told the
// job missed its replication time threshold, so it is told once, and
// reports whether it did: a job claimed meanwhile is not marked, and its
// worker tells on completion instead.
func (q *Queue) Notified(ctx context.Context, id int64, dest string) (bool, error) {
	var n int64
	err := q.write(ctx, false, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET notified = json_insert(iif(notified = '', '[]', notified), '$[#]', ?)
			WHERE id = ? AND state = 'PENDING'`, dest, id)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("queue notified job %d: %w", id, err)
	}
	return n > 0, nil
}

// Record keeps ev as a FAILED job with fails, as if it had been queued and
// failed: for the intakes that do not queue here (SQS, NATS), so that
// their failures too are seen by `ferry status` and re-queued by `ferry
// retry`. It replaces the key's earlier FAILED job.
func (q *Queue) Record(ctx context.Context, ev event.Event, fails []Failure) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	err = q.write(ctx, true, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE bucket = ? AND key = ? AND state = 'FAILED'`, ev.Bucket, ev.Key); err != nil {
			return err
		}
		t := now()
		_, err := tx.ExecContext(ctx, `INSERT INTO jobs (bucket, key, state, event, seq, enqueued, next_at, size, attempts,
				reason, failures, owed, first_failed)
			VALUES (?, ?, 'FAILED', ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
			ev.Bucket, ev.Key, b, seqKey(ev.Sequencer), t, t, ev.Size, Summary(fails), list(fails), list(dests(fails)), t)
		return err
	})
	if err != nil {
		return fmt.Errorf("queue record failure of %s: %w", ev.Key, err)
	}
	return nil
}
