package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/jobs"
)

func newBenchRunCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run [--input URI] [--output URI] [--workers N]",
		Short: "time a run stage by stage beside a bare scan of the same input, in one process",
		Long: `bench run first scans the input bare (every trajectory read and decoded
through the run's stream, no stage run), then runs the job on it as
"atlas-learn run" would, and prints a table: the scan, the run's stream
and each batch stage with its wall time, share of the run and
trajectories/s, the stream's time over the scan's, and the process's peak
resident memory. Use a fresh --output (an incremental run over a memory
that has seen the input does nothing).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load(cmd, map[string]string{"input": "input", "output": "output", "workers": "workers", "stages": "stages"})
			if err != nil {
				return err
			}
			scan, err := jobs.Scan(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			start := time.Now()
			res, err := jobs.Run(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			if res.NothingNew {
				return fmt.Errorf("the memory has processed this input: nothing was run (give a fresh --output)")
			}
			printBenchRun(cmd.OutOrStdout(), scan, res, time.Since(start), jobs.PeakRSS())
			return nil
		},
	}
	f := cmd.Flags()
	f.String("input", "", "input location (config input)")
	f.String("output", "", "output location (config output); use a fresh one")
	f.Int("workers", 0, "parallel workers (config workers)")
	f.String("stages", "", "comma-separated stages (config stages)")
	return cmd
}

func printBenchRun(w io.Writer, scan *jobs.ScanResult, res *jobs.Result, wall time.Duration, rss int64) {
	m := res.Manifest
	rows := m.Counters["rows_read"]
	perSec := func(d time.Duration) string {
		if d <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f", float64(rows)/d.Seconds())
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "step\twall s\tshare of run\ttrajectories/s\t\n")
	fmt.Fprintf(tw, "bare scan (%d files)\t%.2f\t-\t%s\t\n", scan.Files, scan.Elapsed.Seconds(), perSec(scan.Elapsed))
	fmt.Fprintf(tw, "run\t%.2f\t100%%\t%s\t\n", wall.Seconds(), perSec(wall))
	var streamMS int64
	var traj []string
	for _, st := range m.Run.Stages {
		if st.ElapsedMS > 0 && isTrajectoryStage(m, st.Name) {
			streamMS = st.ElapsedMS
			traj = append(traj, st.Name)
		}
	}
	if len(traj) > 0 {
		d := time.Duration(streamMS) * time.Millisecond
		fmt.Fprintf(tw, "  stream (%s)\t%.2f\t%.1f%%\t%s\t\n", strings.Join(traj, ", "), d.Seconds(), 100*d.Seconds()/wall.Seconds(), perSec(d))
	}
	for _, st := range m.Run.Stages {
		if isTrajectoryStage(m, st.Name) {
			continue
		}
		d := time.Duration(st.ElapsedMS) * time.Millisecond
		fmt.Fprintf(tw, "  %s\t%.2f\t%.1f%%\t%s\t\n", st.Name, d.Seconds(), 100*d.Seconds()/wall.Seconds(), perSec(d))
	}
	tw.Flush()
	if scan.Elapsed > 0 && streamMS > 0 {
		fmt.Fprintf(w, "stream / bare scan: %.2fx\n", float64(streamMS)/float64(scan.Elapsed.Milliseconds()))
	}
	fmt.Fprintf(w, "trajectories: %d read, %d skipped; peak RSS %.2f GiB\n", rows, m.Counters["rows_skipped"], float64(rss)/(1<<30))
}

func isTrajectoryStage(m *columnar.Manifest, name string) bool {
	for _, s := range m.Stages {
		if s.Name == name {
			return s.Kind == jobs.KindTrajectory
		}
	}
	return false
}
