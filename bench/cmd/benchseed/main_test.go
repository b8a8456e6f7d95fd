package main

import (
	"errors"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"
)

// The layout must stay tbseed fill's: bench.sh's put seeding and
// scale.sh's beds use that one.
func TestLayout(t *testing.T) {
	for i, want := range map[int]string{0: "p000/obj-00000000.dat", 999: "p999/obj-00000999.dat", 1000: "p000/obj-00001000.dat", 123456: "p456/obj-00123456.dat"} {
		if got := key(i); got != want {
			t.Errorf("key(%d) = %q, want %q", i, got, want)
		}
	}
	if b := string(body(7, 20)); b != "000000000007tuvwxyza" {
		t.Errorf("body(7, 20) = %q", b)
	}
	if len(body(7, 4)) != 4 {
		t.Error("body longer than asked")
	}
}

func TestParallel(t *testing.T) {
	var sum atomic.Int64
	if err := parallel(1000, 8, func(i int) error { sum.Add(int64(i)); return nil }); err != nil || sum.Load() != 999*1000/2 {
		t.Errorf("sum %d, err %v", sum.Load(), err)
	}
	boom := errors.New("boom")
	if err := parallel(1000, 8, func(i int) error {
		if i == 500 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	if err := parallel(0, 8, func(int) error { return boom }); err != nil {
		t.Errorf("nothing to do: %v", err)
	}
}

func TestTree(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{"xl.meta": []byte("meta"), filepath.Join("uuid", "part.1"): []byte("data")}
	if err := writeTree(filepath.Join(dir, "p000", "obj"), files); err != nil {
		t.Fatal(err)
	}
	got, err := readTree(filepath.Join(dir, "p000", "obj"))
	if err != nil || !reflect.DeepEqual(got, files) {
		t.Errorf("read back %v, %v", got, err)
	}
	if _, err := readTree(filepath.Join(dir, "missing")); err == nil {
		t.Error("reading a missing tree succeeded")
	}
	if got := uniq(0, 999, 1000, 1000, -1, 0); !reflect.DeepEqual(got, []int{0, 999, 1000}) {
		t.Errorf("uniq = %v", got)
	}
}
