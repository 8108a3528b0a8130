package storage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
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
		u, err := url.Parse(uri)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", uri, err)
		}
		return NewLocal(u.Path)
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
