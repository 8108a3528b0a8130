package jobs

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/storage"
	"github.com/atlas-ai/atlas-learn/jobs/concepts"
)

// The run report: report.md for people reading the output in a terminal
// or a repository browser, and report.html, self-contained (inline SVG, no
// script, no external asset), with charts. Both are written beside the
// run's manifest once it is committed: they are views of the committed
// datasets and the manifest, not datasets, and a re-run rewrites them.

// Report is what the report shows.
type Report struct {
	RunID    string
	Manifest *columnar.Manifest
	// Domains: success rate by task domain.
	Domains []DomainRate
	// Patterns: the most frequent error patterns.
	Patterns []ErrorPattern
	// Curve: the learned library's cumulative compression ratio after
	// each concept.
	Curve []CurvePoint
	// Weights: examples and total weight per kind of the sft dataset.
	Weights []WeightRow
}

// DomainRate is one domain's trajectories and successes.
type DomainRate struct {
	Domain              string
	Trajectories, Succs int64
}

// CurvePoint is the library after one more concept.
type CurvePoint struct {
	Concept string
	Ratio   float64
}

// WeightRow is one kind of training example.
type WeightRow struct {
	Kind     string
	Examples int64
	Weight   float64
}

type reportExperience struct {
	Domain  string `parquet:"domain"`
	Success bool   `parquet:"success"`
}

type reportExample struct {
	Kind   string  `parquet:"kind"`
	Weight float64 `parquet:"weight"`
}

// maxReportPatterns bounds the error patterns shown.
const maxReportPatterns = 10

