// Command s3fault is a reverse proxy in front of one S3 server that injects
// faults into the requests passing through it: latency, connection resets,
// 503 SlowDown and 500 InternalError at a given rate (see
// testbed.FaultProxy). It is for trying ferry (or any S3 client) against a
// misbehaving server by hand; it is not part of ferry.
//
//	s3fault -target http://127.0.0.1:19000 [-listen 127.0.0.1:0] [-addr-file F]
//	        [-rate 0.1] [-latency 200ms] [-resets] [-slowdown] [-errors] [-all] [-seed N]
//
// Point clients at the proxy's URL, path-style; SigV4 signatures stay valid
// because requests are forwarded with the client's Host header. Once
// listening it writes its URL to F, if given, and to stderr. On the same
// listener, not forwarded:
//
//	GET  /__faults             the stats so far (requests, faults per kind, operations) as JSON
//	PUT  /__faults             change the faults: {"Rate":0.2,"Latency":"100ms","Resets":true,...}
//	POST /__down?for=60s       refuse connections (and cut those open) for that long
//
// On SIGINT or SIGTERM it prints the stats as JSON to stdout and exits.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ferry-s3/ferry/internal/testbed"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "s3fault:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	target := flag.String("target", "", "S3 server to forward to, e.g. http://127.0.0.1:19000 (required)")
	addrFile := flag.String("addr-file", "", "write the proxy's URL to this file once listening")
	var f testbed.Faults
	flag.Float64Var(&f.Rate, "rate", 0.1, "fraction of requests that get a fault, split evenly over the kinds on")
	flag.DurationVar(&f.Latency, "latency", 0, "kind latency: this much extra delay (0: off)")
	flag.BoolVar(&f.Resets, "resets", false, "kind reset: close the connection without a response")
	flag.BoolVar(&f.SlowDown, "slowdown", false, "kind slowdown: 503 SlowDown")
	flag.BoolVar(&f.Errors, "errors", false, "kind error: 500 InternalError")
	all := flag.Bool("all", false, "every kind, latency 200ms unless -latency is given")
	flag.Uint64Var(&f.Seed, "seed", 0, "random seed (0: 1)")
	flag.Parse()
	if *target == "" || flag.NArg() > 0 {
		flag.Usage()
		return errors.New("need -target and no arguments")
	}
	if f.Rate < 0 || f.Rate > 1 {
		return errors.New("-rate: want 0..1")
	}
	if *all {
		f.Resets, f.SlowDown, f.Errors = true, true, true
		if f.Latency == 0 {
			f.Latency = 200 * time.Millisecond
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	p, err := testbed.StartFaultProxy(*target, *listen, f)
	if err != nil {
		return err
	}
	if *addrFile != "" {
		if err := writeAtomic(*addrFile, p.URL()+"\n"); err != nil {
			p.Close()
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "s3fault: %s -> %s (%s)\n", p.URL(), p.Target(), f)
	<-sigs
	p.Close()
	return json.NewEncoder(os.Stdout).Encode(p.Stats())
}

// writeAtomic writes data to path through a temporary file and a rename, so
// a reader polling for path never sees it half written.
func writeAtomic(path, data string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".s3fault-*")
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
