package benchpatterns

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Dataset is one Loghub-2k file: each message's content and its
// ground-truth event.
type Dataset struct {
	Name     string
	Path     string
	Messages []string
	Events   []string
}

// suffix names the Loghub-2k structured files.
const suffix = "_2k.log_structured.csv"

// LoadDir reads every *_2k.log_structured.csv of dir, by name. It fails
// when there is none.
func LoadDir(dir string) ([]Dataset, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*"+suffix))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no *%s under %s", suffix, dir)
	}
	slices.Sort(paths)
	var out []Dataset
	for _, p := range paths {
		d, err := Load(p)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Load reads one structured Loghub file: its Content and EventId columns.
func Load(path string) (Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return Dataset{}, fmt.Errorf("open dataset: %w", err)
	}
	defer f.Close()
	d := Dataset{Name: strings.TrimSuffix(filepath.Base(path), suffix), Path: path}
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return d, fmt.Errorf("%s: header: %w", path, err)
	}
	content, event := slices.Index(header, "Content"), slices.Index(header, "EventId")
	if content < 0 || event < 0 {
		return d, fmt.Errorf("%s: want Content and EventId columns, got %v", path, header)
	}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return d, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) <= max(content, event) {
			return d, fmt.Errorf("%s: record %d: %d fields", path, line, len(rec))
		}
		d.Messages = append(d.Messages, rec[content])
		d.Events = append(d.Events, rec[event])
	}
	if len(d.Messages) == 0 {
		return d, fmt.Errorf("%s: no messages", path)
	}
	return d, nil
}

// GroupingAccuracy is the grouping accuracy of Zhu et al. (ICSE-SEIP
// 2019): the share of messages whose predicted group (the messages with
// the same predicted ID) is exactly their true group (the messages with
// the same true event).
func GroupingAccuracy(pred []int, truth []string) (float64, error) {
	if len(pred) != len(truth) {
		return 0, fmt.Errorf("grouping accuracy: %d predictions for %d messages", len(pred), len(truth))
	}
	if len(pred) == 0 {
		return 0, errors.New("grouping accuracy: no messages")
	}
	// A predicted group is right when all its messages share one true
	// event and it has as many messages as that event.
	predSize, trueSize := map[int]int{}, map[string]int{}
	predEvent := map[int]string{}
	mixed := map[int]bool{}
	for i, p := range pred {
		predSize[p]++
		trueSize[truth[i]]++
		if e, ok := predEvent[p]; !ok {
			predEvent[p] = truth[i]
		} else if e != truth[i] {
			mixed[p] = true
		}
	}
	right := 0
	for p, n := range predSize {
		if !mixed[p] && trueSize[predEvent[p]] == n {
			right += n
		}
	}
	return float64(right) / float64(len(pred)), nil
}

// Drain3Reference is Drain3's grouping accuracy on a Loghub-2k dataset
// with generic masks (numbers, hexadecimal, IPv4), as measured in the
// trajectory-analysis issue (drain3 0.9.11, default depth 4, similarity
// 0.4, 100 children), and false for a dataset it does not list. `bench
// patterns` measures Drain3 live.
func Drain3Reference(name string) (float64, bool) {
	switch name {
	case "HDFS":
		return 0.998, true
	case "BGL":
		return 0.969, true
	case "Hadoop":
		return 0.963, true
	case "OpenSSH":
		return 0.718, true
	case "Linux":
		return 0.684, true
	case "Proxifier":
		return 0.017, true
	}
	return 0, false
}
