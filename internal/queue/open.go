package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"modernc.org/sqlite" // also registers the "sqlite" driver
)

// Open opens the queue in dir, creating it if needed, and recovers from the
// previous process: its RUNNING jobs go back to PENDING and run again.
// Only one process may have dir open at a time.
func Open(dir string) (*Queue, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("queue dir: %w", err)
	}
	// The queue holds bucket and key names, which can be private.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create queue dir: %w", err)
	}
	if err := tighten(dir, 0o700); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	q, err := open(dir, lock)
	if err != nil {
		lock.release()
		return nil, err
	}
	return q, nil
}

// OpenShared opens the queue in dir beside the daemon that owns it, for
// `ferry status` and `ferry retry`: it takes no lock, recovers nothing and
// changes no schema, so it is safe while the daemon runs (SQLite's WAL
// lets both read, and serialises writes). The queue must exist.
func OpenShared(dir string) (*Queue, error) {
	name := filepath.Join(dir, "queue.db")
	if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no queue in %s: is it the daemon's data directory (run.data_dir, or --data-dir)?", dir)
	} else if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(name))
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		db.Close()
		return nil, fmt.Errorf("queue %s: %w", name, err)
	}
	if v != len(migrations) {
		db.Close()
		return nil, fmt.Errorf("queue %s has schema version %d, this ferry knows %d: run the same ferry version as the daemon", name, v, len(migrations))
	}
	return &Queue{db: db, ready: make(chan struct{}, 1)}, nil
}

func open(dir string, lock *dirLock) (*Queue, error) {
	name := filepath.Join(dir, "queue.db")
	// Create the file ourselves so that its mode is ours, not SQLite's 0644;
	// SQLite gives the -wal and -shm files the database file's mode.
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	f.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := tighten(name+suffix, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}

	// WAL: readers (status, metrics) never block the writer. synchronous=FULL:
	// a commit is on disk when it returns, which Add promises.
	// _txlock=immediate: a write transaction takes the write lock up front
	// instead of failing with SQLITE_BUSY when it upgrades from read.
	db, err := sql.Open("sqlite", dsn(name))
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q := &Queue{db: db, lock: lock, ready: make(chan struct{}, 1)}
	if err := q.init(); err != nil {
		db.Close()
		if damaged(err) {
			return nil, fmt.Errorf("queue %s is damaged (%w): move it away to start with an empty queue", name, err)
		}
		return nil, fmt.Errorf("queue %s: %w", name, err)
	}
	return q, nil
}

func dsn(name string) string {
	query := url.Values{
		"_pragma": {"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)"},
		"_txlock": {"immediate"},
	}
	return (&url.URL{Scheme: "file", Path: name, RawQuery: query.Encode()}).String()
}

func (q *Queue) init() error {
	ctx := context.Background()
	var mode string
	if err := q.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		// WAL needs shared memory between processes (mmap), which some
		// network file systems lack.
		return fmt.Errorf("cannot use WAL mode (journal_mode is %q): put the data directory on a local file system", mode)
	}
	if err := migrate(ctx, q.db); err != nil {
		return err
	}
	return q.recover(ctx)
}

// recover hands back the jobs that the previous process had claimed. It held
// the lock, so it is gone: their work is redone, which is safe because
// workers are idempotent. The attempt is not counted as failed: the process
// may just have been stopped.
func (q *Queue) recover(ctx context.Context) error {
	err := q.write(ctx, true, func(tx *sql.Tx) error {
		for {
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM jobs WHERE state = 'RUNNING' LIMIT 1`).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err == nil {
				err = reopen(ctx, tx, id, Running, nil)
			}
			if err != nil {
				return err
			}
		}
	})
	if err != nil {
		return fmt.Errorf("recover running jobs: %w", err)
	}
	q.signal() // work left by the previous process, recovered or not
	return nil
}

func damaged(err error) bool {
	const corrupt, notADB = 11, 26 // SQLITE_CORRUPT, SQLITE_NOTADB
	var e *sqlite.Error
	return errors.As(err, &e) && (e.Code()&0xff == corrupt || e.Code()&0xff == notADB)
}

// tighten removes permission bits beyond perm from an existing file, so a
// directory made world-readable by hand, or by an older version, is fixed.
func tighten(name string, perm fs.FileMode) error {
	fi, err := os.Stat(name)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&^perm != 0 {
		if err := os.Chmod(name, fi.Mode().Perm()&perm); err != nil {
			return fmt.Errorf("restrict permissions of %s: %w", name, err)
		}
	}
	return nil
}
