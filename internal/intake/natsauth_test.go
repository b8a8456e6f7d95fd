package intake

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ferry-s3/ferry/internal/config"
	"github.com/ferry-s3/ferry/internal/testbed"
)

// natsServer starts a nats-server of its own (the bed's has no auth) with
// extra arguments and returns its URL.
func natsServer(t *testing.T, args ...string) string {
	t.Helper()
	testbed.Require(t) // the bed's tools are installed
	bin := filepath.Join(os.Getenv("HOME"), ".cache/ferry/tools/bin/nats-server")
	if d := os.Getenv("FERRY_TOOLS"); d != "" {
		bin = filepath.Join(d, "bin/nats-server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, append([]string{"-a", "127.0.0.1", "-p", strconv.Itoa(port)}, args...)...)
	if err := cmd.Start(); err != nil {
		t.Skipf("nats-server: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", l.Addr().String())
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatal("nats-server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "nats://" + l.Addr().String()
}

func TestNATSOptionsAuthenticate(t *testing.T) {
	tokenURL := natsServer(t, "--auth", "tok-Secret-123")
	userURL := natsServer(t, "--user", "ferry", "--pass", "pw-Secret-456")

	connect := func(url string, n config.NATS) error {
		opts, err := NATSOptions(&n)
		if err != nil {
			return err
		}
		nc, err := nats.Connect(url, append(opts, nats.MaxReconnects(0))...)
		if err == nil {
			nc.Close()
		}
		return err
	}
	t.Setenv("FERRY_T_TOKEN", "tok-Secret-123")
	t.Setenv("FERRY_T_USER", "ferry")
	t.Setenv("FERRY_T_PASS", "pw-Secret-456")
	t.Setenv("FERRY_T_WRONG", "nope")
	if err := connect(tokenURL, config.NATS{TokenEnv: "FERRY_T_TOKEN"}); err != nil {
		t.Fatalf("token: %v", err)
	}
	if err := connect(userURL, config.NATS{UserEnv: "FERRY_T_USER", PasswordEnv: "FERRY_T_PASS"}); err != nil {
		t.Fatalf("user and password: %v", err)
	}
	for _, tc := range []struct {
		url  string
		n    config.NATS
		want string
	}{
		{tokenURL, config.NATS{}, "authorization violation"},
		{tokenURL, config.NATS{TokenEnv: "FERRY_T_WRONG"}, "authorization violation"},
		{userURL, config.NATS{UserEnv: "FERRY_T_USER", PasswordEnv: "FERRY_T_WRONG"}, "authorization violation"},
		{tokenURL, config.NATS{TokenEnv: "FERRY_T_UNSET"}, "run.nats.token_env: the environment variable FERRY_T_UNSET is not set"},
		{tokenURL, config.NATS{Credentials: "/nonexistent.creds"}, "run.nats.credentials"},
	} {
		err := connect(tc.url, tc.n)
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tc.want)) {
			t.Errorf("%+v: error %v, want %q", tc.n, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "Secret-123") || strings.Contains(err.Error(), "Secret-456")) {
			t.Errorf("the error shows a secret: %v", err)
		}
	}
}
