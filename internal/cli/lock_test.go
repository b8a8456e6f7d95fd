package cli_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestSyncObjectLockAndStorageClass: retention and legal hold reach a
// destination with object lock; a destination without it still gets the
// object; --storage-class overrides the source's class.
func TestSyncObjectLockAndStorageClass(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{ObjectLock: true})
	locked := bed.NewBucket(t, testbed.B, testbed.BucketOpts{ObjectLock: true})
	plain := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	until := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("held.txt"), Body: strings.NewReader("held"),
		ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: &until,
		ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn})

	r := ferry(t, bed, "sync", "s3://"+src, "s3://"+locked, "--src-profile", "tb-a", "--dst-profile", "tb-b",
		"--storage-class", "REDUCED_REDUNDANCY")
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	h, err := b.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(locked), Key: aws.String("held.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if h.ObjectLockMode != types.ObjectLockModeGovernance || h.ObjectLockRetainUntilDate == nil || !h.ObjectLockRetainUntilDate.Equal(until) {
		t.Errorf("retention %q until %v, want GOVERNANCE until %v", h.ObjectLockMode, h.ObjectLockRetainUntilDate, until)
	}
	if h.ObjectLockLegalHoldStatus != types.ObjectLockLegalHoldStatusOn {
		t.Errorf("legal hold %q, want ON", h.ObjectLockLegalHoldStatus)
	}
	if h.StorageClass != types.StorageClassReducedRedundancy {
		t.Errorf("storage class %q, want REDUCED_REDUNDANCY", h.StorageClass)
	}

	r = ferry(t, bed, "sync", "s3://"+src, "s3://"+plain, "--src-profile", "tb-a", "--dst-profile", "tb-b")
	if r.code != 0 {
		t.Fatalf("to a bucket without object lock: exit %d", r.code)
	}
	if md5, _ := getMD5(t, b, plain, "held.txt"); md5 != md5hex([]byte("held")) {
		t.Errorf("replica body differs")
	}
}
