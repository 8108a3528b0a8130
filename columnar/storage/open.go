package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Open opens the location uri names: a plain path or a file:// URL (a
// local directory, created when missing), or s3://bucket[/prefix] with the
// S3 settings in cfg. Remote stores are checked with one request, so a
// wrong endpoint, bucket or credentials fail here with a clear error.
func Open(ctx context.Context, uri string, cfg S3Config) (Bucket, error) {
	switch {
	case uri == "":
		return nil, errors.New("open: empty location")
	case strings.HasPrefix(uri, "s3://"):
		u, err := url.Parse(uri)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", Redact(uri), err)
		}
		if u.Host == "" {
			return nil, fmt.Errorf("open %s: no bucket name", Redact(uri))
		}
		b, err := NewS3(ctx, u.Host, u.Path, cfg)
		if err != nil {
			return nil, err
		}
		if err := b.Check(ctx); err != nil {
			return nil, err
		}
		return b, nil
	case strings.HasPrefix(uri, "file://"):
		dir, err := filePath(uri)
		if err != nil {
			return nil, err
		}
		return NewLocal(dir)
	case strings.Contains(uri, "://"):
		scheme, _, _ := strings.Cut(uri, "://")
		return nil, fmt.Errorf("open %s: unsupported scheme %q (want a path, file:// or s3://)", Redact(uri), scheme)
	}
	return NewLocal(uri)
}

// Redact removes user info and query parameters, where secrets could
// hide, from a URL.
func Redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
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
		return "", fmt.Errorf("open %s: %w", Redact(uri), err)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("open %s: a file:// URL needs an absolute path (file:///abs/path), got host %q", Redact(uri), u.Host)
	}
	if u.Path == "" {
		return "", fmt.Errorf("open %s: empty path", Redact(uri))
	}
	return u.Path, nil
}

// OpenInput opens uri for reading and returns the store and the key of the
// input within it. A uri naming one data file (ending in .parquet or
// .jsonl) opens the directory above it and returns the file's name as the
// key; a directory gives "". Local directories are never created.
func OpenInput(ctx context.Context, uri string, cfg S3Config) (Bucket, string, error) {
	isFile := strings.HasSuffix(uri, ".parquet") || strings.HasSuffix(uri, ".jsonl")
	switch {
	case uri == "":
		return nil, "", errors.New("open: empty location")
	case strings.HasPrefix(uri, "s3://"):
		if !isFile {
			b, err := Open(ctx, uri, cfg)
			return b, "", err
		}
		i := strings.LastIndex(uri, "/")
		b, err := Open(ctx, uri[:i], cfg)
		return b, uri[i+1:], err
	case strings.Contains(uri, "://") && !strings.HasPrefix(uri, "file://"):
		_, err := Open(ctx, uri, cfg)
		return nil, "", err
	}
	p := uri
	if strings.HasPrefix(uri, "file://") {
		var err error
		if p, err = filePath(uri); err != nil {
			return nil, "", err
		}
	}
	if isFile {
		b, err := OpenLocalDir(filepath.Dir(p))
		return b, filepath.Base(p), err
	}
	b, err := OpenLocalDir(p)
	return b, "", err
}

// splitURI splits a location naming one object into the location of its
// directory and its name.
func splitURI(uri string) (dir, name string) {
	i := strings.LastIndex(uri, "/")
	if i < 0 {
		return ".", uri
	}
	if strings.HasPrefix(uri, "s3://") && i < len("s3://") {
		return uri, ""
	}
	return uri[:i], uri[i+1:]
}

// ReadObject reads the whole object a location names: a local path,
// file:// URL or s3://bucket/key. It is how small files (libraries,
// shard summaries) move between the processes of a distributed job.
func ReadObject(ctx context.Context, uri string, cfg S3Config) ([]byte, error) {
	if !strings.HasPrefix(uri, "s3://") {
		p := uri
		if strings.HasPrefix(uri, "file://") {
			var err error
			if p, err = filePath(uri); err != nil {
				return nil, err
			}
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, &Error{Op: "read", Object: p, Err: err, NotFound: errors.Is(err, os.ErrNotExist)}
		}
		return b, nil
	}
	dir, name := splitURI(uri)
	if name == "" {
		return nil, fmt.Errorf("read %s: no object key", Redact(uri))
	}
	b, err := Open(ctx, dir, cfg)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return Get(ctx, b, name)
}

// WriteObject writes data as the object a location names, atomically (a
// reader sees the old object or the new one, never a part).
func WriteObject(ctx context.Context, uri string, data []byte, cfg S3Config) error {
	dir, name := splitURI(strings.TrimPrefix(uri, "file://"))
	if strings.HasPrefix(uri, "file://") {
		p, err := filePath(uri)
		if err != nil {
			return err
		}
		dir, name = filepath.Dir(p), filepath.Base(p)
	}
	if name == "" {
		return fmt.Errorf("write %s: no object key", Redact(uri))
	}
	b, err := Open(ctx, dir, cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	return Put(ctx, b, name, data)
}
