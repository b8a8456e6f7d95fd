package testbed

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestChromiumBrowser drives the browser through a tiny page: script runs,
// text is read, and the screenshot shows the page's colours where the
// layout puts them.
func TestChromiumBrowser(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><html><head><link rel="icon" href="data:,"><style>
body { margin: 0; background: #fff; }
#box { position: absolute; left: 100px; top: 2000px; width: 200px; height: 50px; background: rgb(200, 30, 60); }
</style></head><body><p id="msg">waiting</p><div id="box"></div>
<script>document.getElementById("msg").textContent = "script ran";</script></body></html>`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	t.Setenv("FERRY_SCREENSHOT_DIR", dir)

	ctx := Browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	if got := Text(ctx, t, "#msg"); got != "script ran" {
		t.Errorf("text of #msg = %q, want %q", got, "script ran")
	}

	shot, path := Screenshot(ctx, t, "box")
	if filepath.Dir(path) != dir {
		t.Errorf("screenshot saved to %s, not in $FERRY_SCREENSHOT_DIR %s", path, dir)
	}
	if saved, err := os.ReadFile(path); err != nil || !bytes.Equal(saved, shot) {
		t.Errorf("saved screenshot differs from the returned one (%v)", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	// The whole page, beyond the 900-pixel window, at one pixel per CSS pixel.
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() < 2050 {
		t.Fatalf("screenshot is %v, want 1280 wide and the full page (2050 high)", b)
	}
	want := color.RGBA{200, 30, 60, 255}
	if got := color.RGBAModel.Convert(img.At(200, 2025)); got != want {
		t.Errorf("pixel in the box = %v, want %v", got, want)
	}
	if got := color.RGBAModel.Convert(img.At(50, 2025)); got != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("pixel beside the box = %v, want white", got)
	}
}

// A failing script in the page fails the test that opened it (here a
// wrapper that records the failure instead).
func TestChromiumFailsOnPageException(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><link rel="icon" href="data:,"><p id="p">x</p><script>undefinedFunction()</script>`))
	}))
	defer srv.Close()

	inner := &recordingTB{TB: t}
	ctx := Browser(inner)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	Text(ctx, inner, "#p")
	// Poll until the console goroutine has seen the exception.
	for range 100 {
		if inner.errored() {
			return
		}
		if err := chromedp.Do(ctx, chromedp.Sleep(50*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	t.Error("an uncaught exception in the page did not fail the test")
}

// recordingTB records Errorf calls instead of failing the test.
type recordingTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
	r.TB.Logf("recorded error (expected): "+format, args...)
}

func (r *recordingTB) errored() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs) > 0
}
