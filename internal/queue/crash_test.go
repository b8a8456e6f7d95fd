package queue

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-s3/ferry/internal/event"
)

const batch = 20 // events per Add in the child

// child runs in a re-executed test binary, which the parent kills.
func child(mode, dir string) {
	q, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	switch mode {
	case "add":
		// Print i only after Add(i) returned: the parent checks exactly those.
		i, _ := strconv.Atoi(os.Getenv("QUEUE_START"))
		for ; ; i++ {
			evs := make([]event.Event, batch)
			for j := range evs {
				evs[j] = ev(fmt.Sprintf("add%06d/%02d", i, j), "")
			}
			if err := q.Add(ctx, evs); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fmt.Fprintln(os.Stdout, i) // os.Stdout is unbuffered
		}
	case "claim":
		if err := q.Add(ctx, []event.Event{ev("a", "01"), ev("b", "01")}); err != nil {
			os.Exit(1)
		}
		jobs, err := q.Claim(ctx, 1)
		if err != nil || len(jobs) != 1 {
			os.Exit(1)
		}
		q.Add(ctx, []event.Event{ev(jobs[0].Event.Key, "02")}) // waits behind the running job
		fmt.Println("claimed", jobs[0].Event.Key)
		select {}
	}
}

func startChild(t *testing.T, mode, dir string, env ...string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "QUEUE_CHILD="+mode, "QUEUE_DIR="+dir)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(out)
}

func kill(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}

// TestCrashDuringAdd kills a writer at random moments; every Add that had
// returned must survive, and the database must stay sound.
func TestCrashDuringAdd(t *testing.T) {
	dir := t.TempDir()
	acked := -1 // the last acknowledged batch over all rounds
	for round := range 5 {
		// Each round inserts new keys, after the last round's.
		cmd, out := startChild(t, "add", dir, "QUEUE_START="+strconv.Itoa(acked+1))
		lines := make(chan int)
		go func() {
			defer close(lines)
			for out.Scan() {
				i, err := strconv.Atoi(strings.TrimSpace(out.Text()))
				if err == nil {
					lines <- i
				}
			}
		}()
		// Once it writes (a loaded machine may take a while to start
		// it), let it run a random while, reading its acknowledgements.
		last := acked
		select {
		case i, ok := <-lines:
			if !ok {
				t.Fatal("child exited early")
			}
			last = i
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: child acknowledged no Add in 30s", round)
		}
		stop := time.Now().Add(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		for timer := time.After(time.Until(stop)); ; {
			select {
			case i, ok := <-lines:
				if !ok {
					t.Fatal("child exited early")
				}
				last = i
				continue
			case <-timer:
			}
			break
		}
		kill(t, cmd)
		for i := range lines {
			last = i // acknowledged before it died
		}
		if last == acked {
			t.Fatalf("round %d: child acknowledged no Add", round)
		}
		acked = last

		q, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		var check string
		if err := q.db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
			t.Fatalf("integrity_check: %q, %v", check, err)
		}
		var missing int
		err = q.db.QueryRow(`SELECT ? - count(*) FROM jobs WHERE key < ?`,
			(acked+1)*batch, fmt.Sprintf("add%06d", acked+1)).Scan(&missing)
		if err != nil || missing != 0 {
			t.Fatalf("round %d: %d acknowledged jobs missing (%v)", round, missing, err)
		}
		t.Logf("round %d: %d Adds acknowledged in all, all present", round, acked+1)
		q.Close()
	}
}

// TestCrashWhileRunning: a job claimed by a process that died is pending
// again after Open, and the job that waited behind it folds into it.
func TestCrashWhileRunning(t *testing.T) {
	dir := t.TempDir()
	cmd, out := startChild(t, "claim", dir)
	if !out.Scan() || !strings.HasPrefix(out.Text(), "claimed ") {
		kill(t, cmd)
		t.Fatalf("child: %q", out.Text())
	}
	key := strings.TrimPrefix(out.Text(), "claimed ")
	kill(t, cmd)

	q := openT(t, dir)
	wantCounts(t, q, 2, 0, 0)
	if !ready(q) {
		t.Error("recovered jobs did not signal Ready")
	}
	jobs := claim(t, q, 10)
	if len(jobs) != 2 {
		t.Fatalf("claimed %d jobs, want 2", len(jobs))
	}
	for _, j := range jobs {
		if j.Event.Key == key && j.Event.Sequencer != "02" {
			t.Errorf("recovered job %+v, want the event that arrived while it ran", j)
		}
	}
}
