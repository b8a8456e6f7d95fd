package page

import (
	"context"
	"math"
	"strings"
	"sync"
	"time"
)

// fakeBackend holds a snapshot and behaves like the daemon would: Retry
// takes the matching failures out of the snapshot and re-queues them.
type fakeBackend struct {
	mu       sync.Mutex
	snap     Snapshot
	err      error // Snapshot and Retry fail with it when set
	requests []Filter
}

func (b *fakeBackend) Snapshot(ctx context.Context) (Snapshot, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return Snapshot{}, b.err
	}
	s := b.snap
	s.Rules = append([]Rule(nil), s.Rules...)
	s.Failures = append([]Failure(nil), s.Failures...)
	return s, nil
}

func (b *fakeBackend) Retry(ctx context.Context, f Filter) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.requests = append(b.requests, f)
	if b.err != nil {
		return 0, b.err
	}
	var kept []Failure
	n := 0
	for _, fl := range b.snap.Failures {
		if (f.Rule == "" || f.Rule == fl.Rule) && (f.Key == "" || f.Key == fl.Key) && strings.HasPrefix(fl.Key, f.Prefix) {
			n++
			for i := range b.snap.Rules {
				if r := &b.snap.Rules[i]; r.ID == fl.Rule && r.Destination == fl.Destination {
					r.Failed--
					r.Pending++
				}
			}
			continue
		}
		kept = append(kept, fl)
	}
	b.snap.Failures = kept
	b.snap.Queue.Failed -= n
	b.snap.Queue.Pending += n
	return n, nil
}

func (b *fakeBackend) setErr(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.err = err
}

func (b *fakeBackend) filters() []Filter {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Filter(nil), b.requests...)
}

// nastyKey is a legal S3 key that is also markup, with quotes, an
// ampersand, spaces, non-ASCII text and a newline.
const nastyKey = "uploads/<script>alert('x')</script> & \"friends\"/Ωmega straße\nline2.jpg"

// sampleSnapshot is a plausible daemon state at now: three destinations,
// a backlog, an hour of latency with a quiet gap, and three failures.
func sampleSnapshot(now time.Time) Snapshot {
	now = now.UTC().Truncate(time.Second)
	s := Snapshot{
		Generated:      now,
		Source:         "s3://media-prod",
		Workers:        16,
		Busy:           11,
		BytesPerSecond: 48.5 * (1 << 20),
		Queue:          Queue{Pending: 1234, Running: 11, Failed: 3, OldestPending: now.Add(-4*time.Minute - 5*time.Second)},
		Rules: []Rule{
			{ID: "images", Destination: "s3://media-dr", Prefix: "images/", Threshold: 15 * time.Minute,
				Pending: 1200, PendingBytes: 3 << 30, Failed: 0, Completed: 1_482_113, MissedThreshold: 0,
				P50: 1200 * time.Millisecond, P99: 41 * time.Second},
			{ID: "uploads", Destination: "s3://media-dr", Prefix: "uploads/", Threshold: 15 * time.Minute,
				Pending: 30, PendingBytes: 12 << 20, Failed: 2, Completed: 52_007, MissedThreshold: 17,
				P50: 3 * time.Second, P99: 16 * time.Minute},
			{ID: "uploads", Destination: "s3://media-archive-eu", Prefix: "uploads/", Threshold: time.Hour,
				Pending: 4, PendingBytes: 900 << 10, Failed: 1, Completed: 52_001, MissedThreshold: 0,
				P50: 2500 * time.Millisecond, P99: 20 * time.Second},
		},
		Failures: []Failure{
			{Key: "uploads/2026/05/invoice-0042.pdf", VersionID: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", Rule: "uploads",
				Destination: "s3://media-archive-eu", Reason: "DstKmsKeyNotFound",
				Detail:   "operation error S3: PutObject, https response error StatusCode: 400, api error KMS.NotFoundException: Key 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd' does not exist",
				Fix:      "Create the KMS key in the destination region, or point the rule's replica_kms_key_id at an existing key.",
				Attempts: 5, Since: now.Add(-12 * time.Minute)},
			{Key: nastyKey, Rule: "uploads", Destination: "s3://media-dr", Reason: "DstPutObjectNotPermitted",
				Detail:   "operation error S3: PutObject, https response error StatusCode: 403, api error AccessDenied: Access Denied",
				Fix:      "Allow s3:PutObject on the destination bucket for the role ferry runs as (see ferry policy).",
				Attempts: 3, Since: now.Add(-47 * time.Minute)},
			{Key: "uploads/avatars/u-99.png", VersionID: "null", Rule: "uploads", Destination: "s3://media-dr",
				Reason: "SrcGetObjectNotPermitted",
				Detail: "operation error S3: GetObject, https response error StatusCode: 403, api error AccessDenied: Access Denied",
				Fix:    "Allow s3:GetObject and s3:GetObjectVersion on the source bucket.", Attempts: 8,
				Since: now.Add(-2*time.Hour - 3*time.Minute)},
		},
	}
	start := now.Truncate(time.Minute).Add(-59 * time.Minute)
	for i := range 60 {
		p := Point{Time: start.Add(time.Duration(i) * time.Minute)}
		if i < 20 || i > 24 { // a quiet spell: no operation completed
			wave := math.Sin(float64(i)/5) + 0.5*math.Sin(float64(i)*1.7)
			p.Count = 40 + int(12*wave)
			p.P50 = time.Duration((1.1 + 0.25*wave) * float64(time.Second))
			p.P95 = time.Duration((7 + 2*wave) * float64(time.Second))
			p.P99 = time.Duration((16 + 6*wave) * float64(time.Second))
			if i == 50 {
				p.P99 = 71 * time.Second // a slow copy
			}
		}
		s.Latency = append(s.Latency, p)
	}
	return s
}
