package manifest

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/url"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzCSV: no input makes the reader panic, and what it accepts is sane:
//   - rows in order, a bucket and a UTF-8 key each, the whole input read;
//   - keys survive encoding: the entries written back as a Batch
//     Operations manifest (keys URL-encoded, a BOM first, as a spreadsheet
//     writes it) read back as the same objects;
//   - resuming after any entry's position passes exactly the entries after
//     it, which is what a backfill's checkpoint relies on.
//
// Seeds: the shapes below and the committed corpus in
// testdata/fuzz/FuzzCSV (manifests as S3 Batch Operations and S3
// Inventory write them).
func FuzzCSV(f *testing.F) {
	f.Add([]byte(sampleCSV))
	f.Add([]byte("b,k\nb\n"))
	f.Add([]byte("b,100%zz\n"))
	f.Add([]byte("b,\"a\"\"b\",v\r\n\n,\n"))
	f.Add([]byte("\ufeff\ufeffb,%FF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytesInput(data)
		var entries []Entry
		var last Position
		err := in.Each(context.Background(), Position{}, func(e Entry) error {
			if !last.Less(e.Pos) {
				t.Fatalf("entry at %v after %v", e.Pos, last)
			}
			last = e.Pos
			if e.Bucket == "" || e.Key == "" || !utf8.ValidString(e.Key) {
				t.Fatalf("entry %+v: empty bucket or key, or key not UTF-8", e)
			}
			entries = append(entries, e)
			return nil
		})
		if done, _ := in.Progress(); err == nil && done != int64(len(data)) {
			t.Fatalf("read %d of %d bytes without an error", done, len(data))
		}
		if len(entries) == 0 {
			return
		}

		// Written back and read again: the same objects.
		var buf bytes.Buffer
		buf.WriteString(bom)
		w := csv.NewWriter(&buf)
		for _, e := range entries {
			rec := []string{e.Bucket, url.QueryEscape(e.Key)}
			if e.VersionID != "" {
				rec = append(rec, e.VersionID)
			}
			w.Write(rec)
		}
		w.Flush()
		var back []Entry
		if err := bytesInput(buf.Bytes()).Each(context.Background(), Position{}, func(e Entry) error {
			back = append(back, e)
			return nil
		}); err != nil {
			t.Fatalf("the entries written back do not read: %v\n%q", err, buf.Bytes())
		}
		if len(back) != len(entries) {
			t.Fatalf("%d entries written back, %d read", len(entries), len(back))
		}
		for i := range back {
			if a, b := entries[i], back[i]; a.Bucket != b.Bucket || a.Key != b.Key || a.VersionID != b.VersionID {
				t.Fatalf("entry %d written back as %+v, read as %+v", i, a, b)
			}
		}

		// Resumed after the middle entry: the rest, exactly.
		mid := len(entries) / 2
		var rest []Entry
		rerr := bytesInput(data).Each(context.Background(), entries[mid].Pos, func(e Entry) error {
			rest = append(rest, e)
			return nil
		})
		if (rerr == nil) != (err == nil) || (err != nil && rerr.Error() != err.Error()) {
			t.Fatalf("resumed after %v: error %v; from the start: %v", entries[mid].Pos, rerr, err)
		}
		if want := entries[mid+1:]; len(rest) != len(want) || (len(want) > 0 && !reflect.DeepEqual(rest, want)) {
			t.Fatalf("resumed after %v: %+v, want %+v", entries[mid].Pos, rest, want)
		}
	})
}

// bytesInput is a CSV manifest held in memory.
func bytesInput(data []byte) *Input {
	return newCSVInput(&file{
		name: "fuzz.csv",
		size: int64(len(data)),
		open: func(context.Context) (io.ReadCloser, int64, error) {
			return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
		},
	})
}
