package page

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ferry-s3/ferry/internal/testbed"
)

// TestPageBrowser opens the page in headless Chromium as an operator would:
// reads the rules and the failures, looks at the rendered pixels, and
// clicks Retry on one failure and then Retry all failed.
func TestPageBrowser(t *testing.T) {
	b := &fakeBackend{snap: sampleSnapshot(time.Now())}
	srv := httptest.NewServer(Handler(b, slog.New(slog.NewTextHandler(t.Output(), nil))))
	defer srv.Close()

	ctx := testbed.Browser(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#failures")),
	); err != nil {
		t.Fatal(err)
	}

	// The rules table, cell by cell, as shown.
	rows := eval[[][]string](t, ctx, `[...document.querySelectorAll("#rules tbody tr")].map(tr => [...tr.cells].map(td => td.innerText.trim()))`)
	wantRules := [][]string{
		{"images", "s3://media-dr", "images/", "15m", "1,200", "3.0 GiB", "0", "1,482,113", "0", "1.2s", "41s", ""},
		{"uploads", "s3://media-dr", "uploads/", "15m", "30", "12.0 MiB", "2", "52,007", "17", "3.0s", "16m", "Retry rule"},
		{"uploads", "s3://media-archive-eu", "uploads/", "1h", "4", "900 KiB", "1", "52,001", "0", "2.5s", "20s", "Retry rule"},
	}
	if !reflect.DeepEqual(rows, wantRules) {
		t.Errorf("rules table shows\n%q\nwant\n%q", rows, wantRules)
	}

	// The failure rows: the key exactly as stored (textContent keeps the
	// newline that layout shows as a space), with its reason.
	type failureRow struct{ Key, Destination, Rule, Reason, Attempts string }
	failures := func() []failureRow {
		return eval[[]failureRow](t, ctx, `[...document.querySelectorAll("#failures tr.failure")].map(tr => ({
			Key: tr.querySelector(".key").textContent,
			Destination: tr.cells[1].innerText, Rule: tr.cells[2].innerText,
			Reason: tr.querySelector(".reason").innerText, Attempts: tr.cells[6].innerText}))`)
	}
	wantFailures := []failureRow{
		{"uploads/2026/05/invoice-0042.pdf", "s3://media-archive-eu", "uploads", "DstKmsKeyNotFound", "5"},
		{nastyKey, "s3://media-dr", "uploads", "DstPutObjectNotPermitted", "3"},
		{"uploads/avatars/u-99.png", "s3://media-dr", "uploads", "SrcGetObjectNotPermitted", "8"},
	}
	if got := failures(); !reflect.DeepEqual(got, wantFailures) {
		t.Errorf("failures table shows\n%q\nwant\n%q", got, wantFailures)
	}
	if n := eval[int](t, ctx, `document.scripts.length`); n != 1 {
		t.Errorf("%d scripts in the page, want 1: a key was run as markup", n)
	}
	if got := testbed.Text(ctx, t, "#latency-chart figcaption"); !strings.Contains(got, "p50") || !strings.Contains(got, "p99") {
		t.Errorf("chart legend = %q", got)
	}

	// Every column fits a 1280-pixel window: no Retry button is off to the
	// side in a scrolled table.
	for _, table := range []string{"rules", "failures"} {
		if over := eval[float64](t, ctx, `(() => { const s = document.getElementById("`+table+`").parentElement;
			return s.scrollWidth - s.clientWidth; })()`); over > 0 {
			t.Errorf("the %s table is %vpx wider than the page", table, over)
		}
	}

	checkScreenshot(t, ctx)

	// Retry the failure with the awkward key.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#failures tr.failure:nth-child(2) button.retry-one"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById("retry-result").textContent === "1 operation re-queued"`)
	if got, want := b.filters(), []Filter{{Key: nastyKey, Rule: "uploads"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("backend got retries %q, want %q", got, want)
	}
	// The page refreshed: the row is gone, the counts moved.
	waitFor(t, ctx, `document.querySelectorAll("#failures tr.failure").length === 2`)
	if got, want := failures(), []failureRow{wantFailures[0], wantFailures[2]}; !reflect.DeepEqual(got, want) {
		t.Errorf("after the retry the failures table shows\n%q\nwant\n%q", got, want)
	}
	if got := testbed.Text(ctx, t, "#failed-count"); got != "2" {
		t.Errorf("failed count after the retry = %q, want 2", got)
	}

	// The daemon's queue fails: the retry says so, and the refreshed page
	// shows a banner instead of the data.
	b.setErr(errors.New("queue: database is locked"))
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#rules tr.rule:nth-child(2) button.retry-rule"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById("retry-result").textContent === "retry failed: queue: database is locked"`)
	waitFor(t, ctx, `document.getElementById("error") !== null && !document.getElementById("rules")`)
	if got := testbed.Text(ctx, t, "#error"); !strings.Contains(got, "queue: database is locked") {
		t.Errorf("error banner = %q", got)
	}
	testbed.Screenshot(ctx, t, "backend-error")
	// It recovers by itself at the next timed refresh (every 5 s).
	b.setErr(nil)
	waitFor(t, ctx, `document.getElementById("error") === null && document.getElementById("rules") !== null`)

	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("retry-all"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.getElementById("retry-result").textContent === "2 operations re-queued"`)
	want := []Filter{{Key: nastyKey, Rule: "uploads"}, {Rule: "uploads"}, {}}
	if got := b.filters(); !reflect.DeepEqual(got, want) {
		t.Errorf("backend got retries %q, want %q", got, want)
	}
	waitFor(t, ctx, `!document.getElementById("retry-all")`)
	if got := testbed.Text(ctx, t, "#failures tbody"); got != "no failed operations" {
		t.Errorf("failures table after retrying all = %q", got)
	}
	if err := chromedp.Do(ctx,
		chromedp.MouseEvent(chromedp.MouseMoved, 0, 0), // no hover effect in the picture
		chromedp.Evaluate[chromedp.Void](`scrollTo(0, 0)`),
	); err != nil {
		t.Fatal(err)
	}
	testbed.Screenshot(ctx, t, "after-retry")

	// Nothing came from anywhere but the daemon.
	for _, u := range eval[[]string](t, ctx, `performance.getEntriesByType("resource").map(e => e.name)`) {
		if !strings.HasPrefix(u, srv.URL+"/") {
			t.Errorf("the page loaded %s", u)
		}
	}
}

// checkScreenshot takes a full-page screenshot and checks what a person
// would see in it: a whole page, not blank, with the failure rows in their
// red-ish background (and the rule rows without it).
func checkScreenshot(t *testing.T, ctx context.Context) {
	type box struct {
		X, Y, W, H float64
		Color      string
	}
	// Page coordinates at scroll 0, which is where the full-page capture
	// puts them; the background is the cells' (a row has none of its own).
	const measure = `(sel) => { scrollTo(0, 0); const tr = document.querySelector(sel); const r = tr.getBoundingClientRect();
		return {X: r.left + scrollX, Y: r.top + scrollY, W: r.width, H: r.height, Color: getComputedStyle(tr.cells[0]).backgroundColor}; }`
	failRow := eval[box](t, ctx, "("+measure+`)("#failures tr.failure")`)
	ruleRow := eval[box](t, ctx, "("+measure+`)("#rules tr.rule")`)
	if dpr := eval[float64](t, ctx, "devicePixelRatio"); dpr != 1 {
		t.Fatalf("devicePixelRatio %v, want 1", dpr)
	}

	shot, path := testbed.Screenshot(ctx, t, "dashboard")
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	bounds := img.Bounds()
	if bounds.Dx() != 1280 || bounds.Dy() < 900 || bounds.Dy() > 6000 {
		t.Errorf("screenshot is %dx%d, want 1280 wide and 900 to 6000 high", bounds.Dx(), bounds.Dy())
	}

	colours := map[color.RGBA]int{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			colours[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	commonest := 0
	for _, n := range colours {
		commonest = max(commonest, n)
	}
	if len(colours) < 300 || float64(commonest) > 0.8*float64(bounds.Dx()*bounds.Dy()) {
		t.Errorf("screenshot looks blank: %d distinct colours, the commonest covers %d of %d pixels",
			len(colours), commonest, bounds.Dx()*bounds.Dy())
	}

	var bg color.RGBA
	if _, err := fmt.Sscanf(failRow.Color, "rgb(%d, %d, %d)", &bg.R, &bg.G, &bg.B); err != nil {
		t.Fatalf("failure row background %q: %v", failRow.Color, err)
	}
	bg.A = 255
	if !(int(bg.R) > int(bg.G)+10 && int(bg.R) > int(bg.B)+10) {
		t.Errorf("failure row background %v is not red-ish", bg)
	}
	share := func(b box) float64 {
		r := image.Rect(int(b.X)+4, int(b.Y)+1, int(b.X+b.W)-1, int(b.Y+b.H)-1).Intersect(bounds)
		hits := 0
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if color.RGBAModel.Convert(img.At(x, y)) == bg {
					hits++
				}
			}
		}
		return float64(hits) / float64(max(1, r.Dx()*r.Dy()))
	}
	// Text, the version line and the button cover some of the row; the
	// background shows in most of it.
	t.Logf("screenshot %dx%d: %d colours; failure background %v covers %.0f%% of a failure row, %.0f%% of a rule row",
		bounds.Dx(), bounds.Dy(), len(colours), bg, 100*share(failRow), 100*share(ruleRow))
	if s := share(failRow); s < 0.5 {
		t.Errorf("the failure row's background %v covers %.0f%% of its box %+v in %s, want most of it", bg, 100*s, failRow, path)
	}
	if s := share(ruleRow); s > 0.01 {
		t.Errorf("the failure background %v covers %.0f%% of a rule row %+v, want none", bg, 100*s, ruleRow)
	}
}

// eval evaluates a JavaScript expression in the page and decodes its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until a JavaScript expression is true in the page.
func waitFor(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		result, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("retry-result").textContent`))
		t.Fatalf("waiting for %s: %v (retry result shows %q)", expr, err, result)
	}
}
