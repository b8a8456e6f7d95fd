package store

import (
	"context"
	"fmt"
	"mime"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ferry-s3/ferry/internal/object"
)

// TempPrefix marks ferry's partial downloads; listings skip them and a
// crash leaves nothing that looks like a finished file.
const TempPrefix = ".ferry-tmp-"

// Dir is a local directory; keys are slash-separated paths below Root.
type Dir struct {
	Root string
}

func (d *Dir) String() string { return d.Root }

// Path returns the file path of a key.
func (d *Dir) Path(key string) string { return filepath.Join(d.Root, filepath.FromSlash(key)) }

// List walks the directory in S3 key order. filepath.WalkDir is not enough:
// it visits "a/b" before "a-b", but S3 orders "a-b" first ('-' < '/'), so
// each directory's entries are sorted as keys, directories with their "/".
func (d *Dir) List(ctx context.Context, prefix, startAfter string, fn func(object.Info) error) error {
	if _, err := os.Stat(d.Root); err != nil {
		if os.IsNotExist(err) {
			return nil // an absent destination directory is simply empty
		}
		return fmt.Errorf("list %s: %w", d.Root, err)
	}
	return d.walk(ctx, "", prefix, func(o object.Info) error {
		if o.Key <= startAfter {
			return nil // a local walk is cheap: resuming just skips
		}
		return fn(o)
	})
}

func (d *Dir) walk(ctx context.Context, rel, prefix string, fn func(object.Info) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(d.Path(rel))
	if err != nil {
		return fmt.Errorf("list %s: %w", d.Path(rel), err)
	}
	type entry struct {
		key string
		dir bool
	}
	keyed := make([]entry, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, TempPrefix) {
			continue
		}
		k := path.Join(rel, name)
		switch {
		case e.IsDir():
			keyed = append(keyed, entry{k + "/", true})
		case e.Type().IsRegular():
			keyed = append(keyed, entry{k, false})
		}
	}
	sort.Slice(keyed, func(i, j int) bool { return keyed[i].key < keyed[j].key })
	for _, e := range keyed {
		if !overlaps(e.key, prefix) {
			continue
		}
		if e.dir {
			if err := d.walk(ctx, strings.TrimSuffix(e.key, "/"), prefix, fn); err != nil {
				return err
			}
			continue
		}
		fi, err := os.Stat(d.Path(e.key))
		if err != nil {
			return fmt.Errorf("list %s: %w", d.Path(e.key), err)
		}
		if err := fn(object.Info{Key: e.key, Size: fi.Size(), LastModified: fi.ModTime(), IsLatest: true}); err != nil {
			return err
		}
	}
	return nil
}

// overlaps reports whether key (or, for a directory key ending in "/", any
// key below it) can start with prefix.
func overlaps(key, prefix string) bool {
	if strings.HasPrefix(key, prefix) {
		return true
	}
	return strings.HasSuffix(key, "/") && strings.HasPrefix(prefix, key)
}

// Meta returns what ferry knows of a local file: size, mtime and a
// Content-Type guessed from the extension.
func (d *Dir) Meta(key string) (*object.Meta, error) {
	fi, err := os.Stat(d.Path(key))
	if err != nil {
		return nil, err
	}
	return &object.Meta{
		Info:        object.Info{Key: key, Size: fi.Size(), LastModified: fi.ModTime()},
		ContentType: ContentType(key),
	}, nil
}

// ContentType guesses a Content-Type from a key's extension: web assets
// from a table of ours (the same on every machine: a Lambda has no
// /etc/mime.types), the rest from the system's table.
func ContentType(key string) string {
	ext := strings.ToLower(path.Ext(key))
	if t, ok := webTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// webTypes are the types browsers need right for a static site to work:
// a wrong type for a script, a style sheet, a font or wasm breaks the page.
var webTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".json": "application/json", ".map": "application/json", ".webmanifest": "application/manifest+json",
	".xml": "application/xml", ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
	".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon",
	".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf",
	".wasm": "application/wasm", ".pdf": "application/pdf", ".zip": "application/zip",
	".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg",
}
