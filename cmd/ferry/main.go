// Command ferry keeps objects in S3-compatible buckets copied to other
// buckets: across regions, accounts and providers.
package main

import (
	"os"

	"github.com/ferry-s3/ferry/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
