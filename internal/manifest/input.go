// Package manifest reads the list of objects for `ferry backfill` from a
// file instead of LISTing the bucket, so a bucket of a billion objects needs
// no LIST at all. It reads two formats, from a local file or an S3 object:
//
//   - csv: the S3 Batch Operations CSV manifest, one object per row,
//     "bucket,key" or "bucket,key,versionId", no header, keys URL-encoded
//     (see csv.go).
//   - inventory: an S3 Inventory report in CSV format, named by its
//     manifest.json (see inventory.go). Its rows carry the objects' facts
//     (size, ETag, mtime, ...), so backfill can plan without HEADs.
//
// An inventory report in S3 is read where S3 Inventory puts it: manifest.json
// names its data files by key in the report's destination bucket. A report
// copied to a local directory (aws s3 cp --recursive) keeps S3's layout,
//
//	<prefix>/<source-bucket>/<config-id>/<YYYY-MM-DDTHH-MMZ>/manifest.json
//	<prefix>/<source-bucket>/<config-id>/data/<name>.csv.gz
//
// so a data file is looked for at <manifest dir>/../data/<name>, then
// <manifest dir>/data/<name>, then <manifest dir>/<name> (a report gathered
// into one directory). <name> is the base name of the file's key and "data"
// stands for the key's last directory, which is data/ in S3's layout (an
// older example in AWS's docs has <YYYY-MM-DDTHH-MMZ>/files/ instead).
//
// Entries stream in file and row order with constant memory, and each
// carries its Position, so a run can checkpoint and resume after any entry
// without re-reading the files before it.
package manifest

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Entry is one object named by a manifest.
type Entry struct {
	Bucket, Key string
	// VersionID is "" when the input names no version (a CSV row of two
	// fields, an inventory of current versions only). An inventory's empty
	// version id is "null": the object was written before versioning.
	VersionID string

	// HasFacts says that Size, ETag and LastModified are known: the input
	// is an inventory with those columns. IsLatest, DeleteMarker and
	// ReplicationStatus are filled from an inventory's columns when it has
	// them; an inventory of current versions only has no IsLatest column
	// and its entries are all IsLatest.
	HasFacts          bool
	Size              int64
	ETag              string // without quotes
	LastModified      time.Time
	IsLatest          bool
	DeleteMarker      bool
	ReplicationStatus string // "" when never replicated (or not in the inventory)

	Pos Position // where this entry is, for checkpoints
}

// Position orders entries: the file's index within the input (0 for a CSV
// manifest, files[i] of an inventory) and the 1-based line of the row within
// the file (the decompressed file, for an inventory). The zero Position is
// before every entry.
type Position struct {
	File int
	Row  int64
}

// Less reports whether p comes before q.
func (p Position) Less(q Position) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	return p.Row < q.Row
}

func (p Position) String() string { return fmt.Sprintf("file %d row %d", p.File, p.Row) }

// Opener opens S3 objects (the manifest, an inventory's data files).
type Opener interface {
	// Open returns the object's body and size (-1 if unknown).
	Open(ctx context.Context, bucket, key string) (io.ReadCloser, int64, error)
}

// Input is an opened manifest: one or more files of CSV rows.
type Input struct {
	desc  string
	files []*file
	gzip  bool                          // the files are gzip'd (inventory data files)
	parse func([]string) (Entry, error) // one record -> entry (Pos is set by Each)

	done, total atomic.Int64 // bytes, for Progress
}

// file is one file of rows.
type file struct {
	name string // for messages; a local inventory file is renamed to its path once found
	size int64  // -1 while unknown
	// declared: size and md5 come from an inventory manifest; reading the
	// file checks them.
	declared bool
	md5      string // hex
	open     func(ctx context.Context) (io.ReadCloser, int64, error)
}

// Open reads the input named by loc: a local path or s3://bucket/key. kind
// is "csv" or "inventory"; "" picks by name: manifest.json is an inventory,
// anything else a CSV manifest. s3 opens S3 objects; it may be nil for
// local use, and then an s3:// loc is an error.
//
// An inventory's manifest.json is read here; data files are opened by Each.
func Open(ctx context.Context, loc, kind string, s3 Opener) (*Input, error) {
	p, err := parsePlace(loc)
	if err != nil {
		return nil, err
	}
	if p.bucket != "" && s3 == nil {
		return nil, fmt.Errorf("manifest %s: no S3 client to read it with", loc)
	}
	if kind == "" {
		kind = "csv"
		if p.base() == "manifest.json" {
			kind = "inventory"
		}
	}
	switch kind {
	case "csv":
		return openCSV(p, s3)
	case "inventory":
		return openInventory(ctx, p, s3)
	}
	return nil, fmt.Errorf("manifest %s: unknown kind %q (want csv or inventory)", loc, kind)
}

func (in *Input) String() string { return in.desc }

// Progress returns the bytes of input read so far by Each and the total (the
// sum of the file sizes, compressed for an inventory), for an ETA. A CSV
// manifest in S3 has total 0 until Each opens it. Files skipped by a resume
// count as read. Safe to call from another goroutine.
func (in *Input) Progress() (done, total int64) {
	return in.done.Load(), in.total.Load()
}

