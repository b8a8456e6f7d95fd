package testbed_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ferry-s3/ferry/internal/testbed"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func put(t *testing.T, c *s3.Client, in *s3.PutObjectInput, body string) *s3.PutObjectOutput {
	t.Helper()
	in.Body = strings.NewReader(body)
	out, err := c.PutObject(ctx(t), in)
	if err != nil {
		t.Fatalf("put %s/%s: %v", aws.ToString(in.Bucket), aws.ToString(in.Key), err)
	}
	return out
}

func get(t *testing.T, c *s3.Client, bucket, key, version string) string {
	t.Helper()
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := c.GetObject(ctx(t), in)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return string(b)
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestBucketsOnAllServers(t *testing.T) {
	bed := testbed.Require(t)
	for _, server := range []string{testbed.A, testbed.B, testbed.VGW} {
		t.Run(server, func(t *testing.T) {
			c := bed.Client(t, server)
			bucket := bed.NewBucket(t, server, testbed.BucketOpts{})
			key := "dir/ünï cödé 日本語.txt"
			put(t, c, &s3.PutObjectInput{
				Bucket:   aws.String(bucket),
				Key:      aws.String(key),
				Metadata: map[string]string{"seed": "1"},
				Tagging:  aws.String("a=1&b=two"),
			}, "hello")
			if got := get(t, c, bucket, key, ""); got != "hello" {
				t.Errorf("got %q, want hello", got)
			}
			list, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != key {
				t.Errorf("listing: %+v", list.Contents)
			}
			tags, err := c.GetObjectTagging(ctx(t), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				t.Fatal(err)
			}
			if len(tags.TagSet) != 2 {
				t.Errorf("tags: %+v", tags.TagSet)
			}
		})
	}
}

func TestAccountsAreSeparate(t *testing.T) {
	bed := testbed.Require(t)
	a, b := bed.Servers[testbed.A], bed.Servers[testbed.B]
	if a.AccessKey == b.AccessKey || a.SecretKey == b.SecretKey {
		t.Fatal("servers a and b share credentials")
	}
	wrong := b
	wrong.AccessKey, wrong.SecretKey = a.AccessKey, a.SecretKey
	_, err := testbed.NewClient(wrong).ListBuckets(ctx(t), &s3.ListBucketsInput{})
	if err == nil {
		t.Fatal("server b accepted the credentials of server a")
	}
	t.Logf("b with a's keys: %s", errorCode(err))
}

func TestSSEKMS(t *testing.T) {
	bed := testbed.Require(t)
	for _, server := range []string{testbed.A, testbed.B} {
		t.Run(server, func(t *testing.T) {
			c := bed.Client(t, server)
			bucket := bed.NewBucket(t, server, testbed.BucketOpts{})
			out := put(t, c, &s3.PutObjectInput{
				Bucket:               aws.String(bucket),
				Key:                  aws.String("kms"),
				ServerSideEncryption: types.ServerSideEncryptionAwsKms,
				SSEKMSKeyId:          aws.String(bed.KMSKey),
			}, "secret")
			if out.ServerSideEncryption != types.ServerSideEncryptionAwsKms {
				t.Errorf("put: SSE %q", out.ServerSideEncryption)
			}
			head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("kms")})
			if err != nil {
				t.Fatal(err)
			}
			if head.ServerSideEncryption != types.ServerSideEncryptionAwsKms || !strings.HasSuffix(aws.ToString(head.SSEKMSKeyId), bed.KMSKey) {
				t.Errorf("head: SSE %q key %q", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId))
			}
			if got := get(t, c, bucket, "kms", ""); got != "secret" {
				t.Errorf("got %q", got)
			}

			put(t, c, &s3.PutObjectInput{
				Bucket:               aws.String(bucket),
				Key:                  aws.String("s3"),
				ServerSideEncryption: types.ServerSideEncryptionAes256,
			}, "secret")
			head, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("s3")})
			if err != nil {
				t.Fatal(err)
			}
			if head.ServerSideEncryption != types.ServerSideEncryptionAes256 {
				t.Errorf("SSE-S3 head: SSE %q", head.ServerSideEncryption)
			}
		})
	}
}

