package queue

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// Claim marks up to n due PENDING jobs RUNNING and returns them, the
// longest-due first. It never returns a job whose key has a RUNNING job,
// which keeps one key's work in order.
func (q *Queue) Claim(ctx context.Context, n int) ([]Job, error) {
	if n <= 0 {
		return nil, nil
	}
	type claimed struct {
		Job
		due int64
	}
	var cs []claimed
	err := q.write(ctx, false, func(tx *sql.Tx) error {
		// jobs_due yields PENDING jobs in due order and the scan stops after
		// n that pass the filter. A key has at most one PENDING job, so no
		// two claimed jobs share a key.
		rows, err := tx.QueryContext(ctx, `UPDATE jobs SET state = 'RUNNING' WHERE id IN (
				SELECT id FROM jobs AS p INDEXED BY jobs_due
				WHERE p.state = 'PENDING' AND p.next_at <= ?1 AND NOT EXISTS (
					SELECT 1 FROM jobs AS r WHERE r.bucket = p.bucket AND r.key = p.key AND r.state = 'RUNNING')
				ORDER BY p.next_at, p.id LIMIT ?2)
			RETURNING `+jobColumns+`, next_at`, now(), n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c claimed
			if c.Job, err = scanJob(rows, &c.due); err != nil {
				return err
			}
			cs = append(cs, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("queue claim: %w", err)
	}
	// RETURNING gives rows in no promised order.
	slices.SortFunc(cs, func(a, b claimed) int {
		return cmp.Or(cmp.Compare(a.due, b.due), cmp.Compare(a.ID, b.ID))
	})
	jobs := make([]Job, len(cs))
	for i, c := range cs {
		jobs[i] = c.Job
	}
	return jobs, nil
}
