// Command s3count is a reverse proxy in front of one S3 server that counts
// the requests passing through it by S3 operation (HeadObject,
// ListObjectsV2, ...; see testbed.Operation). Benchmarks put one in front
// of each server to count what a sync costs (bench/scale.sh). It is not
// part of ferry.
//
//	s3count -target http://127.0.0.1:19000 [-listen 127.0.0.1:0] [-addr-file F] [-read-only]
//
// Point clients at the proxy's URL, path-style; their SigV4 signatures stay
// valid because requests are forwarded with the client's Host header. Once
// listening it writes its URL (http://127.0.0.1:PORT) to F, if given, and
// to stderr. On the same listener, not forwarded:
//
//	GET  /__counts   the counts so far, as a JSON object: operation -> requests
//	POST /__reset    set every count to zero
//
// With -read-only, every request but GET and HEAD is answered 403
// AccessDenied instead of being forwarded (and still counted).
//
// On SIGINT or SIGTERM it prints the counts as JSON to stdout and exits.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ferry-s3/ferry/internal/testbed"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "s3count:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	target := flag.String("target", "", "S3 server to forward to, e.g. http://127.0.0.1:19000 (required)")
	addrFile := flag.String("addr-file", "", "write the proxy's URL to this file once listening")
	readOnly := flag.Bool("read-only", false, "refuse (403) every request but GET and HEAD instead of forwarding it")
	flag.Parse()
	if *target == "" || flag.NArg() > 0 {
		flag.Usage()
		return errors.New("need -target and no arguments")
	}
	p, err := testbed.NewCountingHandler(*target)
	if err != nil {
		return err
	}
	p.SetReadOnly(*readOnly)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: p, ReadHeaderTimeout: time.Minute}

	// Catch signals before announcing the address: a script that reads the
	// file and then signals must get the counts.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if *addrFile != "" {
		if err := writeAtomic(*addrFile, url+"\n"); err != nil {
			_ = srv.Close()
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "s3count: %s -> %s\n", url, p.Target())

	select {
	case err := <-served:
		return err
	case <-sigs:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close()
	}
	enc := json.NewEncoder(os.Stdout)
	return enc.Encode(p.Counts())
}

// writeAtomic writes data to path through a temporary file and a rename, so
// a reader polling for path never sees it half written.
func writeAtomic(path, data string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".s3count-*")
	if err != nil {
		return err
	}
	if _, err := f.WriteString(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}
