package testbed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// hookLockWait bounds how long Hook waits for a webhook target that a test
// of another package holds.
const hookLockWait = 5 * time.Minute

// loadNotify reads the NATS and webhook settings of the env file and the
// webhook tokens of DIR/secrets.
func (b *Bed) loadNotify(env map[string]string) error {
	b.NATS = NATS{
		URL:           env["FERRY_TB_NATS_URL"],
		Target:        env["FERRY_TB_NATS_TARGET"],
		Subject:       env["FERRY_TB_NATS_SUBJECT"],
		Stream:        env["FERRY_TB_NATS_STREAM"],
		ClusterTarget: env["FERRY_TB_NATS_CLUSTER_TARGET"],
	}
	if c := env["FERRY_TB_NATS_CLUSTER"]; c != "" {
		b.NATS.Cluster = strings.Split(c, ",")
	}
	port, _ := strconv.Atoi(env["FERRY_TB_HOOK_PORT"])
	hooks, _ := strconv.Atoi(env["FERRY_TB_HOOKS"])
	if b.NATS.URL == "" || b.NATS.Target == "" || b.NATS.Subject == "" || b.NATS.Stream == "" || port == 0 || hooks == 0 {
		return fmt.Errorf("%s has no NATS or webhook settings: the bed predates them; restart it: "+
			"scripts/testbed.sh down %[2]s && scripts/testbed.sh up %[2]s", filepath.Join(b.Dir, "env"), b.Dir)
	}
	secrets, err := readEnvFile(filepath.Join(b.Dir, "secrets"))
	if err != nil {
		return err
	}
	b.hookPort = port
	b.hookTokens = make([]string, hooks)
	for n := range hooks {
		b.hookTokens[n] = secrets["HOOK_TOKEN_"+strconv.Itoa(n+1)]
		if b.hookTokens[n] == "" {
			return fmt.Errorf("%s: no HOOK_TOKEN_%d", filepath.Join(b.Dir, "secrets"), n+1)
		}
	}
	return nil
}

// NATSURL returns the URL of the bed's nats-server (JetStream enabled).
func (b *Bed) NATSURL() string { return b.NATS.URL }

// Hooks returns the number of webhook targets of MinIO a (hook1..hookN).
func (b *Bed) Hooks() int { return len(b.hookTokens) }

// Hook reserves MinIO a's webhook target hookN for the rest of the test and
// returns the address the test must listen on (MinIO posts to
// http://ADDR/events) and the token MinIO sends (Authorization: Bearer
// TOKEN).
//
// Test packages run in parallel, so the reservation is a file lock in the
// bed directory: a second test asking for the same target waits until the
// first one ends. Let each test take its own target where it can.
//
// MinIO keeps events it could not deliver in a queue directory and sends
// them again, every 3 seconds, to whoever listens next: a test may receive
// events of buckets of earlier tests and must ignore them.
func (b *Bed) Hook(t testing.TB, n int) (addr, token string) {
	t.Helper()
	if n < 1 || n > len(b.hookTokens) {
		t.Fatalf("testbed: no webhook target hook%d (the bed has hook1..hook%d)", n, len(b.hookTokens))
	}
	dir := filepath.Join(b.Dir, "locks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("testbed: %v", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("hook%d.lock", n))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	deadline := time.Now().Add(hookLockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			t.Fatalf("testbed: lock %s: %v", path, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			t.Fatalf("testbed: webhook target hook%d still taken by another test after %v", n, hookLockWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.hookPort+n-1)), b.hookTokens[n-1]
}

// TargetARN returns the ARN of one of MinIO a's notification targets:
// "hook1".."hookN" (webhooks) or b.NATS.Target (NATS). An ARN is returned
// as is.
func (b *Bed) TargetARN(t testing.TB, target string) string {
	t.Helper()
	switch {
	case strings.HasPrefix(target, "arn:"):
		return target
	case target == b.NATS.Target || (target == b.NATS.ClusterTarget && target != ""):
		return "arn:minio:sqs::" + target + ":nats"
	case strings.HasPrefix(target, "hook"):
		if n, err := strconv.Atoi(target[len("hook"):]); err == nil && n >= 1 && n <= len(b.hookTokens) {
			return "arn:minio:sqs::" + target + ":webhook"
		}
	}
	t.Fatalf("testbed: MinIO a has no notification target %q (have hook1..hook%d and %s)", target, len(b.hookTokens), b.NATS.Target)
	return ""
}

// Notify makes MinIO a send the notifications of bucket (on server a) for
// events (default: s3:ObjectCreated:* and s3:ObjectRemoved:*) to target,
// which is "hook1".."hookN", b.NATS.Target or an ARN. It replaces the
// bucket's notification configuration and removes it again when the test
// ends, before NewBucket's cleanup empties the bucket (whose deletions
// would otherwise be queued for the target).
func (b *Bed) Notify(t testing.TB, bucket, target string, events ...string) {
	t.Helper()
	if len(events) == 0 {
		events = []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}
	}
	kinds := make([]types.Event, len(events))
	for i, e := range events {
		kinds[i] = types.Event(e)
	}
	c := b.Client(t, A)
	put := func(cfg *types.NotificationConfiguration) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket:                    aws.String(bucket),
			NotificationConfiguration: cfg,
		})
		return err
	}
	arn := b.TargetARN(t, target)
	err := put(&types.NotificationConfiguration{QueueConfigurations: []types.QueueConfiguration{{
		Id:       aws.String("ferry-test"),
		QueueArn: aws.String(arn),
		Events:   kinds,
	}}})
	if err != nil {
		t.Fatalf("testbed: notifications of a/%s to %s: %v", bucket, arn, err)
	}
	t.Cleanup(func() {
		if err := put(&types.NotificationConfiguration{}); err != nil {
			t.Logf("testbed cleanup: remove notifications of a/%s: %v", bucket, err)
		}
	})
}

// ensureStream makes the stream that keeps MinIO a's NATS events in the
// bed's cluster, once, replicated on its three nodes, before any test (or
// ferry under test) makes it with one replica: scaling a stream up later
// moves it between nodes while consumers wait.
func (b *Bed) ensureStream() error {
	if len(b.NATS.Cluster) == 0 {
		return nil
	}
	nc, err := nats.Connect(strings.Join(b.NATS.Cluster, ","), nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: b.NATS.Stream, Subjects: []string{b.NATS.Subject},
		Storage: jetstream.FileStorage, Replicas: len(b.NATS.Cluster), MaxAge: 24 * time.Hour})
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return fmt.Errorf("nats stream %s: %w", b.NATS.Stream, err)
	}
	return nil
}
