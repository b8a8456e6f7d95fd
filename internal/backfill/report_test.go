package backfill

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

// A resumed job cuts the report back to the checkpoint's length: rows
// written after the checkpoint belong to work the run redoes.
func TestReportCutOnResume(t *testing.T) {
	path := filepath.Join(t.TempDir(), "report.csv")
	r, err := openReport(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	r.add(Row{Bucket: "src", Key: "a", Status: "COMPLETED"})
	keep, err := r.sync() // the checkpoint records this length
	if err != nil {
		t.Fatal(err)
	}
	r.add(Row{Bucket: "src", Key: "b", Status: "FAILED", Reason: "DstPutObjectNotPermitted"})
	if err := r.close(); err != nil { // then the process dies
		t.Fatal(err)
	}
	r, err = openReport(path, keep)
	if err != nil {
		t.Fatal(err)
	}
	r.add(Row{Bucket: "src", Key: "b", Status: "COMPLETED"})
	if err := r.close(); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][1] != "a" || rows[2][1] != "b" || rows[2][6] != "COMPLETED" {
		t.Fatalf("report after resume: %q; want header, a, b COMPLETED once", rows)
	}
	// A checkpoint longer than the file is not this report's: start over.
	r, err = openReport(path, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	r.close()
	if b, _ := os.ReadFile(path); len(b) == 0 || string(b[:6]) != "bucket" {
		t.Fatalf("restarted report %q", b)
	}
}

// The checkpoint survives a reload, and a job's estimate comes from its own
// last complete pass only.
func TestStateSaveLoad(t *testing.T) {
	dir := t.TempDir()
	st := state{Fingerprint: "f1", Marks: []string{"k/1"}, Seen: 7, Complete: true, ReportBytes: 42}
	if err := st.save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := loadState(dir)
	if err != nil || got.Marks[0] != "k/1" || got.ReportBytes != 42 {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	if got.estimate("f1") != 7 || got.estimate("other") != 0 {
		t.Errorf("estimate: %d for f1, %d for another job", got.estimate("f1"), got.estimate("other"))
	}
	os.WriteFile(filepath.Join(dir, stateFile), []byte("{half"), 0o600)
	if _, err := loadState(dir); err == nil {
		t.Error("a damaged checkpoint loaded without error")
	}
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := lockDir(dir); err == nil {
		t.Error("a second lock on the same job succeeded")
	}
}
