package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxInFlight bounds the PUTs (with their direct copies) in flight; the
// schedule slips only if that many are outstanding at once.
const maxInFlight = 512

// measurer runs one measurement.
type measurer struct {
	o        options
	src, dst loc
	log      io.Writer
	tr       *tracker

	hookSrv *hookServer // hook and relay modes
	warmKey string
	warmCh  chan struct{} // hook mode: closed when the warm-up event arrives

	putErrs, copyErrs atomic.Int64
	confirmed         atomic.Int64
	confirmFailed     atomic.Int64
	firstErr          atomic.Value // string
}

// result is what one run measured.
type result struct {
	mode      string
	samples   []sample
	giveUp    time.Time // when waiting for stragglers ended
	maxLag    time.Duration
	elapsed   time.Duration // first PUT sent to last PUT answered
	listRTT   []float64     // ms, per LIST page
	confirmed int64
	confFail  int64
	copyErrs  int64
	firstErr  string
	poll      time.Duration
}

func (m *measurer) run(ctx context.Context) (*result, error) {
	o := m.o
	m.warmKey = strings.TrimSuffix(o.prefix, "/") + ".warmup"
	if o.listen != "" {
		m.warmCh = make(chan struct{})
		var once sync.Once
		m.hookSrv = &hookServer{token: o.token, forward: o.forward, bucket: m.src.bucket, tr: m.tr,
			client: http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
			onKey: func(key string) {
				if key == m.warmKey {
					once.Do(func() { close(m.warmCh) })
				}
			}}
		if o.mode == "watch" {
			m.hookSrv.token = "" // a relay leaves the token to the receiver
		}
		ln, err := net.Listen("tcp", o.listen)
		if err != nil {
			return nil, fmt.Errorf("-listen: %w", err)
		}
		srv := &http.Server{Handler: m.hookSrv, ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
	}

	body := make([]byte, o.size)
	for i := range body {
		body[i] = 'a' + byte(i%26)
	}
	if err := m.warmUp(ctx, body); err != nil {
		return nil, err
	}
	fmt.Fprintf(m.log, "benchlat: %s (%s): warm-up arrived; %d objects of %d B at %g/s under %s\n",
		o.tool, o.mode, o.n, o.size, o.rate, o.prefix)

	res := &result{mode: o.mode, poll: o.poll}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watched := make(chan []float64, 1)
	if o.mode != "hook" {
		go func() { watched <- m.watch(watchCtx) }()
	} else {
		watched <- nil
	}

	// The schedule: object i is sent at start + i/rate, whatever the
	// earlier PUTs take.
	interval := time.Duration(float64(time.Second) / o.rate)
	start := time.Now().Add(50 * time.Millisecond)
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for i := range o.n {
		at := start.Add(time.Duration(i) * interval)
		if d := time.Until(at); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		res.maxLag = max(res.maxLag, time.Since(at))
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			m.putOne(ctx, i, body)
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)

	// Stragglers: until everything sent has arrived, or -wait has passed.
	deadline := time.Now().Add(o.wait)
	for !m.tr.allSeen(o.n) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(o.poll)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.giveUp = time.Now()
	stopWatch()
	res.listRTT = <-watched
	res.samples = m.tr.snapshot()
	res.confirmed, res.confFail = m.confirmed.Load(), m.confirmFailed.Load()
	res.copyErrs = m.copyErrs.Load()
	if s, ok := m.firstErr.Load().(string); ok {
		res.firstErr = s
	}
	return res, nil
}

func (m *measurer) fail(format string, args ...any) {
	m.firstErr.CompareAndSwap(nil, fmt.Sprintf(format, args...))
}

// putOne PUTs object i and, in direct mode, copies it to the destination.
func (m *measurer) putOne(ctx context.Context, i int, template []byte) {
	key := m.tr.key(i)
	body := append([]byte(nil), template...)
	copy(body, fmt.Sprintf("%012d", i)) // bodies, so ETags, differ
	_, err := m.src.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(m.src.bucket), Key: aws.String(key),
		Body: bytes.NewReader(body)})
	m.tr.markPut(i, time.Now(), err != nil)
	if err != nil {
		m.putErrs.Add(1)
		m.fail("put %s: %v", key, err)
		return
	}
	if m.o.mode == "direct" {
		if err := m.copyOne(ctx, key); err != nil {
			m.copyErrs.Add(1)
			m.fail("direct copy %s: %v", key, err)
		}
	}
}

