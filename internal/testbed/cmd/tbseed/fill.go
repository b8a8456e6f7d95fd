package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type fillTarget struct {
	c      *s3.Client
	bucket string
}

// fillKey spreads n objects over 1000 prefixes, the shape of a real bucket
// (and what lets a lister fan out by delimiter).
func fillKey(i int) string { return fmt.Sprintf("p%03d/obj-%08d.dat", i%1000, i) }

// fill puts n objects of size bytes, c at a time, to every target. Bodies
// differ per object (the index is written into them), so ETags differ too.
func fill(ctx context.Context, targets []fillTarget, n, size, c int) error {
	var next, done atomic.Int64
	var firstErr error
	var once sync.Once
	start := time.Now()
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				d := done.Load()
				fmt.Fprintf(os.Stderr, "fill: %d/%d (%.0f/s)\n", d, n, float64(d)/time.Since(start).Seconds())
			}
		}
	}()
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := make([]byte, size)
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				for j := range body {
					body[j] = 'a' + byte((i+j)%26)
				}
				copy(body, fmt.Sprintf("%012d", i))
				key := fillKey(i)
				for _, t := range targets {
					_, err := t.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(key),
						Body: bytes.NewReader(body)})
					if err != nil {
						once.Do(func() { firstErr = fmt.Errorf("put %s/%s: %w", t.bucket, key, err) })
						return
					}
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	if firstErr != nil {
		return firstErr
	}
	fmt.Printf("filled %d objects of %d bytes in %s\n", n, size, time.Since(start).Round(time.Second))
	return nil
}