func TestVersioning(t *testing.T) {
	bed := testbed.Require(t)
	for _, server := range []string{testbed.A, testbed.VGW} {
		t.Run(server, func(t *testing.T) {
			c := bed.Client(t, server)
			bucket := bed.NewBucket(t, server, testbed.BucketOpts{Versioning: true})
			v1 := put(t, c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")}, "one")
			put(t, c, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")}, "two")
			if _, err := c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")}); err != nil {
				t.Fatal(err)
			}
			list, err := c.ListObjectVersions(ctx(t), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Versions) != 2 || len(list.DeleteMarkers) != 1 {
				t.Fatalf("want 2 versions and 1 delete marker, got %d and %d", len(list.Versions), len(list.DeleteMarkers))
			}
			if got := get(t, c, bucket, "k", aws.ToString(v1.VersionId)); got != "one" {
				t.Errorf("old version: got %q", got)
			}
		})
	}
}

func TestObjectLock(t *testing.T) {
	bed := testbed.Require(t)
	for _, server := range []string{testbed.A, testbed.VGW} {
		t.Run(server, func(t *testing.T) {
			c := bed.Client(t, server)
			bucket := bed.NewBucket(t, server, testbed.BucketOpts{ObjectLock: true})
			until := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
			put(t, c, &s3.PutObjectInput{
				Bucket:                    aws.String(bucket),
				Key:                       aws.String("locked"),
				ObjectLockMode:            types.ObjectLockModeGovernance,
				ObjectLockRetainUntilDate: aws.Time(until),
				ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn,
			}, "keep")
			head, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("locked")})
			if err != nil {
				t.Fatal(err)
			}
			if head.ObjectLockMode != types.ObjectLockModeGovernance ||
				head.ObjectLockLegalHoldStatus != types.ObjectLockLegalHoldStatusOn ||
				!aws.ToTime(head.ObjectLockRetainUntilDate).Equal(until) {
				t.Errorf("head: mode %q hold %q until %v", head.ObjectLockMode, head.ObjectLockLegalHoldStatus, head.ObjectLockRetainUntilDate)
			}
			_, err = c.DeleteObject(ctx(t), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("locked"), VersionId: head.VersionId})
			if err == nil {
				t.Error("deleting a locked version succeeded")
			}
			// The cleanup registered by NewBucket must lift the hold and
			// bypass governance retention.
		})
	}
}

// TestServerQuirks pins down behaviour that differs between the servers and
// from AWS, as described in docs/testing.md. If a tool upgrade changes one,
// update the doc along with this test.
func TestServerQuirks(t *testing.T) {
	bed := testbed.Require(t)
	minio, vgw := bed.Client(t, testbed.A), bed.Client(t, testbed.VGW)
	mb := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	vb := bed.NewBucket(t, testbed.VGW, testbed.BucketOpts{})

	t.Run("vgw ignores SSE headers", func(t *testing.T) {
		out := put(t, vgw, &s3.PutObjectInput{
			Bucket: aws.String(vb), Key: aws.String("kms"),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(bed.KMSKey),
		}, "x")
		if out.ServerSideEncryption != "" {
			t.Errorf("vgw now reports SSE %q", out.ServerSideEncryption)
		}
	})

	t.Run("minio SSE-KMS ETag is not the MD5", func(t *testing.T) {
		out := put(t, minio, &s3.PutObjectInput{
			Bucket: aws.String(mb), Key: aws.String("kms"),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(bed.KMSKey),
		}, "x")
		if strings.Trim(aws.ToString(out.ETag), `"`) == md5hex("x") {
			t.Error("minio SSE-KMS ETag is now the MD5 of the content")
		}
		out = put(t, minio, &s3.PutObjectInput{
			Bucket: aws.String(mb), Key: aws.String("sse-s3"),
			ServerSideEncryption: types.ServerSideEncryptionAes256,
		}, "x")
		if strings.Trim(aws.ToString(out.ETag), `"`) != md5hex("x") {
			t.Error("minio SSE-S3 ETag is no longer the MD5 of the content")
		}
	})

	t.Run("minio rejects unknown KMS key", func(t *testing.T) {
		_, err := minio.PutObject(ctx(t), &s3.PutObjectInput{
			Bucket: aws.String(mb), Key: aws.String("kms-other"), Body: strings.NewReader("x"),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("no-such-key"),
		})
		if err == nil {
			t.Error("minio accepted an unknown KMS key id")
		}
	})

	t.Run("storage classes", func(t *testing.T) {
		_, err := minio.PutObject(ctx(t), &s3.PutObjectInput{
			Bucket: aws.String(mb), Key: aws.String("glacier"), Body: strings.NewReader("x"),
			StorageClass: types.StorageClassGlacier,
		})
		if errorCode(err) != "InvalidStorageClass" {
			t.Errorf("minio GLACIER: want InvalidStorageClass, got %v", err)
		}
		put(t, minio, &s3.PutObjectInput{Bucket: aws.String(mb), Key: aws.String("rrs"), StorageClass: types.StorageClassReducedRedundancy}, "x")
		head, err := minio.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(mb), Key: aws.String("rrs")})
		if err != nil || head.StorageClass != types.StorageClassReducedRedundancy {
			t.Errorf("minio REDUCED_REDUNDANCY: %v %q", err, head.StorageClass)
		}
		put(t, vgw, &s3.PutObjectInput{Bucket: aws.String(vb), Key: aws.String("glacier"), StorageClass: types.StorageClassGlacier}, "x")
		head, err = vgw.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(vb), Key: aws.String("glacier")})
		if err != nil || head.StorageClass != types.StorageClassStandard {
			t.Errorf("vgw GLACIER: want stored as STANDARD, got %v %q", err, head.StorageClass)
		}
	})

	t.Run("ACL headers accepted", func(t *testing.T) {
		for _, c := range []struct {
			c      *s3.Client
			bucket string
		}{{minio, mb}, {vgw, vb}} {
			put(t, c.c, &s3.PutObjectInput{Bucket: aws.String(c.bucket), Key: aws.String("acl"), ACL: types.ObjectCannedACLPublicRead}, "x")
		}
	})

	t.Run("website redirect", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			c      *s3.Client
			bucket string
			keeps  bool
		}{{"minio", minio, mb, false}, {"vgw", vgw, vb, true}} {
			put(t, c.c, &s3.PutObjectInput{Bucket: aws.String(c.bucket), Key: aws.String("redir"), WebsiteRedirectLocation: aws.String("/x")}, "x")
			head, err := c.c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: aws.String(c.bucket), Key: aws.String("redir")})
			if err != nil {
				t.Fatal(err)
			}
			if got := head.WebsiteRedirectLocation != nil; got != c.keeps {
				t.Errorf("%s keeps x-amz-website-redirect-location: %v, want %v", c.name, got, c.keeps)
			}
		}
	})
}