// copyOne is the direct mode's replicator: GET at the source, PUT at the
// destination.
func (m *measurer) copyOne(ctx context.Context, key string) error {
	out, err := m.src.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(m.src.bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	data, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		return err
	}
	_, err = m.dst.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(m.dst.bucket), Key: aws.String(key),
		Body: bytes.NewReader(data), ContentType: out.ContentType})
	return err
}

// warmUp PUTs one object outside the measured prefix and waits until it
// arrives: the path (notification target, replication target, receiver)
// works and its connections are open before the clock runs.
func (m *measurer) warmUp(ctx context.Context, body []byte) error {
	_, err := m.src.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(m.src.bucket), Key: aws.String(m.warmKey),
		Body: bytes.NewReader(body)})
	if err != nil {
		return fmt.Errorf("warm-up put %s/%s: %w", m.src.bucket, m.warmKey, err)
	}
	if m.o.mode == "direct" {
		if err := m.copyOne(ctx, m.warmKey); err != nil {
			return fmt.Errorf("warm-up copy: %w", err)
		}
	}
	deadline := time.Now().Add(m.o.wait)
	for time.Now().Before(deadline) {
		if m.o.mode == "hook" {
			select {
			case <-m.warmCh:
				return nil
			case <-time.After(time.Until(deadline)):
			case <-ctx.Done():
				return ctx.Err()
			}
			break
		}
		_, err := m.dst.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(m.dst.bucket), Key: aws.String(m.warmKey)})
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
	where := "at " + m.o.dst
	if m.o.mode == "hook" {
		where = "as an event on " + m.o.listen
	}
	return fmt.Errorf("the warm-up object %s did not arrive %s within %v: is the replication (or notification) set up?", m.warmKey, where, m.o.wait)
}

// watch lists the destination every poll until ctx ends, recording when
// each measured key first shows up, and returns each LIST page's round
// trip in ms.
func (m *measurer) watch(ctx context.Context) []float64 {
	var rtts []float64
	tick := time.NewTicker(m.o.poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return rtts
		case <-tick.C:
		}
		in := &s3.ListObjectsV2Input{Bucket: aws.String(m.dst.bucket), Prefix: aws.String(m.o.prefix)}
		if sa := m.tr.startAfter(); sa != "" {
			in.StartAfter = aws.String(sa)
		}
		p := s3.NewListObjectsV2Paginator(m.dst.c, in)
		for p.HasMorePages() {
			sent := time.Now()
			page, err := p.NextPage(ctx)
			at := time.Now()
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
					m.fail("list %s: %v", m.dst.bucket, err)
				}
				break
			}
			rtts = append(rtts, float64(at.Sub(sent))/float64(time.Millisecond))
			for _, obj := range page.Contents {
				key := aws.ToString(obj.Key)
				if m.tr.markSeen(key, at) {
					m.maybeConfirm(ctx, key)
				}
			}
		}
	}
}

// maybeConfirm reads every confirm'th arrival back with a HEAD, off the
// clock: an object a LIST shows must be readable.
func (m *measurer) maybeConfirm(ctx context.Context, key string) {
	i, _ := m.tr.index(key)
	if m.o.confirm == 0 || i%m.o.confirm != 0 {
		return
	}
	go func() {
		_, err := m.dst.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(m.dst.bucket), Key: aws.String(key)})
		if ctx.Err() != nil {
			return
		}
		m.confirmed.Add(1)
		if err != nil {
			m.confirmFailed.Add(1)
			m.fail("listed but not readable: %s: %v", key, err)
		}
	}()
}
