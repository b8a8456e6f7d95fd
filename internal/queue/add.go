package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-s3/ferry/internal/event"
)

// Add enqueues evs in one transaction and returns once it is durably
// committed. An event for a key that already has a PENDING job folds into
// it: the job keeps its Enqueued time and attempts, takes the newer event and
// becomes due now. A key whose job is RUNNING gets a PENDING successor that
// waits for it; a FAILED job stays as a record beside the new PENDING one.
func (q *Queue) Add(ctx context.Context, evs []event.Event) error {
	if len(evs) == 0 {
		return nil
	}
	err := q.write(ctx, true, func(tx *sql.Tx) error {
		// The stored event stays only if S3's sequencers prove it newer: a
		// late, reordered notification must not replace a later one.
		// A new event owes every destination again (owed = '').
		st, err := tx.PrepareContext(ctx, `INSERT INTO jobs (bucket, key, state, event, seq, enqueued, next_at, size)
			VALUES (?1, ?2, 'PENDING', ?3, ?4, ?5, ?5, ?6)
			ON CONFLICT (state, bucket, key) DO UPDATE SET
				event   = iif(seq > excluded.seq AND excluded.seq <> '', event, excluded.event),
				size    = iif(seq > excluded.seq AND excluded.seq <> '', size, excluded.size),
				seq     = iif(seq > excluded.seq AND excluded.seq <> '', seq, excluded.seq),
				next_at = min(next_at, excluded.next_at),
				owed    = ''`)
		if err != nil {
			return err
		}
		defer st.Close()
		t := now()
		for _, e := range evs {
			if e.Bucket == "" || e.Key == "" {
				return errors.New("event without bucket or key")
			}
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if _, err := st.ExecContext(ctx, e.Bucket, e.Key, b, seqKey(e.Sequencer), t, e.Size); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue add: %w", err)
	}
	q.signal()
	return nil
}

// seqKey makes S3 sequencers comparable as text. S3 compares them as hex
// numbers of different lengths: left-pad the shorter with zeros.
func seqKey(s string) string {
	const width = 32 // AWS's are 16-18 digits, MinIO's 16
	s = strings.ToUpper(s)
	if s == "" || len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}
