package jobs

import (
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
)

// Progress shows a run's progress on a terminal: input files done out of
// all, trajectories processed, trajectories per second and the time left
// (estimated from the files done). The caller decides whether its writer
// is a terminal; a run without one shows nothing.
type Progress struct {
	bar   *progressbar.ProgressBar
	start time.Time
	rows  int64
	files int
}

// NewProgress starts a progress bar on w for files input files.
func NewProgress(w io.Writer, files int) *Progress {
	bar := progressbar.NewOptions(files,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("reading"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	)
	return &Progress{bar: bar, start: time.Now()}
}

// update is the stream's progress callback.
func (p *Progress) update(rows, filesDone int) {
	p.rows += int64(rows)
	rate := float64(p.rows) / max(time.Since(p.start).Seconds(), 1e-3)
	p.bar.Describe(fmt.Sprintf("%d trajectories, %.0f/s", p.rows, rate))
	if filesDone > p.files {
		_ = p.bar.Add(filesDone - p.files)
		p.files = filesDone
	}
}

// Finish completes and clears the bar.
func (p *Progress) Finish() { _ = p.bar.Finish() }
