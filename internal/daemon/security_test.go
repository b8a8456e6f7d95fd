package daemon_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestWebhookSecurityTLS: `ferry run` with run.webhook.tls_cert and tls_key
// serves HTTPS only. A client that trusts the certificate gets a real event
// queued and replicated; plain HTTP to the same port, a client that does
// not trust the certificate and TLS below 1.2 get nothing through; a
// missing or wrong token gets 401. The process keeps running through all of
// it, stops cleanly on SIGTERM, and the token appears in none of its output.
func TestWebhookSecurityTLS(t *testing.T) {
	bed := testbed.Require(t)
	bin := testbed.FerryBinary(t)
	a, b := bed.Client(t, testbed.A), bed.Client(t, testbed.B)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	dir := t.TempDir()
	certFile, keyFile, pool := secSelfSigned(t, dir)
	token := "tls-hook-" + secHex(t, 16)
	cfg := filepath.Join(dir, "ferry.yaml")
	secWrite(t, cfg, fmt.Sprintf(`
source: {bucket: %s, profile: tb-a}
destinations: [{bucket: %s, profile: tb-b}]
run:
  listen: 127.0.0.1:0
  data_dir: %s
  reconcile_interval: 0s
  webhook: {tls_cert: %s, tls_key: %s}
`, src, dst, filepath.Join(dir, "data"), certFile, keyFile))
	p := secStart(t, bin, append(bed.Env(), "FERRY_WEBHOOK_TOKEN="+token), "run", "--config", cfg)
	addr := p.listenAddr(t)

	ctx := context.Background()
	for _, k := range []string{"tls.txt", "plain.txt"} {
		if _, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	trusting := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	send := func(c *http.Client, url, auth, body string) (int, string, error) {
		req, _ := http.NewRequest("POST", url, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		r, err := c.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer r.Body.Close()
		got, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(got), nil
	}
	https, plain := "https://"+addr+"/events", "http://"+addr+"/events"

	// Plain HTTP, even with the right token: Go's TLS server answers 400.
	code, body, err := send(&http.Client{Timeout: 10 * time.Second}, plain, "Bearer "+token, minioEvent(src, "plain.txt", "ObjectCreated:Put"))
	if err == nil && code == 200 {
		t.Errorf("plain HTTP to the TLS webhook: HTTP 200 (%s)", body)
	}
	// A client that does not trust the certificate stops at the handshake.
	untrusting := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}}
	if _, _, err := send(untrusting, https, "Bearer "+token, minioEvent(src, "plain.txt", "ObjectCreated:Put")); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client that does not trust the certificate: %v, want a certificate error", err)
	}
	// TLS 1.1 is refused.
	old := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if _, _, err := send(old, https, "Bearer "+token, minioEvent(src, "plain.txt", "ObjectCreated:Put")); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
	for _, tc := range []struct {
		name, auth, body string
		want             int
	}{
		{"no token", "", minioEvent(src, "plain.txt", "ObjectCreated:Put"), 401},
		{"wrong token", "Bearer x" + token, minioEvent(src, "plain.txt", "ObjectCreated:Put"), 401},
		{"malformed", "Bearer " + token, `{"Records":[{"s3":`, 400},
		{"good", "Bearer " + token, minioEvent(src, "tls.txt", "ObjectCreated:Put"), 200},
	} {
		code, body, err := send(trusting, https, tc.auth, tc.body)
		if err != nil || code != tc.want {
			t.Errorf("%s over HTTPS: HTTP %d (%s), %v; want %d", tc.name, code, strings.TrimSpace(body), err, tc.want)
		}
	}
	waitFor(t, 15*time.Second, func() bool {
		_, err := b.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String("tls.txt")})
		return err == nil
	})
	// The good event was queued after the plain and refused ones: had any
	// of them been let through, plain.txt would be there by now.
	time.Sleep(time.Second)
	if _, err := b.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String("plain.txt")}); err == nil {
		t.Error("plain.txt was replicated: an event sent over plain HTTP, without trust or without the token got through")
	}
	if r, err := trusting.Get("https://" + addr + "/healthz"); err != nil || r.StatusCode != 200 {
		t.Errorf("/healthz after the refused requests: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	p.stop(t)
	log := p.log.String()
	for _, want := range []string{"missing or wrong bearer token", "malformed event refused", "TLS handshake error"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if strings.Contains(log, token) {
		t.Errorf("the webhook token appears in ferry's output")
	}
	if t.Failed() {
		t.Logf("ferry's output:\n%s", tail(log, 6000))
	}
}

// TestWebhookSecurityExposure: ferry run refuses to start a webhook
// without a token on an address other machines reach (exit 2, nothing
// done, the fix named) unless run.webhook.allow_unauthenticated says so; a
// token, or loopback, starts it.
func TestWebhookSecurityExposure(t *testing.T) {
	bed := testbed.Require(t)
	bin := testbed.FerryBinary(t)
	src := bed.NewBucket(t, testbed.A, testbed.BucketOpts{})
	dst := bed.NewBucket(t, testbed.B, testbed.BucketOpts{})
	dir := t.TempDir()
	base := fmt.Sprintf("source: {bucket: %s, profile: tb-a}\ndestinations: [{bucket: %s, profile: tb-b}]\nrun:\n  reconcile_interval: 0s\n", src, dst)
	refused := filepath.Join(dir, "refused.yaml")
	secWrite(t, refused, base+"  data_dir: "+filepath.Join(dir, "d1")+"\n")
	allowed := filepath.Join(dir, "allowed.yaml")
	secWrite(t, allowed, base+"  data_dir: "+filepath.Join(dir, "d2")+"\n  webhook: {allow_unauthenticated: true}\n")
	env := append(bed.Env(), "FERRY_WEBHOOK_TOKEN=")

	for _, listen := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		cmd := exec.Command(bin, "run", "--config", refused, "--listen", listen)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("--listen %s without a token: %v, want exit 2\n%s", listen, err, out)
		}
		for _, want := range []string{"would accept events from anyone", "FERRY_WEBHOOK_TOKEN", "allow_unauthenticated"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("--listen %s: output lacks %q:\n%s", listen, want, out)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "d1")); err == nil {
			t.Errorf("--listen %s: the refused run created its data directory", listen)
		}
	}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"allowed explicitly", env, []string{"--config", allowed, "--listen", "0.0.0.0:0"}},
		{"with a token", append(bed.Env(), "FERRY_WEBHOOK_TOKEN=tok-"+secHex(t, 8)), []string{"--config", refused, "--listen", "0.0.0.0:0"}},
		{"loopback", env, []string{"--config", refused, "--listen", "127.0.0.1:0"}},
	} {
		p := secStart(t, bin, tc.env, append([]string{"run"}, tc.args...)...)
		p.listenAddr(t)
		p.stop(t)
		if tc.name == "with a token" && !strings.Contains(p.log.String(), "clear text") {
			t.Errorf("%s: no warning that the token crosses the network in clear text:\n%s", tc.name, p.log.String())
		}
	}
}

