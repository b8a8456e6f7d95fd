package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// An S3 Inventory report (AWS S3 User Guide, "Amazon S3 Inventory"):
// manifest.json lists the data files, each a gzip'd CSV without header whose
// columns are the manifest's fileSchema, e.g.
//
//	"fileSchema": "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size,
//	   LastModifiedDate, ETag, StorageClass, IsMultipartUploaded,
//	   ReplicationStatus, EncryptionStatus, ObjectLockRetainUntilDate,
//	   ObjectLockMode, ObjectLockLegalHoldStatus"
//
// Bucket and Key are always there, VersionId, IsLatest and IsDeleteMarker in
// an inventory of all versions, the rest as configured; columns ferry does not
// use are ignored. Keys are URL-encoded (see decodeKey), IsLatest and
// IsDeleteMarker are true/false ("True" in AWS's prose; either case is read),
// Size is bytes, LastModifiedDate ISO 8601 (2016-11-06T21:32:00.000Z), ETag
// unquoted, ReplicationStatus PENDING, COMPLETED, FAILED, REPLICA or empty.

// maxManifestJSON bounds the manifest.json read into memory; it lists files,
// not objects, so even a billion-object report's is far smaller.
const maxManifestJSON = 64 << 20

// inventoryManifest is manifest.json.
type inventoryManifest struct {
	SourceBucket      string          `json:"sourceBucket"`
	DestinationBucket string          `json:"destinationBucket"` // arn:aws:s3:::bucket
	Version           string          `json:"version"`
	CreationTimestamp json.RawMessage `json:"creationTimestamp"` // "1514944800000": epoch ms, as a string
	FileFormat        string          `json:"fileFormat"`
	FileSchema        string          `json:"fileSchema"`
	Files             []struct {
		Key         string `json:"key"`
		Size        int64  `json:"size"`
		MD5checksum string `json:"MD5checksum"`
	} `json:"files"`
}

// openInventory reads manifest.json and prepares its data files.
func openInventory(ctx context.Context, p place, s3 Opener) (*Input, error) {
	m, err := readInventoryManifest(ctx, p, s3)
	if err != nil {
		return nil, fmt.Errorf("inventory manifest %s: %w", p, err)
	}
	switch {
	case strings.EqualFold(m.FileFormat, "CSV"):
	case strings.EqualFold(m.FileFormat, "ORC"), strings.EqualFold(m.FileFormat, "Parquet"):
		return nil, fmt.Errorf("inventory manifest %s: the report is in %s format; ferry reads only CSV inventory reports "+
			"(set the inventory configuration's output format to CSV, or give a CSV manifest)", p, m.FileFormat)
	default:
		return nil, fmt.Errorf("inventory manifest %s: unknown fileFormat %q (want CSV)", p, m.FileFormat)
	}
	s, err := parseSchema(m.FileSchema, m.SourceBucket)
	if err != nil {
		return nil, fmt.Errorf("inventory manifest %s: %w", p, err)
	}

	in := &Input{gzip: true, parse: s.parse}
	for i, mf := range m.Files {
		if mf.Key == "" || mf.Size < 0 {
			return nil, fmt.Errorf("inventory manifest %s: files[%d]: no key or a negative size", p, i)
		}
		f := &file{name: mf.Key, size: mf.Size, declared: true, md5: mf.MD5checksum}
		if p.bucket != "" {
			// The data files are in the report's destination bucket; a
			// manifest without one is taken to sit beside them.
			dp := place{bucket: bucketOfARN(m.DestinationBucket), key: mf.Key}
			if dp.bucket == "" {
				dp.bucket = p.bucket
			}
			f.name = dp.String()
			f.open = func(ctx context.Context) (io.ReadCloser, int64, error) { return dp.open(ctx, s3) }
		} else {
			f.open = localDataFile(filepath.Dir(p.path), mf.Key, f)
		}
		in.files = append(in.files, f)
		in.total.Add(mf.Size)
	}
	in.desc = fmt.Sprintf("%s (S3 Inventory of %s, %d files)", p, m.SourceBucket, len(in.files))
	if t := creationTime(m.CreationTimestamp); !t.IsZero() {
		in.desc = fmt.Sprintf("%s (S3 Inventory of %s from %s, %d files)", p, m.SourceBucket, t.UTC().Format(time.RFC3339), len(in.files))
	}
	return in, nil
}

func readInventoryManifest(ctx context.Context, p place, s3 Opener) (*inventoryManifest, error) {
	body, _, err := p.open(ctx, s3)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var m inventoryManifest
	if err := json.NewDecoder(io.LimitReader(body, maxManifestJSON)).Decode(&m); err != nil {
		return nil, fmt.Errorf("not an S3 Inventory manifest.json: %w", err)
	}
	return &m, nil
}

