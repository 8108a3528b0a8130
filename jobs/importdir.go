package jobs

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/atlas-ai/atlas-learn/columnar/storage"
)

// localDir is the topmost directory of a local output that did not exist
// before the import: opening the output creates it (and any missing
// parents), so a failed import removes it again when nothing is in it.
type localDir struct{ top string }

// newLocalDir returns the directory that opening uri would create, or nil
// when uri is not local or already exists.
func newLocalDir(uri string, s3 storage.S3Config) *localDir {
	l, err := storage.ParseLocation(uri, s3)
	if err != nil || l.Driver != storage.DriverFile {
		return nil
	}
	abs, err := filepath.Abs(l.Path)
	if err != nil {
		return nil
	}
	top := ""
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !os.IsNotExist(err) {
			return nil
		}
		top = d
		if filepath.Dir(d) == d {
			break
		}
	}
	if top == "" {
		return nil
	}
	return &localDir{top: top}
}

// removeIfEmpty removes the directory and the directories under it that
// hold no file; a directory with a file in it, at any depth, stays.
func (d *localDir) removeIfEmpty(log *slog.Logger) {
	if d == nil {
		return
	}
	if removeEmptyDirs(d.top) {
		log.Debug("removed the output directory the failed import created", "dir", d.top)
	}
}

// removeEmptyDirs removes dir if, after removing its empty
// sub-directories, it is empty; it reports whether dir is gone.
func removeEmptyDirs(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.IsDir() && e.Type()&os.ModeSymlink == 0 {
			removeEmptyDirs(filepath.Join(dir, e.Name()))
		}
	}
	return os.Remove(dir) == nil
}
