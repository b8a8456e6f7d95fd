// Package deploy publishes a build folder to a bucket: it uploads only the
// files whose content changed, with a Content-Type browsers accept and a
// Cache-Control chosen by glob, assets before the pages that reference
// them, and (if asked) removes what the folder no longer has, last.
package deploy

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/store"
)

// MD5Meta is the user metadata where a deploy records a file's MD5, for
// the objects whose ETag is not one (multipart uploads, SSE-KMS buckets).
const MD5Meta = "ferry-md5"

// Action is what a deploy does to one key.
type Action string

const (
	Upload Action = "upload"
	Delete Action = "delete"
)

// Change is one key the deploy writes or removes.
type Change struct {
	Action       Action `json:"action"`
	Key          string `json:"key"`            // in the bucket
	File         string `json:"file,omitempty"` // relative to the folder; empty for deletes
	Reason       string `json:"reason"`         // new, changed, stale
	Size         int64  `json:"size"`
	MD5          string `json:"md5,omitempty"`
	ContentType  string `json:"content_type,omitempty"`
	CacheControl string `json:"cache_control,omitempty"`
}

// Plan is what a deploy will do, in order: Uploads (assets first, pages
// last), then Deletes.
type Plan struct {
	Uploads   []Change
	Deletes   []Change // stale keys, only when Options.Delete
	Unchanged int      // files the bucket already holds with the same content
	Stale     int      // keys under the prefix the folder no longer has
}

// Empty reports whether the deploy changes nothing.
func (p Plan) Empty() bool { return len(p.Uploads) == 0 && len(p.Deletes) == 0 }

// Changed are the changes: uploads, then deletes.
func (p Plan) Changed() []Change { return append(slices.Clone(p.Uploads), p.Deletes...) }

// ChangedKeys are the keys written or removed, for a CDN invalidation.
func (p Plan) ChangedKeys() []string {
	var keys []string
	for _, c := range p.Changed() {
		keys = append(keys, c.Key)
	}
	return keys
}

// Digest identifies what the plan writes and removes (keys and content),
// for a CDN invalidation's caller reference: the same deploy retried has
// the same digest.
func (p Plan) Digest() string {
	h := sha256.New()
	for _, c := range p.Changed() {
		fmt.Fprintf(h, "%s %s %s\n", c.Action, c.Key, c.MD5)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Options of a deploy.
type Options struct {
	Prefix string // key prefix in the bucket ("" or ending in "/")
	Rules  []Rule // Cache-Control by glob; first match wins
	Delete bool   // remove keys under Prefix the folder does not have
}

// MakePlan compares the folder with the bucket under opt.Prefix by content
// (MD5): a listing, plus a HEAD for each object whose ETag differs from its
// file's MD5. It reads every file once.
func MakePlan(ctx context.Context, dir *store.Dir, dst *store.Bucket, opt Options) (Plan, error) {
	var p Plan
	remote := map[string]object.Info{}
	err := dst.List(ctx, opt.Prefix, "", func(o object.Info) error {
		remote[o.Key] = o
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("list %s/%s: %w", dst, opt.Prefix, err)
	}
	var pages []Change
	err = dir.List(ctx, "", "", func(f object.Info) error {
		if strings.HasSuffix(f.Key, "/") {
			return nil // a folder
		}
		key := opt.Prefix + f.Key
		sum, err := fileMD5(dir.Path(f.Key))
		if err != nil {
			return err
		}
		r, exists := remote[key]
		delete(remote, key)
		c := Change{Action: Upload, Key: key, File: f.Key, Reason: "new", Size: f.Size, MD5: sum,
			ContentType: store.ContentType(f.Key), CacheControl: CacheControl(opt.Rules, f.Key)}
		if exists {
			same, err := sameContent(ctx, dst, r, sum)
			if err != nil {
				return err
			}
			if same {
				p.Unchanged++
				return nil
			}
			c.Reason = "changed"
		}
		if isPage(f.Key) {
			pages = append(pages, c)
		} else {
			p.Uploads = append(p.Uploads, c)
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	p.Uploads = append(p.Uploads, pages...)
	keys := make([]string, 0, len(remote))
	for k := range remote {
		if !strings.HasSuffix(k, "/") {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	p.Stale = len(keys)
	if opt.Delete {
		for _, k := range keys {
			p.Deletes = append(p.Deletes, Change{Action: Delete, Key: k, Reason: "stale", Size: remote[k].Size})
		}
	}
	return p, nil
}

// sameContent reports whether the object holds the content whose MD5 is
// sum: its ETag when that is the MD5, else the MD5 a deploy recorded. An
// ETag can look like an MD5 and not be one (SSE-KMS, SSE-C, some servers'
// encryption), so a differing ETag costs a HEAD before it counts as a
// change: one per changed file, none for an unchanged plain upload.
func sameContent(ctx context.Context, b *store.Bucket, o object.Info, sum string) (bool, error) {
	if o.ETag == sum {
		return true, nil
	}
	m, err := b.Head(ctx, o.Key, "")
	if err != nil || m == nil {
		return false, err
	}
	return m.UserMeta[MD5Meta] == sum, nil
}

// isPage reports whether a file is a page that references other files:
// uploaded last, so a browser never gets a page before its assets.
func isPage(rel string) bool {
	switch strings.ToLower(path.Ext(rel)) {
	case ".html", ".htm":
		return true
	}
	return false
}

func fileMD5(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