// secProc is a `ferry run` child whose output is kept.
type secProc struct {
	cmd  *exec.Cmd
	log  *testbed.Buffer
	done chan error
}

func secStart(t *testing.T, bin string, env []string, args ...string) *secProc {
	t.Helper()
	p := &secProc{log: &testbed.Buffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

var secListening = regexp.MustCompile(`msg="ferry is running" listen=(\S+)`)

// listenAddr waits for the daemon to say where it listens.
func (p *secProc) listenAddr(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := secListening.FindStringSubmatch(p.log.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("ferry run exited (%v) before secListening:\n%s", err, p.log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("ferry run not secListening after 30s:\n%s", p.log.String())
	return ""
}

// stop sends SIGTERM and expects a clean exit while the process is still
// running (it must not have died of anything earlier).
func (p *secProc) stop(t *testing.T) {
	t.Helper()
	select {
	case err := <-p.done:
		p.done <- err
		t.Fatalf("ferry run had already exited (%v):\n%s", err, tail(p.log.String(), 4000))
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("ferry run after SIGTERM: %v\n%s", err, tail(p.log.String(), 4000))
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("ferry run still running 40s after SIGTERM")
	}
}

// secSelfSigned writes a certificate for 127.0.0.1 and localhost and its key
// (0600), and returns a pool that trusts it.
func secSelfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "ferry test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		DNSNames:    []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	secWrite(t, certFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func secWrite(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func secHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
