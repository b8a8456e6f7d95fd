package object

import (
	"net/url"
	"strings"
	"time"
)

// Origin is what a replica records, in its user metadata, about the source
// version it was copied from. Decisions compare it with the source's current
// state, so re-runs, duplicate events and any worker reach the same answer,
// and a replica is recognisable as one (ferry never replicates a replica).
type Origin struct {
	Bucket    string
	Key       string
	VersionID string
	ETag      string
	MTime     time.Time
}

// User-metadata keys (sent as x-amz-meta-ferry-origin-*).
const (
	metaBucket  = "ferry-origin-bucket"
	metaKey     = "ferry-origin-key"
	metaVersion = "ferry-origin-version-id"
	metaETag    = "ferry-origin-etag"
	metaMTime   = "ferry-origin-mtime"
)

// maxKeyMeta bounds the escaped key stored in metadata: S3 allows 2 KB of
// user metadata in all, and a 1024-byte unicode key escapes to ~3 KB. Longer
// keys are not stored; the other fields still identify the origin.
const maxKeyMeta = 1024

// Metadata returns the origin as user metadata (ASCII only: keys are
// percent-escaped because header values must be ASCII).
func (o Origin) Metadata() map[string]string {
	m := map[string]string{
		metaBucket: o.Bucket,
		metaETag:   o.ETag,
	}
	if k := url.PathEscape(o.Key); len(k) <= maxKeyMeta {
		m[metaKey] = k
	}
	if o.VersionID != "" && o.VersionID != "null" {
		m[metaVersion] = o.VersionID
	}
	if !o.MTime.IsZero() {
		m[metaMTime] = o.MTime.UTC().Format(time.RFC3339)
	}
	return m
}

// ParseOrigin reads the origin from a replica's user metadata. ok is false
// when the object is not a ferry replica.
func ParseOrigin(meta map[string]string) (o Origin, ok bool) {
	get := func(k string) string {
		if v, found := meta[k]; found {
			return v
		}
		for mk, v := range meta { // some servers keep the case they were sent
			if strings.EqualFold(mk, k) {
				return v
			}
		}
		return ""
	}
	o.Bucket = get(metaBucket)
	o.ETag = get(metaETag)
	if o.Bucket == "" && o.ETag == "" {
		return Origin{}, false
	}
	if k, err := url.PathUnescape(get(metaKey)); err == nil {
		o.Key = k
	}
	o.VersionID = get(metaVersion)
	if t, err := time.Parse(time.RFC3339, get(metaMTime)); err == nil {
		o.MTime = t
	}
	return o, true
}

// StripOrigin returns user metadata without ferry's origin keys, so that a
// copy of a replica records its own origin and not a stale one.
func StripOrigin(meta map[string]string) map[string]string {
	out := make(map[string]string, len(meta)+5)
	for k, v := range meta {
		if !strings.HasPrefix(strings.ToLower(k), "ferry-origin-") {
			out[strings.ToLower(k)] = v
		}
	}
	return out
}
