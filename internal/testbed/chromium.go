package testbed

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser;
// scripts/tools.sh installs it when it is missing. $FERRY_CHROMIUM
// overrides it.
const ChromiumPath = "/usr/bin/chromium"

// BrowserTimeout bounds everything one test does in its browser.
const BrowserTimeout = 60 * time.Second

// Browser starts a headless Chromium for t, with a fresh profile, and
// returns a chromedp context for a tab in it: pass it to chromedp.Run and
// chromedp.Do. The browser is closed when the test ends, or at the latest
// after BrowserTimeout.
//
// The page's console messages are logged with t.Logf, and an uncaught
// exception in the page fails the test. A missing browser fails the test
// too: it is part of the test setup (scripts/tools.sh), not optional.
func Browser(t testing.TB) context.Context {
	t.Helper()
	exe := os.Getenv("FERRY_CHROMIUM")
	if exe == "" {
		exe = ChromiumPath
	}
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("no browser for UI tests: %v; install Debian's chromium (scripts/tools.sh does: apt-get install chromium) or set FERRY_CHROMIUM", err)
	}
	// Not t.TempDir: Chromium's helper processes can still be writing to
	// the profile while the directory is removed, which would fail the test.
	profile, err := os.MkdirTemp("", "ferry-chromium-")
	if err != nil {
		t.Fatalf("browser profile: %v", err)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], // headless, no-first-run, disable-sync, ...
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // tests run as root in CI, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		// Fixed geometry, one CSS pixel per image pixel: screenshots are comparable.
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("force-device-scale-factor", "1"),
		chromedp.UserDataDir(profile),
	)
	timeout, cancelTimeout := context.WithTimeout(context.Background(), BrowserTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(timeout, opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)

	var (
		mu    sync.Mutex
		ended bool
	)
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !ended { // t.Logf after the test has ended panics
			t.Logf(format, args...)
		}
	}
	stop := func() {
		cancelTab() // closes the browser
		cancelAlloc()
		cancelTimeout()
		mu.Lock()
		ended = true
		mu.Unlock()
		os.RemoveAll(profile)
	}

	if err := chromedp.Do(ctx); err != nil { // starts the browser and opens the tab
		stop()
		t.Fatalf("start %s: %v", exe, err)
	}
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			logf("browser console: %s:%d: %s", m.URL, m.Line+1, m)
			if m.IsException() {
				mu.Lock()
				if !ended {
					t.Errorf("uncaught exception in the page: %s", m)
				}
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		stop()
		<-consoleDone
	})
	return ctx
}

// Text returns the text of the first element matching the CSS selector
// sel, as the user sees it (innerText), failing the test if there is none.
func Text(ctx context.Context, t testing.TB, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Screenshot takes a PNG of the whole page, beyond the window, and writes
// it to $FERRY_SCREENSHOT_DIR (so that a person can look at it after the
// run) or else to a temporary directory of the test. It returns the PNG and
// the file's path.
func Screenshot(ctx context.Context, t testing.TB, name string) ([]byte, string) {
	t.Helper()
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := os.Getenv("FERRY_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot dir: %v", err)
	}
	path := filepath.Join(dir, fileName(t.Name()+"-"+name)+".png")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
	t.Logf("screenshot %s: %s", name, path)
	return img, path
}

// fileName keeps letters, digits, '-', '_' and '.' of s.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
