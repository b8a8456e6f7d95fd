// Command ferry keeps objects in S3-compatible buckets copied to other
// buckets: across regions, accounts and providers.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/ferry-s3/ferry/internal/cli"
)

func main() {
	os.Exit(run())
}

// run is main with a way to profile a real run: FERRY_CPUPROFILE=FILE
// writes a CPU profile for `go tool pprof` (bench/README.md).
func run() int {
	if path := os.Getenv("FERRY_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ferry: FERRY_CPUPROFILE:", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	return cli.Main(os.Args[1:], os.Stdout, os.Stderr)
}
