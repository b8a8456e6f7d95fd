package queue

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] brings the schema from user_version i to i+1. Append only:
// a released migration never changes.
var migrations = []string{
	`CREATE TABLE jobs (
		id       INTEGER PRIMARY KEY,
		bucket   TEXT NOT NULL,
		key      TEXT NOT NULL,
		state    TEXT NOT NULL CHECK (state IN ('PENDING', 'RUNNING', 'FAILED')),
		event    BLOB NOT NULL,       -- event.Event as JSON
		seq      TEXT NOT NULL,       -- the event's sequencer, zero-padded so that text order is S3's order
		attempts INTEGER NOT NULL DEFAULT 0,
		enqueued INTEGER NOT NULL,    -- unix ns
		next_at  INTEGER NOT NULL,    -- unix ns; claimable when PENDING and next_at <= now
		reason   TEXT NOT NULL DEFAULT ''
	);
	-- At most one job per key and state: the upsert target of Add and the
	-- lookup of a key's job in a state. State first, so that Counts counts
	-- a range of it; the planner would then take it for the PENDING scans
	-- too, so those name their index (INDEXED BY).
	CREATE UNIQUE INDEX jobs_key ON jobs (state, bucket, key);
	-- Claim walks this in order and stops after n rows.
	CREATE INDEX jobs_due ON jobs (next_at) WHERE state = 'PENDING';
	-- Counts' OldestPending, for the replication latency metric.
	CREATE INDEX jobs_age ON jobs (enqueued) WHERE state = 'PENDING';`,

	// Status, metrics and per-destination retry (ferry status, /metrics,
	// ferry retry).
	`ALTER TABLE jobs ADD COLUMN size INTEGER NOT NULL DEFAULT 0;      -- the event's object size: bytes pending
	ALTER TABLE jobs ADD COLUMN failures TEXT NOT NULL DEFAULT '';    -- JSON []Failure of the last failed attempt
	ALTER TABLE jobs ADD COLUMN owed TEXT NOT NULL DEFAULT '';        -- JSON []string: destinations still to do; '' = all
	ALTER TABLE jobs ADD COLUMN first_failed INTEGER NOT NULL DEFAULT 0; -- unix ns of the first failed attempt; 0 = none
	ALTER TABLE jobs ADD COLUMN notified TEXT NOT NULL DEFAULT '';    -- JSON []string: destinations told of a missed threshold`,
}

func migrate(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this ferry knows (%d): run a newer ferry", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		// user_version lives in the database header and is transactional, so
		// a crash leaves either the old schema or the new one.
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	return nil
}
