package cli_test

import (
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestSecurityDataDirPermissions: what ferry keeps on disk (the daemon's
// queue database with its -wal and -shm files and lock, a backfill's
// checkpoint, lock and report) is readable by its owner only, whatever the
// umask: ferry is started with umask 0 here. A data directory left
// world-readable (by hand, or by an older version) is tightened.
func TestSecurityDataDirPermissions(t *testing.T) {
	bed := testbed.Require(t)
	bed.Setenv(t)
	bin := testbed.FerryBinary(t)
	a := bed.Client(t, testbed.A)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	put(t, a, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String("k.txt"), Body: strings.NewReader("k")})

	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	// As an older ferry or a careless mkdir would have left it.
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dataDir, 0o755)
	if err := os.WriteFile(filepath.Join(dataDir, "queue.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dataDir, "queue.db"), 0o644)
	cfg := filepath.Join(dir, "ferry.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b}]
run: {data_dir: %s, listen: "127.0.0.1:0", reconcile_interval: 0s}
`, src, dst, dataDir)), 0o600); err != nil {
		t.Fatal(err)
	}
	token := "perm-" + redHex(t)
	env := append(os.Environ(), "FERRY_WEBHOOK_TOKEN="+token)

	// The daemon, with one event replicated: the database and its WAL
	// files exist while it runs.
	log := &testbed.Buffer{}
	daemon := exec.Command(bin, "run", "--config", cfg)
	daemon.Env, daemon.Stdout, daemon.Stderr = env, log, log
	startWithUmask0(t, daemon)
	done := make(chan error, 1)
	go func() { done <- daemon.Wait() }()
	defer func() {
		daemon.Process.Kill()
		<-done
	}()
	addr := ""
	for deadline := time.Now().Add(30 * time.Second); addr == ""; {
		if m := redDaemonListen.FindStringSubmatch(log.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("ferry run not listening:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	ev := fmt.Sprintf(`{"Records":[{"eventSource":"minio:s3","eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":%q},"object":{"key":"k.txt","size":1}}}]}`, src)
	req, _ := http.NewRequest("POST", "http://"+addr+"/events", strings.NewReader(ev))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST /events: %v %v", resp, err)
	}
	resp.Body.Close()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(log.String(), "msg=replicated"); {
		if time.Now().After(deadline) {
			t.Fatalf("not replicated:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, name := range []string{"queue.db", "queue.db-wal", "queue.db-shm", "lock"} {
		if _, err := os.Stat(filepath.Join(dataDir, name)); err != nil {
			t.Errorf("%s while the daemon runs: %v", name, err)
		}
	}
	checkPrivate(t, dataDir)
	daemon.Process.Signal(syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Errorf("ferry run: %v\n%s", err, log.String())
	}
	done <- nil
	checkPrivate(t, dataDir)

	// A backfill job: checkpoint, lock and report, the report also at a
	// path of the user's choosing.
	report := filepath.Join(dir, "report.csv")
	for _, args := range [][]string{
		{"backfill", "--config", cfg, "--data-dir", filepath.Join(dir, "bf")},
		{"backfill", "--config", cfg, "--data-dir", filepath.Join(dir, "bf"), "--report", report, "--restart"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		out := &testbed.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		startWithUmask0(t, cmd)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("ferry %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
	}
	checkPrivate(t, filepath.Join(dir, "bf"))
	if fi, err := os.Stat(report); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("--report file: %v, mode %v; want no access for group and others", err, fi.Mode())
	}
}

// startWithUmask0 starts cmd with umask 0, so that only the modes ferry
// asks for count. The umask is the process's: it is restored at once.
func startWithUmask0(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	old := syscall.Umask(0)
	err := cmd.Start()
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
}

// checkPrivate fails the test for any directory or file under root that
// its group or others may access.
func checkPrivate(t *testing.T, root string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n++
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is %v: group or others may access it", path, fi.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Errorf("%s holds nothing to check", root)
	}
}
