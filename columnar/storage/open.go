package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// Driver names the store behind a Location.
type Driver string

// The drivers.
const (
	// DriverFile is a local directory (a plain path or a file:// URL).
	DriverFile Driver = "file"
	// DriverS3 is an S3-compatible bucket (s3://bucket/prefix).
	DriverS3 Driver = "s3"
)

// Location is a storage location parsed once: its driver, its bucket and
// key prefix (S3) or directory (local), and the settings its driver needs.
// A Location names a directory or prefix; Split names one object in it.
// Its String form never carries credentials.
type Location struct {
	Driver Driver
	// Bucket is the S3 bucket ("" for local directories).
	Bucket string
	// Path is the S3 key prefix, without leading or trailing "/", or the
	// local directory as written (relative paths stay relative).
	Path string
	// S3 holds the S3 driver's settings.
	S3 S3Config
}

// ParseLocation parses a plain path, a file:// URL (absolute paths only)
// or s3://bucket[/prefix]. Other schemes are errors.
func ParseLocation(uri string, s3 S3Config) (Location, error) {
	switch {
	case uri == "":
		return Location{}, errors.New("empty location")
	case strings.HasPrefix(uri, "s3://"):
		u, err := url.Parse(uri)
		if err != nil {
			return Location{}, fmt.Errorf("location %s: %w", Redact(uri), err)
		}
		if u.Host == "" {
			return Location{}, fmt.Errorf("location %s: no bucket name", Redact(uri))
		}
		if u.User != nil || u.RawQuery != "" {
			return Location{}, fmt.Errorf("location %s: credentials and query parameters do not belong in an s3:// URL (credentials come from the AWS chain)", Redact(uri))
		}
		if err := s3.Validate(); err != nil {
			return Location{}, err
		}
		return Location{Driver: DriverS3, Bucket: u.Host, Path: strings.Trim(u.Path, "/"), S3: s3}, nil
	case strings.HasPrefix(uri, "file://"):
		p, err := filePath(uri)
		if err != nil {
			return Location{}, err
		}
		return Location{Driver: DriverFile, Path: filepath.Clean(p)}, nil
	case strings.Contains(uri, "://"):
		scheme, _, _ := strings.Cut(uri, "://")
		return Location{}, fmt.Errorf("location %s: unsupported scheme %q (want a path, file:// or s3://)", Redact(uri), scheme)
	}
	return Location{Driver: DriverFile, Path: filepath.Clean(uri)}, nil
}

// String is the location as a URL or path, for messages and manifests.
func (l Location) String() string {
	switch l.Driver {
	case DriverS3:
		if l.Path == "" {
			return "s3://" + l.Bucket
		}
		return "s3://" + l.Bucket + "/" + l.Path
	case DriverFile:
		return l.Path
	}
	return ""
}

// IsZero tells an unset location.
func (l Location) IsZero() bool { return l.Driver == "" }

// Join is the location of a sub-directory (or prefix) of l.
func (l Location) Join(parts ...string) Location {
	switch l.Driver {
	case DriverS3:
		l.Path = Join(append([]string{l.Path}, parts...)...)
	case DriverFile:
		l.Path = filepath.Join(append([]string{l.Path}, parts...)...)
	}
	return l
}

// Split is the directory (prefix) above the object l names, and the
// object's name: s3://b/p/x.json gives s3://b/p and "x.json". A bucket's
// root names no object.
func (l Location) Split() (Location, string, error) {
	switch l.Driver {
	case DriverS3:
		if l.Path == "" {
			return l, "", fmt.Errorf("location %s: no object key", l)
		}
		dir, name := path.Split(l.Path)
		l.Path = strings.Trim(dir, "/")
		return l, name, nil
	case DriverFile:
		dir, name := filepath.Split(l.Path)
		if name == "" || name == "." {
			return l, "", fmt.Errorf("location %s: no file name", l)
		}
		if dir == "" {
			dir = "."
		}
		l.Path = filepath.Clean(dir)
		return l, name, nil
	}
	return l, "", errors.New("unset location")
}

