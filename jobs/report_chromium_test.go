package jobs_test

import (
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/atlas-ai/atlas-learn/jobs"
)

// chromium finds Debian's chromium (`make tools` installs it), or the
// browser named by $ATLAS_CHROMIUM. There is no fallback: without a
// browser the test fails.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ATLAS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on $PATH (and $ATLAS_CHROMIUM unset): run `make tools`, which installs Debian's chromium")
	return ""
}

// report.html opened in headless Chromium, with every network request
// refused, renders its charts: the screenshot is not blank, and it holds
// the bars (#4a7bd0) and the compression curve (#d0644a) the page draws.
func TestReportRendersInChromium(t *testing.T) {
	bin := chromium(t)
	in := genInput(t, 400, 9)
	out := t.TempDir()
	cfg := config(t, in, out)
	cfg.Concepts.Iterations = 3
	res, err := jobs.Run(context.Background(), cfg, quiet())
	if err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(out, res.RunDir, "report.html")
	shot := filepath.Join(t.TempDir(), "report.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--no-first-run", "--user-data-dir="+t.TempDir(),
		// No network: every host resolves nowhere and a proxy that does
		// not exist carries every request.
		"--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
		"--window-size=1000,2600", "--screenshot="+shot, "file://"+page)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, b)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	near := func(c [3]uint32, r, g, b uint32) bool {
		d := func(a, b uint32) uint32 {
			if a > b {
				return a - b
			}
			return b - a
		}
		return d(c[0], r) < 24 && d(c[1], g) < 24 && d(c[2], b) < 24
	}
	var ink, bars, curve int
	colors := map[[3]uint32]bool{}
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			c := [3]uint32{r >> 8, g >> 8, b >> 8}
			colors[c] = true
			if c != [3]uint32{255, 255, 255} {
				ink++
			}
			switch {
			case near(c, 0x4a, 0x7b, 0xd0):
				bars++
			case near(c, 0xd0, 0x64, 0x4a):
				curve++
			}
		}
	}
	total := bounds.Dx() * bounds.Dy()
	t.Logf("screenshot %dx%d: %.1f%% ink, %d colours, %d bar pixels, %d curve pixels", bounds.Dx(), bounds.Dy(), 100*float64(ink)/float64(total), len(colors), bars, curve)
	if ink < total/50 || len(colors) < 16 {
		t.Fatalf("the screenshot is blank: %d of %d pixels inked, %d colours", ink, total, len(colors))
	}
	if bars < 500 || curve < 50 {
		t.Fatalf("the charts did not render: %d bar pixels, %d curve pixels", bars, curve)
	}
	_ = image.Point{}
}
