package queue

import (
	"context"
	"database/sql"
	"fmt"
)

// Expedite makes every PENDING job that has failed before and still owes
// dest due now, instead of at the end of its backoff, and returns how many
// it moved. The daemon calls it when dest, after an outage, answers again:
// the backoff was for the outage. dest "" means any destination (the
// source was the one down).
func (q *Queue) Expedite(ctx context.Context, dest string) (int, error) {
	var n int64
	err := q.write(ctx, false, func(tx *sql.Tx) error {
		t := now()
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET next_at = ?1
			WHERE state = 'PENDING' AND attempts > 0 AND next_at > ?1
			AND (?2 = '' OR owed = '' OR EXISTS (SELECT 1 FROM json_each(jobs.owed) WHERE value = ?2))`, t, dest)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("queue expedite: %w", err)
	}
	if n > 0 {
		q.signal()
	}
	return int(n), nil
}