// TestKeyQuirks pins down which object keys the servers store and list.
func TestKeyQuirks(t *testing.T) {
	bed := testbed.Require(t)
	minio, vgw := bed.Client(t, testbed.A), bed.Client(t, testbed.VGW)

	keys := func(c *s3.Client, bucket string) []string {
		t.Helper()
		out, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, o := range out.Contents {
			ks = append(ks, aws.ToString(o.Key))
		}
		return ks
	}
	tryPut := func(c *s3.Client, bucket, key, body string) error {
		_, err := c.PutObject(ctx(t), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)})
		return err
	}

	t.Run("minio hides p/c from listings when p exists", func(t *testing.T) {
		b := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
		for _, k := range []string{"p", "p/c"} {
			if err := tryPut(minio, b, k, "x"); err != nil {
				t.Fatal(err)
			}
		}
		if got := strings.Join(keys(minio, b), " "); got != "p" {
			t.Errorf("listing: got %q, want just %q", got, "p")
		}
		if got := get(t, minio, b, "p/c", ""); got != "x" {
			t.Errorf("p/c: got %q", got)
		}
	})

	t.Run("minio rejects // and /./ in keys", func(t *testing.T) {
		b := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
		for _, k := range []string{"x//y", "x/./y"} {
			if err := tryPut(minio, b, k, "x"); err == nil {
				t.Errorf("minio accepted key %q", k)
			}
		}
	})

	t.Run("vgw posix key rules", func(t *testing.T) {
		b := bed.NewBucket(t, testbed.VGW, testbed.BucketOpts{})
		if err := tryPut(vgw, b, "p", "x"); err != nil {
			t.Fatal(err)
		}
		if err := tryPut(vgw, b, "p/c", "x"); errorCode(err) != "ObjectParentIsFile" {
			t.Errorf("p/c under file p: want ObjectParentIsFile, got %v", err)
		}
		if err := tryPut(vgw, b, "d/", "x"); errorCode(err) != "DirectoryObjectContainsData" {
			t.Errorf("d/ with data: want DirectoryObjectContainsData, got %v", err)
		}
		if err := tryPut(vgw, b, "e/", ""); err != nil {
			t.Errorf("empty directory object: %v", err)
		}
		if err := tryPut(vgw, b, "x//y", "x"); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(keys(vgw, b), " "); got != "e/ p x/y" {
			t.Errorf("listing: got %q, want %q (x//y stored as x/y)", got, "e/ p x/y")
		}
	})
}

func TestEnv(t *testing.T) {
	bed := testbed.Require(t)
	for _, kv := range bed.Env() {
		name, value, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(name, "_FILE") {
			if _, err := os.Stat(value); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	cfg, err := os.ReadFile(bed.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range bed.Servers {
		if !bytes.Contains(cfg, []byte("[profile "+s.Profile+"]")) {
			t.Errorf("%s: no profile %s", bed.ConfigFile, s.Profile)
		}
	}
}
