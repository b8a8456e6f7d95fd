package backfill

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ferry-s3/ferry/internal/manifest"
)

// state is a job's checkpoint, kept in Dir/checkpoint.json. It is written
// atomically (temp file, fsync, rename) after the report rows it accounts
// for are on disk, so a job killed at any moment resumes from a point that
// the report agrees with.
type state struct {
	// Fingerprint names what the job does (config, inputs, filters); a
	// checkpoint of another job is never resumed.
	Fingerprint string    `json:"fingerprint"`
	Started     time.Time `json:"started"`
	Updated     time.Time `json:"updated"`
	// Marks: per pair, the last source key done (listing input).
	Marks []string `json:"marks,omitempty"`
	// Position: the last manifest entry done (manifest input).
	Position manifest.Position `json:"position"`
	// ReportBytes is the report's length at this checkpoint: rows after
	// it belong to work that will be redone, so they are cut on resume.
	ReportBytes int64 `json:"report_bytes"`
	// Complete is set when the job ran to the end; running it again
	// starts a new pass.
	Complete bool `json:"complete"`
	// Runs counts the runs of this pass; Seen carries the keys seen by
	// earlier runs of the pass, and LastTotal the keys of the last
	// complete pass (for the ETA of the next).
	Runs      int   `json:"runs"`
	Seen      int64 `json:"seen"`
	LastTotal int64 `json:"last_total,omitempty"`
}

const stateFile = "checkpoint.json"

// estimate is the size of the job's last complete pass, for an ETA: this
// pass's own total once complete, else what the previous pass left.
func (s state) estimate(fingerprint string) int64 {
	switch {
	case s.Fingerprint != fingerprint:
		return 0
	case s.Complete:
		return s.Seen
	}
	return s.LastTotal
}

// loadState reads dir's checkpoint; a missing one is a zero state.
func loadState(dir string) (state, error) {
	var s state
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("checkpoint %s is damaged (%v): remove it or run with --restart", filepath.Join(dir, stateFile), err)
	}
	return s, nil
}

func (s state) save(dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, stateFile)); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lockDir takes an exclusive lock on dir (creating it), so two runs of one
// job cannot interleave their checkpoints. The lock goes with the process.
func lockDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("backfill job %s is already running in another process", dir)
	}
	return func() { f.Close() }, nil
}