// BuildReport reads what the report shows from the committed run at
// runURI; datasets the run did not write are left out.
func BuildReport(ctx context.Context, runURI string, s3 storage.S3Config, m *columnar.Manifest) (*Report, error) {
	r := &Report{RunID: m.Run.ID, Manifest: m}
	has := func(name string) bool { return m.Dataset(name) != nil }
	if has(ExperienceDataset) {
		by := map[string]*DomainRate{}
		if err := ReadDataset(ctx, runURI, s3, ExperienceDataset, ExperienceSchema, func(e *reportExperience) error {
			d := by[e.Domain]
			if d == nil {
				d = &DomainRate{Domain: e.Domain}
				by[e.Domain] = d
			}
			d.Trajectories++
			if e.Success {
				d.Succs++
			}
			return nil
		}); err != nil {
			return nil, err
		}
		for _, d := range by {
			r.Domains = append(r.Domains, *d)
		}
		slices.SortFunc(r.Domains, func(a, b DomainRate) int { return strings.Compare(a.Domain, b.Domain) })
	}
	if has(ErrorPatternsDataset) {
		if err := ReadDataset(ctx, runURI, s3, ErrorPatternsDataset, ErrorPatternsSchema, func(p *ErrorPattern) error {
			r.Patterns = append(r.Patterns, *p)
			return nil
		}); err != nil {
			return nil, err
		}
		slices.SortStableFunc(r.Patterns, func(a, b ErrorPattern) int { return cmp.Compare(b.Count, a.Count) })
		r.Patterns = r.Patterns[:min(len(r.Patterns), maxReportPatterns)]
	}
	if has(ConceptsDataset) {
		if err := ReadDataset(ctx, runURI, s3, ConceptsDataset, ConceptsSchema, func(c *concepts.Concept) error {
			if !c.FromLibrary {
				r.Curve = append(r.Curve, CurvePoint{Concept: c.Name, Ratio: c.CumulativeCompressionRatio})
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if d := m.Dataset("sft"); d != nil && d.Format == "parquet" {
		by := map[string]*WeightRow{}
		if err := ReadDataset(ctx, runURI, s3, "sft", d.SchemaOf(), func(e *reportExample) error {
			w := by[e.Kind]
			if w == nil {
				w = &WeightRow{Kind: e.Kind}
				by[e.Kind] = w
			}
			w.Examples++
			w.Weight += e.Weight
			return nil
		}); err != nil {
			return nil, err
		}
		for _, w := range by {
			r.Weights = append(r.Weights, *w)
		}
		slices.SortFunc(r.Weights, func(a, b WeightRow) int { return strings.Compare(a.Kind, b.Kind) })
	}
	return r, nil
}

// WriteReport builds the report of the committed run at runURI and
// writes report.md and report.html beside its manifest.
func WriteReport(ctx context.Context, b storage.Bucket, runDir, runURI string, s3 storage.S3Config, m *columnar.Manifest) error {
	r, err := BuildReport(ctx, runURI, s3, m)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := storage.Put(ctx, b, storage.Join(runDir, "report.md"), r.Markdown()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := storage.Put(ctx, b, storage.Join(runDir, "report.html"), r.HTML()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func (r *Report) successTotals() (n, s int64) {
	for _, d := range r.Domains {
		n += d.Trajectories
		s += d.Succs
	}
	return n, s
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

func datasetBytes(d columnar.DatasetEntry) int64 {
	var n int64
	for _, f := range d.Files {
		n += f.Bytes
	}
	return n
}

// reportDecision is what the report reads of the fine-tune decision.
type reportDecision struct {
	Finetune bool     `json:"finetune"`
	Reasons  []string `json:"reasons"`
}

func (d reportDecision) verdict() string {
	if d.Finetune {
		return "a fine-tune is due"
	}
	return "no fine-tune"
}

// finetuneDecision is the run's fine-tune decision, if it made one.
func (r *Report) finetuneDecision() (reportDecision, bool) {
	var d reportDecision
	raw, ok := r.Manifest.Decisions["finetune"]
	if !ok || json.Unmarshal(raw, &d) != nil {
		return d, false
	}
	return d, true
}

// Markdown renders the report as Markdown.
func (r *Report) Markdown() []byte {
	var w bytes.Buffer
	m := r.Manifest
	fmt.Fprintf(&w, "# atlas-learn run %s\n\n", r.RunID)
	n, s := r.successTotals()
	fmt.Fprintf(&w, "%d trajectories read (%d skipped) from %d files; %d successful (%.1f%%). Elapsed %.1f s.\n\n",
		m.Counters["rows_read"], m.Counters["rows_skipped"], m.Counters["files_read"], s, pct(s, n), float64(m.Run.ElapsedMS)/1000)
	for _, wn := range m.Warnings {
		fmt.Fprintf(&w, "> **Warning:** %s\n\n", wn)
	}
	if len(r.Domains) > 0 {
		w.WriteString("## Success rate by domain\n\n| domain | trajectories | successes | rate |\n|---|---:|---:|---:|\n")
		for _, d := range r.Domains {
			fmt.Fprintf(&w, "| %s | %d | %d | %.1f%% |\n", mdCell(d.Domain), d.Trajectories, d.Succs, pct(d.Succs, d.Trajectories))
		}
		w.WriteString("\n")
	}
	if len(r.Patterns) > 0 {
		w.WriteString("## Top error patterns\n\n| count | trajectories | template |\n|---:|---:|---|\n")
		for _, p := range r.Patterns {
			fmt.Fprintf(&w, "| %d | %d | `%s` |\n", p.Count, p.Trajectories, mdCell(p.Template))
		}
		w.WriteString("\n")
	}
	if len(r.Curve) > 0 {
		w.WriteString("## Compression curve of the learned library\n\n| concepts | concept | cumulative compression ratio |\n|---:|---|---:|\n")
		for i, c := range r.Curve {
			fmt.Fprintf(&w, "| %d | %s | %.3f |\n", i+1, mdCell(c.Concept), c.Ratio)
		}
		w.WriteString("\n")
	}
	w.WriteString("## Datasets\n\n| dataset | schema | stage | rows | files | bytes |\n|---|---|---|---:|---:|---:|\n")
	for _, d := range m.Datasets {
		fmt.Fprintf(&w, "| %s | %s/v%d | %s | %d | %d | %d |\n", d.Name, d.Schema, d.SchemaVersion, d.Stage, d.Rows, len(d.Files), datasetBytes(d))
	}
	w.WriteString("\n")
	if len(r.Weights) > 0 {
		w.WriteString("## Training examples and weights\n\n| kind | examples | total weight |\n|---|---:|---:|\n")
		for _, x := range r.Weights {
			fmt.Fprintf(&w, "| %s | %d | %.1f |\n", x.Kind, x.Examples, x.Weight)
		}
		w.WriteString("\n")
	}
	if d, ok := r.finetuneDecision(); ok {
		fmt.Fprintf(&w, "## Fine-tune decision\n\n**%s**\n\n", d.verdict())
		for _, reason := range d.Reasons {
			fmt.Fprintf(&w, "- %s\n", reason)
		}
		w.WriteString("\n")
	}
	w.WriteString("## Stages\n\n| stage | elapsed ms |\n|---|---:|\n")
	for _, st := range m.Run.Stages {
		fmt.Fprintf(&w, "| %s | %d |\n", st.Name, st.ElapsedMS)
	}
	return w.Bytes()
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

// HTML renders the report as one self-contained HTML page.
func (r *Report) HTML() []byte {
	var w bytes.Buffer
	esc := html.EscapeString
	m := r.Manifest
	fmt.Fprintf(&w, "<!doctype html><html><head><meta charset=\"utf-8\"><title>atlas-learn run %s</title>", esc(r.RunID))
	w.WriteString(`<style>body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:14px}td.n{text-align:right}code{font-size:12px}.warn{background:#fff3cd;padding:.5em}</style></head><body>`)
	n, s := r.successTotals()
	fmt.Fprintf(&w, "<h1>atlas-learn run %s</h1><p>%d trajectories read (%d skipped) from %d files; %d successful (%.1f%%). Elapsed %.1f s.</p>",
		esc(r.RunID), m.Counters["rows_read"], m.Counters["rows_skipped"], m.Counters["files_read"], s, pct(s, n), float64(m.Run.ElapsedMS)/1000)
	for _, wn := range m.Warnings {
		fmt.Fprintf(&w, "<p class=\"warn\">Warning: %s</p>", esc(wn))
	}
	if len(r.Domains) > 0 {
		w.WriteString("<h2>Success rate by domain</h2>")
		var bars []bar
		for _, d := range r.Domains {
			bars = append(bars, bar{label: d.Domain, value: pct(d.Succs, d.Trajectories), text: fmt.Sprintf("%.1f%% of %d", pct(d.Succs, d.Trajectories), d.Trajectories)})
		}
		w.WriteString(barChart(bars, 100))
	}
	if len(r.Patterns) > 0 {
		w.WriteString("<h2>Top error patterns</h2>")
		var bars []bar
		maxv := 0.0
		for _, p := range r.Patterns {
			bars = append(bars, bar{label: p.Template, value: float64(p.Count), text: fmt.Sprint(p.Count)})
			maxv = max(maxv, float64(p.Count))
		}
		w.WriteString(barChart(bars, maxv))
	}
	if len(r.Curve) > 0 {
		w.WriteString("<h2>Compression curve of the learned library</h2>")
		w.WriteString(lineChart(r.Curve))
	}
	w.WriteString("<h2>Datasets</h2><table><tr><th>dataset</th><th>schema</th><th>stage</th><th>rows</th><th>files</th><th>bytes</th></tr>")
	for _, d := range m.Datasets {
		fmt.Fprintf(&w, "<tr><td>%s</td><td>%s/v%d</td><td>%s</td><td class=n>%d</td><td class=n>%d</td><td class=n>%d</td></tr>", esc(d.Name), esc(d.Schema), d.SchemaVersion, esc(d.Stage), d.Rows, len(d.Files), datasetBytes(d))
	}
	w.WriteString("</table>")
	if len(r.Weights) > 0 {
		w.WriteString("<h2>Training examples and weights</h2>")
		var bars []bar
		maxv := 0.0
		for _, x := range r.Weights {
			bars = append(bars, bar{label: x.Kind, value: x.Weight, text: fmt.Sprintf("%d examples, weight %.1f", x.Examples, x.Weight)})
			maxv = max(maxv, x.Weight)
		}
		w.WriteString(barChart(bars, maxv))
	}
	if d, ok := r.finetuneDecision(); ok {
		fmt.Fprintf(&w, "<h2>Fine-tune decision</h2><p><b>%s</b></p><ul>", esc(d.verdict()))
		for _, reason := range d.Reasons {
			fmt.Fprintf(&w, "<li>%s</li>", esc(reason))
		}
		w.WriteString("</ul>")
	}
	w.WriteString("<h2>Stages</h2><table><tr><th>stage</th><th>elapsed ms</th></tr>")
	for _, st := range m.Run.Stages {
		fmt.Fprintf(&w, "<tr><td>%s</td><td class=n>%d</td></tr>", esc(st.Name), st.ElapsedMS)
	}
	w.WriteString("</table></body></html>\n")
	return w.Bytes()
}

type bar struct {
	label string
	value float64
	text  string
}

// barChart draws horizontal bars scaled to maxv as inline SVG.
func barChart(bars []bar, maxv float64) string {
	const rowH, labelW, barW = 22, 360, 340
	// Room right of the longest bar for the longest value text.
	textW := 60
	for _, b := range bars {
		textW = max(textW, 7*len([]rune(b.text))+12)
	}
	var w strings.Builder
	fmt.Fprintf(&w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-size="12">`, labelW+barW+textW, rowH*len(bars)+4)
	for i, b := range bars {
		y := i*rowH + 2
		label := b.label
		if r := []rune(label); len(r) > 56 {
			label = string(r[:55]) + "…"
		}
		width := 0.0
		if maxv > 0 {
			width = b.value / maxv * barW
		}
		fmt.Fprintf(&w, `<text x="%d" y="%d" text-anchor="end">%s</text><rect x="%d" y="%d" width="%.1f" height="%d" fill="#4a7bd0"/><text x="%.1f" y="%d">%s</text>`,
			labelW-6, y+15, html.EscapeString(label), labelW, y+2, width, rowH-6, float64(labelW)+width+6, y+15, html.EscapeString(b.text))
	}
	w.WriteString("</svg>")
	return w.String()
}

// lineChart draws the compression curve as inline SVG.
func lineChart(pts []CurvePoint) string {
	const wd, ht, pad = 640, 260, 40
	maxv := 1.0
	for _, p := range pts {
		maxv = max(maxv, p.Ratio)
	}
	x := func(i int) float64 {
		if len(pts) == 1 {
			return pad
		}
		return pad + float64(i)*float64(wd-2*pad)/float64(len(pts)-1)
	}
	y := func(v float64) float64 { return float64(ht-pad) - (v-1)/(maxv-1+1e-9)*float64(ht-2*pad) }
	var w strings.Builder
	fmt.Fprintf(&w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-size="12"><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/><line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`,
		wd, ht, pad, ht-pad, wd-pad, ht-pad, pad, pad, pad, ht-pad)
	var path strings.Builder
	for i, p := range pts {
		fmt.Fprintf(&path, "%.1f,%.1f ", x(i), y(p.Ratio))
	}
	fmt.Fprintf(&w, `<polyline fill="none" stroke="#d0644a" stroke-width="2" points="%s"/>`, path.String())
	for i, p := range pts {
		fmt.Fprintf(&w, `<circle cx="%.1f" cy="%.1f" r="3" fill="#d0644a"><title>%s: %.3f</title></circle>`, x(i), y(p.Ratio), html.EscapeString(p.Concept), p.Ratio)
	}
	fmt.Fprintf(&w, `<text x="%d" y="%d">1.0</text><text x="4" y="%d">%.2f</text><text x="%d" y="%d" text-anchor="end">concepts: %d</text></svg>`,
		4, ht-pad, pad+4, maxv, wd-pad, ht-8, len(pts))
	return w.String()
}
