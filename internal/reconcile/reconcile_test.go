package reconcile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/plan"
	"github.com/ferry-s3/ferry/internal/store"
)

// brokenSource lists some keys, then fails, as a listing cut off by a
// network error or an expired token would.
type brokenSource struct{ objs []object.Info }

func (b brokenSource) List(_ context.Context, _, _ string, fn func(object.Info) error) error {
	for _, o := range b.objs {
		if err := fn(o); err != nil {
			return err
		}
	}
	return errors.New("list: connection reset")
}

func (b brokenSource) String() string { return "s3://broken" }

// TestDeleteNeverFollowsAFailedListing: with --delete, destination keys past
// the point where the source listing failed must not be deleted.
func TestDeleteNeverFollowsAFailedListing(t *testing.T) {
	root := t.TempDir()
	for _, k := range []string{"a", "b", "c"} {
		os.WriteFile(filepath.Join(root, k), []byte("x"), 0o644)
	}
	var mu sync.Mutex
	var deletes []string
	opt := Options{Delete: true, Concurrency: 2, Report: func(it Item) {
		mu.Lock()
		defer mu.Unlock()
		if it.Action == plan.Delete {
			deletes = append(deletes, it.Key)
		}
	}}
	var st Stats
	fi, _ := os.Stat(filepath.Join(root, "b")) // "b" is in sync: nothing to copy
	src := brokenSource{[]object.Info{{Key: "b", Size: 1, LastModified: fi.ModTime()}}}
	err := Run(context.Background(), []Pair{{Src: src, Dst: &store.Dir{Root: root}}}, opt, &st)
	if err == nil {
		t.Fatal("Run succeeded although the source listing failed")
	}
	// "a" sorts before "b", which the source did list: it really is absent
	// there. "c" comes after the failure and must survive.
	if len(deletes) != 1 || deletes[0] != "a" {
		t.Errorf("deleted %v, want only [a]", deletes)
	}
	if _, err := os.Stat(filepath.Join(root, "a")); err == nil {
		t.Errorf("a, absent at the source, was not deleted")
	}
	if _, err := os.Stat(filepath.Join(root, "c")); err != nil {
		t.Errorf("c was deleted after a failed listing: %v", err)
	}
}
