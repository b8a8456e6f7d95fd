package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var ferryBin = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "ferry-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "ferry")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ferry-s3/ferry/cmd/ferry").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// FerryBinary builds the ferry command once per test process and returns
// its path, for tests that must run ferry as a process of its own (to kill
// it, or to serve the Lambda Runtime API).
func FerryBinary(t testing.TB) string {
	t.Helper()
	bin, err := ferryBin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
