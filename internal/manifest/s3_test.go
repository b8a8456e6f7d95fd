package manifest

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/endpoint"
	"github.com/ferry-s3/ferry/internal/store"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// bucketOpener is the adapter the backfill command writes: manifest.Opener
// over store.Bucket.Open.
type bucketOpener struct{ ep *endpoint.Endpoint }

func (o bucketOpener) Open(ctx context.Context, bucket, key string) (io.ReadCloser, int64, error) {
	return (&store.Bucket{EP: o.ep, Name: bucket}).Open(ctx, key)
}

// TestS3 reads a CSV manifest and an inventory report from a MinIO bucket,
// through ferry's own endpoint and store code.
func TestS3(t *testing.T) {
	bed := testbed.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	c := bed.Client(t, testbed.A)
	put := func(key string, body []byte) {
		t.Helper()
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String(key), Body: strings.NewReader(string(body))})
		if err != nil {
			t.Fatal(err)
		}
	}
	bed.Setenv(t)
	ep, err := endpoint.Open(ctx, endpoint.Options{Profile: bed.Server(t, testbed.A).Profile})
	if err != nil {
		t.Fatal(err)
	}
	opener := bucketOpener{ep}

	t.Run("csv", func(t *testing.T) {
		put("lists/objects.csv", []byte(sampleCSV))
		in, err := Open(ctx, "s3://"+name+"/lists/objects.csv", "", opener)
		if err != nil {
			t.Fatal(err)
		}
		if _, total := in.Progress(); total != 0 {
			t.Errorf("total %d before Each, want 0 (unknown)", total)
		}
		got, err := collect(t, in, Position{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, sampleEntries) {
			t.Errorf("entries:\n got %+v\nwant %+v", got, sampleEntries)
		}
		if done, total := in.Progress(); done != total || total != int64(len(sampleCSV)) {
			t.Errorf("Progress = %d/%d, want %d/%d", done, total, len(sampleCSV), len(sampleCSV))
		}
	})

	t.Run("inventory", func(t *testing.T) {
		r := newReport(t, name, "CSV", fullSchema, []string{dataFile1, dataFile2}, nil)
		put(r.manifestKey, r.manifest)
		for key, body := range r.files {
			put(key, body)
		}
		in, err := Open(ctx, "s3://"+name+"/"+r.manifestKey, "", opener)
		if err != nil {
			t.Fatal(err)
		}
		got, err := collect(t, in, Position{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, inventoryEntries) {
			t.Errorf("entries:\n got %+v\nwant %+v", got, inventoryEntries)
		}
		if done, total := in.Progress(); done != total || total != r.size() {
			t.Errorf("Progress = %d/%d, want %d/%d", done, total, r.size(), r.size())
		}

		// Resuming in file 1 does not GET file 0.
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String(r.dataKeys[0])}); err != nil {
			t.Fatal(err)
		}
		got, err = collect(t, in, Position{1, 0})
		if err != nil || !reflect.DeepEqual(got, inventoryEntries[4:]) {
			t.Errorf("resume in file 1: %+v, %v", got, err)
		}
		_, err = collect(t, in, Position{})
		want := "get s3://" + name + "/" + r.dataKeys[0]
		if err == nil || !strings.Contains(err.Error(), want) || !store.IsNotFound(err) {
			t.Errorf("reading a deleted data file: %v, want a not-found error naming %s", err, want)
		}
	})

	t.Run("missing manifest", func(t *testing.T) {
		_, err := Open(ctx, "s3://"+name+"/nothing/manifest.json", "", opener)
		if err == nil || !store.IsNotFound(err) || !strings.Contains(err.Error(), "inventory manifest s3://"+name+"/nothing/manifest.json") {
			t.Errorf("Open of a missing manifest: %v", err)
		}
	})
}