// Each calls fn for every entry after `after` (the zero Position: from the
// start), in order, and stops at fn's first error, which it returns as is.
// Files before after.File are skipped without being opened; the rows of
// after.File up to after.Row are read again and dropped.
//
// An inventory data file's size and MD5 are checked when it has been read
// to its end, so a mismatch is reported after its entries were passed to fn
// (gzip's own CRC catches most damage earlier, at the same point).
func (in *Input) Each(ctx context.Context, after Position, fn func(Entry) error) error {
	in.done.Store(0)
	for i, f := range in.files {
		if i < after.File {
			in.done.Add(max(f.size, 0))
			continue
		}
		var skip int64
		if i == after.File {
			skip = after.Row
		}
		if err := in.eachRow(ctx, i, f, skip, fn); err != nil {
			return err
		}
	}
	return nil
}

// eachRow reads file i, calling fn for the rows after line skip.
func (in *Input) eachRow(ctx context.Context, i int, f *file, skip int64, fn func(Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	body, size, err := f.open(ctx)
	if err != nil {
		return err
	}
	defer body.Close()
	if f.size < 0 && size >= 0 {
		f.size = size
		in.total.Add(size)
	}

	raw := &counter{r: body, done: &in.done}
	var src io.Reader = raw
	var sum hash.Hash
	if f.declared && f.md5 != "" {
		sum = md5.New()
		src = io.TeeReader(raw, sum)
	}
	// Large reads: an S3 body is a network stream.
	rows := io.Reader(bufio.NewReaderSize(src, readSize))
	if in.gzip {
		zr, err := gzip.NewReader(rows)
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		defer zr.Close()
		rows = zr
	}
	br := bufio.NewReaderSize(rows, readSize) // rows itself for a CSV manifest
	// Spreadsheet programs start a UTF-8 CSV with a byte order mark.
	if b, _ := br.Peek(len(bom)); string(b) == bom {
		br.Discard(len(bom))
	}
	r := csv.NewReader(br) // uses br as its buffer
	r.ReuseRecord = true
	r.FieldsPerRecord = -1 // parse checks the count, with a clearer message
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err) // a csv.ParseError names the line
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		line, _ := r.FieldPos(0)
		if int64(line) <= skip {
			continue
		}
		e, err := in.parse(rec)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", f.name, line, err)
		}
		e.Pos = Position{File: i, Row: int64(line)}
		if err := fn(e); err != nil {
			return err
		}
	}

	// The checks cover the whole file as stored, including any bytes the
	// decompressor did not need.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return fmt.Errorf("%s: %w", f.name, err)
	}
	if sum != nil {
		if got := hex.EncodeToString(sum.Sum(nil)); !strings.EqualFold(got, f.md5) {
			return fmt.Errorf("%s: MD5 %s, but the inventory manifest says %s (damaged or replaced file)", f.name, got, f.md5)
		}
	}
	if f.declared && raw.n != f.size {
		return fmt.Errorf("%s: %d bytes, but the inventory manifest says %d", f.name, raw.n, f.size)
	}
	return nil
}

const (
	readSize = 64 << 10
	bom      = "\ufeff"
)

// counter counts the bytes read from r, in n and in *done (for Progress).
type counter struct {
	r    io.Reader
	n    int64
	done *atomic.Int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.done.Add(int64(n))
	return n, err
}

// place is where a file is: an S3 object (bucket set) or a local path.
type place struct {
	bucket, key string
	path        string
}

func parsePlace(loc string) (place, error) {
	if rest, ok := strings.CutPrefix(loc, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		if bucket == "" || key == "" || strings.HasSuffix(key, "/") {
			return place{}, fmt.Errorf("manifest %q: want s3://bucket/key of a file", loc)
		}
		return place{bucket: bucket, key: key}, nil
	}
	if i := strings.Index(loc, "://"); i >= 0 {
		return place{}, fmt.Errorf("manifest %q: unsupported scheme %q (use s3://bucket/key or a local path)", loc, loc[:i])
	}
	if loc == "" {
		return place{}, fmt.Errorf("manifest: empty location")
	}
	return place{path: loc}, nil
}

func (p place) String() string {
	if p.bucket != "" {
		return "s3://" + p.bucket + "/" + p.key
	}
	return p.path
}

// base is the file name, for telling the kind of input.
func (p place) base() string {
	if p.bucket != "" {
		return path.Base(p.key)
	}
	return filepath.Base(p.path)
}

func (p place) open(ctx context.Context, s3 Opener) (io.ReadCloser, int64, error) {
	if p.bucket != "" {
		return s3.Open(ctx, p.bucket, p.key)
	}
	return openLocal(p.path)
}

// openLocal opens a file and returns its size: -1 for a pipe (a manifest
// can come from a process substitution, <(...)).
func openLocal(name string) (io.ReadCloser, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err // *PathError names the file
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	switch {
	case st.IsDir():
		f.Close()
		return nil, 0, fmt.Errorf("%s is a directory, not a manifest file", name)
	case !st.Mode().IsRegular():
		return f, -1, nil
	}
	return f, st.Size(), nil
}
