package jobs

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/atlas-ai/atlas-learn/columnar"
	"github.com/atlas-ai/atlas-learn/columnar/importer"
)

// detectFileFormat reads name's content to tell its format (--from auto),
// logs the choice at info level and counts it in the manifest counter
// format_<name> (hyphens written as underscores: format_swe_agent,
// format_mini_swe_agent, format_openai_chat, format_openhands,
// format_jsonl). The native JSONL form comes back as "", the format
// importFile reads with columnar.ReadJSONL.
func detectFileFormat(name string, m *columnar.Manifest, log *slog.Logger) (importer.Format, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	d, err := importer.DetectFormat(name, f)
	if err != nil {
		return "", fmt.Errorf("--from auto: %w", err)
	}
	log.Info("detected trajectory format", "file", name, "format", string(d.Format), "reason", d.Reason)
	m.Counters["format_"+strings.ReplaceAll(string(d.Format), "-", "_")]++
	if d.Format == importer.Native {
		return "", nil
	}
	return d.Format, nil
}