// IsDataFile tells whether the location names one data file (.parquet or
// .jsonl) rather than a directory of them.
func (l Location) IsDataFile() bool {
	return strings.HasSuffix(l.Path, ".parquet") || strings.HasSuffix(l.Path, ".jsonl")
}

// Open opens the location as a bucket for reading and writing; a local
// directory is created when missing. Remote stores are checked with one
// request, so a wrong endpoint, bucket or credentials fail here with a
// clear error.
func (l Location) Open(ctx context.Context) (Bucket, error) {
	switch l.Driver {
	case DriverS3:
		b, err := NewS3(ctx, l.Bucket, l.Path, l.S3)
		if err != nil {
			return nil, err
		}
		if err := b.Check(ctx); err != nil {
			return nil, err
		}
		return b, nil
	case DriverFile:
		return NewLocal(l.Path)
	}
	return nil, errors.New("open: unset location")
}

// OpenReader opens the location for reading and returns the store and the
// key of the input within it: a location naming one data file opens the
// directory above it and returns the file's name; a directory gives "".
// Local directories are never created.
func (l Location) OpenReader(ctx context.Context) (Bucket, string, error) {
	dir, key := l, ""
	if l.IsDataFile() {
		var err error
		if dir, key, err = l.Split(); err != nil {
			return nil, "", err
		}
	}
	if dir.Driver == DriverFile {
		b, err := OpenLocalDir(dir.Path)
		return b, key, err
	}
	b, err := dir.Open(ctx)
	return b, key, err
}

// ReadObject reads the whole object l names.
func (l Location) ReadObject(ctx context.Context) ([]byte, error) {
	dir, name, err := l.Split()
	if err != nil {
		return nil, err
	}
	var b Bucket
	if dir.Driver == DriverFile {
		b, err = OpenLocalDir(dir.Path)
	} else {
		b, err = dir.Open(ctx)
	}
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return Get(ctx, b, name)
}

// WriteObject writes data as the object l names, atomically (a reader
// sees the old object or the new one, never a part).
func (l Location) WriteObject(ctx context.Context, data []byte) error {
	dir, name, err := l.Split()
	if err != nil {
		return err
	}
	b, err := dir.Open(ctx)
	if err != nil {
		return err
	}
	defer b.Close()
	return Put(ctx, b, name, data)
}

// Open parses uri and opens it (see Location.Open).
func Open(ctx context.Context, uri string, cfg S3Config) (Bucket, error) {
	l, err := ParseLocation(uri, cfg)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	return l.Open(ctx)
}

// OpenInput parses uri and opens it for reading (see Location.OpenReader).
func OpenInput(ctx context.Context, uri string, cfg S3Config) (Bucket, string, error) {
	l, err := ParseLocation(uri, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("open: %w", err)
	}
	return l.OpenReader(ctx)
}

// ReadObject reads the whole object a location names: a local path,
// file:// URL or s3://bucket/key. It is how small files (libraries,
// shard summaries) move between the processes of a distributed job.
func ReadObject(ctx context.Context, uri string, cfg S3Config) ([]byte, error) {
	l, err := ParseLocation(uri, cfg)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return l.ReadObject(ctx)
}

// WriteObject writes data as the object a location names, atomically.
func WriteObject(ctx context.Context, uri string, data []byte, cfg S3Config) error {
	l, err := ParseLocation(uri, cfg)
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return l.WriteObject(ctx, data)
}

// Redact removes user info and query parameters, where secrets could
// hide, from a URL.
func Redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || (u.User == nil && u.RawQuery == "") {
		return uri
	}
	u.User = nil
	u.RawQuery = ""
	return u.String()
}

// filePath is the path of a file:// URL; only absolute paths (and the
// host "localhost") are accepted, since file://data/x would silently mean
// the host "data".
func filePath(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("location %s: %w", Redact(uri), err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("location %s: a file:// URL needs an absolute path (file:///abs/path), got host %q", Redact(uri), u.Host)
	}
	if u.Path == "" {
		return "", fmt.Errorf("location %s: empty path", Redact(uri))
	}
	return u.Path, nil
}
