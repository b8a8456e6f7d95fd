// Command tbseed creates buckets, seeds objects and lists buckets on the
// local test bed (scripts/testbed.sh), talking to the servers directly with
// aws-sdk-go-v2. It exists for scripts/demo.sh and for poking at the bed by
// hand; it is not part of ferry.
//
//	tbseed [-bed DIR] mb   [-versioning] SERVER BUCKET
//	tbseed [-bed DIR] seed [-n N] [-big MiB] SERVER BUCKET
//	tbseed [-bed DIR] list [-long] [-prefix P] SERVER BUCKET
//	tbseed [-bed DIR] fill [-n N] [-size B] [-c C] [-mirror SERVER/BUCKET] SERVER BUCKET
//
// SERVER is a, b or vgw (or the profile name tb-a, tb-b, tb-vgw). DIR
// defaults to $FERRY_TESTBED.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ferry-s3/ferry/internal/testbed"
)

const usage = `usage:
  tbseed [-bed DIR] mb   [-versioning] SERVER BUCKET   create a bucket (ok if it exists)
  tbseed [-bed DIR] seed [-n N] [-big MiB] SERVER BUCKET
                                                       put N objects with metadata, tags, unicode keys
  tbseed [-bed DIR] list [-long] [-prefix P] SERVER BUCKET
                                                       list objects (-long: content type, metadata, tags)
  tbseed [-bed DIR] fill [-n N] [-size B] [-c C] [-mirror SERVER/BUCKET] SERVER BUCKET
                                                       put N small objects fast (C in parallel) under
                                                       1000 prefixes; -mirror also puts each to a second
                                                       bucket, so the two start in sync
SERVER is a, b or vgw (or tb-a, tb-b, tb-vgw); DIR defaults to $FERRY_TESTBED.
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "tbseed:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	global := flag.NewFlagSet("tbseed", flag.ContinueOnError)
	global.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	bedDir := global.String("bed", os.Getenv("FERRY_TESTBED"), "test bed directory")
	if err := global.Parse(args); err != nil {
		return err
	}
	if global.NArg() == 0 {
		global.Usage()
		return errors.New("missing command")
	}
	if *bedDir == "" {
		return errors.New("no test bed: set FERRY_TESTBED or pass -bed DIR (scripts/testbed.sh up)")
	}
	bed, err := testbed.Load(*bedDir)
	if err != nil {
		return fmt.Errorf("test bed %s: %w", *bedDir, err)
	}

	cmd, rest := global.Arg(0), global.Args()[1:]
	fs := flag.NewFlagSet("tbseed "+cmd, flag.ContinueOnError)
	fs.Usage = global.Usage
	versioning := fs.Bool("versioning", false, "mb: enable versioning")
	n := fs.Int("n", 25, "seed: number of objects")
	big := fs.Int("big", 0, "seed: also put one object of this many MiB")
	long := fs.Bool("long", false, "list: show content type, metadata and tags")
	prefix := fs.String("prefix", "", "list: only keys with this prefix")
	size := fs.Int("size", 256, "fill: bytes per object")
	conc := fs.Int("c", 64, "fill: parallel PUTs")
	mirror := fs.String("mirror", "", "fill: also put every object to SERVER/BUCKET")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("%s: want SERVER BUCKET", cmd)
	}
	name := strings.TrimPrefix(fs.Arg(0), "tb-")
	srv, ok := bed.Servers[name]
	if !ok {
		return fmt.Errorf("unknown server %q (want a, b or vgw)", fs.Arg(0))
	}
	c := testbed.NewClient(srv)
	bucket := fs.Arg(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if cmd == "fill" {
		ctx, cancel = context.WithCancel(context.Background())
		defer cancel()
	}

	switch cmd {
	case "mb":
		return makeBucket(ctx, c, name, bucket, *versioning)
	case "seed":
		return seed(ctx, c, name, bucket, *n, *big)
	case "list":
		return list(ctx, c, bucket, *prefix, *long)
	case "fill":
		targets := []fillTarget{{c, bucket}}
		if *mirror != "" {
			srv2, bucket2, ok := strings.Cut(*mirror, "/")
			s2, known := bed.Servers[strings.TrimPrefix(srv2, "tb-")]
			if !ok || !known {
				return fmt.Errorf("-mirror %q: want SERVER/BUCKET", *mirror)
			}
			targets = append(targets, fillTarget{testbed.NewClient(s2), bucket2})
		}
		return fill(ctx, targets, *n, *size, *conc)
	default:
		global.Usage()
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func makeBucket(ctx context.Context, c *s3.Client, server, bucket string, versioning bool) error {
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	var ae smithy.APIError
	switch {
	case err == nil:
		fmt.Printf("created bucket %s on %s\n", bucket, server)
	case errors.As(err, &ae) && ae.ErrorCode() == "BucketAlreadyOwnedByYou":
		fmt.Printf("bucket %s on %s exists\n", bucket, server)
	default:
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	if versioning {
		_, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(bucket),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
		})
		if err != nil {
			return fmt.Errorf("enable versioning on %s: %w", bucket, err)
		}
	}
	return nil
}

// seedKeys are key patterns that exercise encoding: unicode, emoji,
// spaces, plus signs, deep prefixes.
var seedKeys = []string{
	"hello-%03d.txt",
	"docs/readme-%03d.md",
	"ünïcödé/日本語-%03d.txt",
	"emoji/🚀 launch-%03d.txt",
	"spaces and+plus/file %03d.json",
	"deep/a/b/c/d/%03d.bin",
}

var contentTypes = map[string]string{
	".txt":  "text/plain; charset=utf-8",
	".md":   "text/markdown",
	".json": "application/json",
	".bin":  "application/octet-stream",
}

func seed(ctx context.Context, c *s3.Client, server, bucket string, n, bigMiB int) error {
	var total int64
	for i := range n {
		key := fmt.Sprintf(seedKeys[i%len(seedKeys)], i)
		size := 1 + (i*7919)%(64<<10) // deterministic, 1 B .. 64 KiB
		if err := putSeeded(ctx, c, bucket, key, i, size); err != nil {
			return err
		}
		total += int64(size)
	}
	if bigMiB > 0 {
		key := fmt.Sprintf("big/blob-%dMiB.bin", bigMiB)
		if err := putSeeded(ctx, c, bucket, key, n, bigMiB<<20); err != nil {
			return err
		}
		n++
		total += int64(bigMiB) << 20
	}
	fmt.Printf("seeded %d objects (%d bytes) into %s on %s\n", n, total, bucket, server)
	return nil
}

func putSeeded(ctx context.Context, c *s3.Client, bucket, key string, i, size int) error {
	body := make([]byte, size)
	r := rand.New(rand.NewPCG(uint64(i), 42))
	for j := range body {
		body[j] = byte('a' + r.IntN(26))
	}
	tags := url.Values{"seed": {"demo"}, "index": {strconv.Itoa(i)}}
	in := &s3.PutObjectInput{
		Bucket:   aws.String(bucket),
		Key:      aws.String(key),
		Body:     bytes.NewReader(body),
		Metadata: map[string]string{"origin": "tbseed", "seed-index": strconv.Itoa(i)},
		Tagging:  aws.String(tags.Encode()),
	}
	if ct, ok := contentTypes[path.Ext(key)]; ok {
		in.ContentType = aws.String(ct)
	}
	if i%5 == 0 {
		in.CacheControl = aws.String("max-age=3600")
	}
	if _, err := c.PutObject(ctx, in); err != nil {
		return fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	return nil
}

func list(ctx context.Context, c *s3.Client, bucket, prefix string, long bool) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "SIZE\tETAG\tKEY")
	var count, total int64
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list %s: %w", bucket, err)
		}
		for _, o := range page.Contents {
			count++
			total += aws.ToInt64(o.Size)
			etag := strings.Trim(aws.ToString(o.ETag), `"`)
			fmt.Fprintf(w, "%d\t%s\t%s\n", aws.ToInt64(o.Size), etag, aws.ToString(o.Key))
			if !long {
				continue
			}
			head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				return fmt.Errorf("head %s/%s: %w", bucket, aws.ToString(o.Key), err)
			}
			tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				return fmt.Errorf("tags of %s/%s: %w", bucket, aws.ToString(o.Key), err)
			}
			ts := map[string]string{}
			for _, t := range tags.TagSet {
				ts[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			fmt.Fprintf(w, "\t\t  content-type: %s\n", aws.ToString(head.ContentType))
			if cc := aws.ToString(head.CacheControl); cc != "" {
				fmt.Fprintf(w, "\t\t  cache-control: %s\n", cc)
			}
			fmt.Fprintf(w, "\t\t  tags: %s\n", joinMap(ts))
			for _, kv := range sortedPairs(head.Metadata) {
				fmt.Fprintf(w, "\t\t  x-amz-meta-%s\n", kv)
			}
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Printf("%d objects, %d bytes in %s\n", count, total, bucket)
	return nil
}

func sortedPairs(m map[string]string) []string {
	kv := make([]string, 0, len(m))
	for k, v := range m {
		kv = append(kv, k+": "+v)
	}
	sort.Strings(kv)
	return kv
}

func joinMap(m map[string]string) string {
	kv := make([]string, 0, len(m))
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	if len(kv) == 0 {
		return "-"
	}
	return strings.Join(kv, "&")
}
