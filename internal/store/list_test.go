package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/object"
	"github.com/ferry-s3/ferry/internal/store"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// listKeys are shaped to trip a fanned-out listing (no key is also a
// folder: posix-backed servers cannot store both): objects between
// folders, keys sorting just before and after a folder's "/" ('!' and '-'
// and '.' sort before '/', '0' after), a deep single-folder chain, many
// tiny folders (ranges get grouped) and a big one (a range spans pages).
func listKeys() []string {
	keys := []string{"a!", "a-b/x", "a.txt", "a/1", "a/2/deep", "a0", "b/c/d/e/f", "z",
		"logs/2026/01/x", "logs/2026/02/y", "한글/파일"}
	for i := range 60 {
		keys = append(keys, fmt.Sprintf("tiny/%02d/k", i))
	}
	for i := range 1100 {
		keys = append(keys, fmt.Sprintf("big/%04d", i))
	}
	slices.Sort(keys)
	return keys
}

func TestListFanOut(t *testing.T) {
	bed := testbed.Require(t)
	for _, server := range []string{testbed.A, testbed.VGW} {
		t.Run(server, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			c := bed.Client(t, server)
			name := bed.NewBucket(t, server, testbed.BucketOpts{Versioning: true})
			keys := listKeys()
			testbed.PutMany(t, c, name, keys)
			// a second version of a few keys, and a delete marker
			testbed.PutMany(t, c, name, []string{"a!", "big/0999", "tiny/07/k"})
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String("a0")}); err != nil {
				t.Fatal(err)
			}
			b := bucket(t, ctx, bed, server, name)

			want := func(prefix, after string) []string {
				var w []string
				for _, k := range keys {
					if strings.HasPrefix(k, prefix) && k > after && !(k == "a0") {
						w = append(w, k)
					}
				}
				return w
			}
			// Every resume point, including ones between keys and below
			// folders, gives exactly the keys after it, in order.
			afters := []string{"", "a/", "a/1x", "big/05", "logs/2026/01/", "tiny/30/", "zz", "a-"}
			for i := 0; i < len(keys); i += 97 {
				afters = append(afters, keys[i])
			}
			for _, fan := range []int{1, 4} {
				b.FanOut = fan
				for _, prefix := range []string{"", "big/", "logs/", "a"} {
					for _, after := range afters {
						var got []string
						err := b.List(ctx, prefix, after, func(o object.Info) error {
							got = append(got, o.Key)
							return nil
						})
						if err != nil {
							t.Fatal(err)
						}
						if w := want(prefix, after); !slices.Equal(got, w) {
							t.Fatalf("fan-out %d, List(%q, after %q): got %d keys, want %d\n got %q\nwant %q",
								fan, prefix, after, len(got), len(w), head(got), head(w))
						}
					}
				}
			}
			// Versions: the same keys (plus a0's marker), every version once.
			var plain, fanned []string
			for _, fan := range []int{1, 4} {
				b.FanOut = fan
				var got []string
				err := b.ListVersions(ctx, "", "big/0500", func(o object.Info) error {
					got = append(got, fmt.Sprintf("%s@%s/%v", o.Key, o.VersionID, o.DeleteMarker))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if fan == 1 {
					plain = got
				} else {
					fanned = got
				}
			}
			if !slices.Equal(plain, fanned) || len(plain) == 0 {
				t.Fatalf("versions differ with fan-out: %d vs %d entries", len(plain), len(fanned))
			}
			if !strings.HasPrefix(plain[0], "big/0501@") {
				t.Errorf("versions after big/0500 start with %s", plain[0])
			}
		})
	}
}

func head(s []string) []string {
	if len(s) > 8 {
		return s[:8]
	}
	return s
}

func bucket(t *testing.T, ctx context.Context, bed *testbed.Bed, server, name string) *store.Bucket {
	t.Helper()
	bed.Setenv(t)
	ep, err := endpoint.Open(ctx, endpoint.Options{Profile: bed.Server(t, server).Profile})
	if err != nil {
		t.Fatal(err)
	}
	return &store.Bucket{EP: ep, Name: name}
}
