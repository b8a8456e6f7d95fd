package backfill

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
)

// ReportHeader is the first row of a completion report. Status is S3's
// replication vocabulary: COMPLETED, FAILED (with S3's failure reason),
// or PLANNED in a dry run.
var ReportHeader = []string{"bucket", "key", "version_id", "destination", "destination_key", "action", "status", "failure_reason", "detail"}

// Row is one line of the report.
type Row struct {
	Bucket, Key, VersionID string
	Dest, DestKey          string
	Action, Status         string
	Reason, Detail         string
}

// report appends rows to the completion report CSV. Rows are buffered;
// sync flushes them to disk and returns the file's length, which the
// checkpoint records.
type report struct {
	f *os.File
	w *bufio.Writer
	c *csv.Writer
}

// openReport opens path for appending after cutting it to keep bytes
// (rows after the last checkpoint are redone by this run). A new or empty
// report gets the header.
func openReport(path string, keep int64) (*report, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600) // bucket and key names may be private
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("report: %w", err)
	}
	if keep > fi.Size() {
		keep = 0 // not the report the checkpoint knew: start it again
	}
	if err := f.Truncate(keep); err != nil {
		f.Close()
		return nil, fmt.Errorf("report: %w", err)
	}
	if _, err := f.Seek(keep, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("report: %w", err)
	}
	r := &report{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	r.c = csv.NewWriter(r.w)
	if keep == 0 {
		r.c.Write(ReportHeader)
	}
	return r, nil
}

func (r *report) add(row Row) {
	r.c.Write([]string{row.Bucket, row.Key, row.VersionID, row.Dest, row.DestKey, row.Action, row.Status, row.Reason, row.Detail})
}

// flush hands every row so far to the file (not yet durable) and returns
// the report's length.
func (r *report) flush() (int64, error) {
	r.c.Flush()
	if err := r.w.Flush(); err != nil {
		return 0, fmt.Errorf("report: %w", err)
	}
	return r.f.Seek(0, 1)
}

// fsync makes what was flushed durable. It needs no lock against add:
// rows added meanwhile only make the file longer.
func (r *report) fsync() error {
	if err := r.f.Sync(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// sync flushes and fsyncs, and returns the report's length.
func (r *report) sync() (int64, error) {
	n, err := r.flush()
	if err != nil {
		return 0, err
	}
	return n, r.fsync()
}

func (r *report) close() error {
	_, err := r.sync()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	return err
}
