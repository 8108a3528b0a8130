package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
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