// localDataFile opens a data file of a local copy of a report, found by the
// last directory and base name of its key (see the package comment). It
// looks only when Each reads the file, so files a resume skips need not be
// there.
func localDataFile(dir, key string, f *file) func(context.Context) (io.ReadCloser, int64, error) {
	return func(context.Context) (io.ReadCloser, int64, error) {
		base := path.Base(key)
		var tried []string
		if d := path.Base(path.Dir(key)); d != "." && d != "/" {
			tried = append(tried, filepath.Join(dir, "..", d, base), filepath.Join(dir, d, base))
		}
		tried = append(tried, filepath.Join(dir, base))
		for _, name := range tried {
			rc, size, err := openLocal(name)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, 0, fmt.Errorf("inventory data file %s: %w", key, err)
			}
			f.name = name
			return rc, size, nil
		}
		return nil, 0, fmt.Errorf("inventory data file %s: not found at %s", key, strings.Join(tried, ", "))
	}
}

// bucketOfARN returns the bucket of arn:aws:s3:::bucket (any partition);
// anything else is taken as a bucket name.
func bucketOfARN(arn string) string {
	if rest, ok := strings.CutPrefix(arn, "arn:"); ok {
		if i := strings.Index(rest, ":s3:::"); i >= 0 {
			return rest[i+len(":s3:::"):]
		}
	}
	return arn
}

// creationTime reads creationTimestamp, epoch milliseconds as a string (or,
// leniently, a number); the zero time if it is neither.
func creationTime(raw json.RawMessage) time.Time {
	s := strings.Trim(string(raw), `"`)
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// schema is where the columns ferry uses are in a row (-1: absent).
type schema struct {
	n                                    int
	bucket, key, version, latest, marker int
	size, modified, etag, replication    int
	sourceBucket                         string // for a schema without Bucket
}

func parseSchema(fileSchema, sourceBucket string) (*schema, error) {
	s := &schema{bucket: -1, key: -1, version: -1, latest: -1, marker: -1,
		size: -1, modified: -1, etag: -1, replication: -1, sourceBucket: sourceBucket}
	cols := map[string]*int{
		"Bucket": &s.bucket, "Key": &s.key, "VersionId": &s.version, "IsLatest": &s.latest,
		"IsDeleteMarker": &s.marker, "Size": &s.size, "LastModifiedDate": &s.modified,
		"ETag": &s.etag, "ReplicationStatus": &s.replication,
	}
	seen := map[string]bool{}
	for i, name := range strings.Split(fileSchema, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, fmt.Errorf("fileSchema %q: empty column name", fileSchema)
		}
		if seen[name] {
			return nil, fmt.Errorf("fileSchema %q: column %s twice", fileSchema, name)
		}
		seen[name] = true
		if p, ok := cols[name]; ok {
			*p = i
		}
		s.n = i + 1
	}
	if s.key < 0 {
		return nil, fmt.Errorf("fileSchema %q has no Key column", fileSchema)
	}
	if s.bucket < 0 && sourceBucket == "" {
		return nil, fmt.Errorf("fileSchema %q has no Bucket column and the manifest no sourceBucket", fileSchema)
	}
	return s, nil
}

// facts: the inventory has what a plan compares, so HasFacts.
func (s *schema) facts() bool { return s.size >= 0 && s.modified >= 0 && s.etag >= 0 }

// parse reads one data row.
func (s *schema) parse(rec []string) (Entry, error) {
	if len(rec) != s.n {
		return Entry{}, fmt.Errorf("%d fields, but the fileSchema has %d", len(rec), s.n)
	}
	key, err := decodeKey(rec[s.key])
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Bucket: s.sourceBucket, Key: key, IsLatest: true}
	if s.bucket >= 0 {
		e.Bucket = rec[s.bucket]
	}
	if e.Bucket == "" {
		return Entry{}, errors.New("empty bucket name")
	}
	if s.version >= 0 {
		// An object written before versioning was enabled has the version
		// id "null", which S3 lists as "null" and the inventory as empty.
		// "null" makes an inventory entry equal a ListObjectVersions one
		// (and is what AWS tells Batch Operations users to write).
		e.VersionID = rec[s.version]
		if e.VersionID == "" {
			e.VersionID = "null"
		}
	}
	if s.latest >= 0 {
		if e.IsLatest, err = parseBool("IsLatest", rec[s.latest]); err != nil {
			return Entry{}, err
		}
	}
	if s.marker >= 0 {
		if e.DeleteMarker, err = parseBool("IsDeleteMarker", rec[s.marker]); err != nil {
			return Entry{}, err
		}
	}
	if s.replication >= 0 {
		e.ReplicationStatus = rec[s.replication]
	}
	if !s.facts() {
		return e, nil
	}
	e.HasFacts = true
	// A delete marker has no size or ETag.
	if v := rec[s.size]; v != "" {
		if e.Size, err = strconv.ParseInt(v, 10, 64); err != nil || e.Size < 0 {
			return Entry{}, fmt.Errorf("column Size: %q is not a byte count", v)
		}
	}
	if v := rec[s.modified]; v != "" {
		if e.LastModified, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return Entry{}, fmt.Errorf("column LastModifiedDate: %q is not an ISO 8601 time", v)
		}
	}
	e.ETag = strings.Trim(rec[s.etag], `"`)
	return e, nil
}

func parseBool(column, v string) (bool, error) {
	switch {
	case strings.EqualFold(v, "true"):
		return true, nil
	case strings.EqualFold(v, "false"), v == "":
		return false, nil
	}
	return false, fmt.Errorf("column %s: %q is neither true nor false", column, v)
}
