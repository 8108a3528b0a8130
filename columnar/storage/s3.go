package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Config configures S3-compatible stores. Credentials always come from the
// standard AWS chain (environment, shared config and credentials files, web
// identity, instance or container roles); they are never part of a URL or
// of this struct, so they cannot leak into logs, manifests or reports.
type S3Config struct {
	// Endpoint is the base URL of an S3-compatible server, such as
	// http://127.0.0.1:9000 for MinIO; empty means AWS S3.
	Endpoint string `yaml:"endpoint" json:"endpoint,omitempty"`
	// Region is the signing region; empty takes the AWS chain's, then
	// us-east-1.
	Region string `yaml:"region" json:"region,omitempty"`
	// PathStyle addresses buckets as ENDPOINT/bucket/key instead of
	// bucket.ENDPOINT/key: MinIO and most S3-compatible servers need it.
	PathStyle bool `yaml:"path_style" json:"path_style"`
	// MaxAttempts bounds the attempts of one request (default 3).
	MaxAttempts int `yaml:"max_attempts" json:"max_attempts,omitempty"`
	// PartSizeMiB is the multipart upload part size (default 16, minimum
	// 5); smaller objects are written with one PUT.
	PartSizeMiB int `yaml:"part_size_mib" json:"part_size_mib,omitempty"`
	// UploadConcurrency is how many parts of one multipart upload are
	// sent at once (default 4, 1..16). Each writer holds at most this many
	// part buffers, so its memory is bounded by UploadConcurrency ×
	// PartSizeMiB; 1 sends parts one after another.
	UploadConcurrency int `yaml:"upload_concurrency" json:"upload_concurrency,omitempty"`
	// RequestTimeout bounds the wait for one response's headers (default
	// 2m).
	RequestTimeout time.Duration `yaml:"request_timeout" json:"request_timeout,omitempty"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c S3Config) WithDefaults() S3Config {
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 3
	}
	if c.PartSizeMiB == 0 {
		c.PartSizeMiB = 16
	}
	if c.UploadConcurrency == 0 {
		c.UploadConcurrency = 4
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 2 * time.Minute
	}
	return c
}

// Validate reports the first invalid field.
func (c S3Config) Validate() error {
	if c.MaxAttempts < 0 {
		return fmt.Errorf("s3.max_attempts: must be >= 0, got %d", c.MaxAttempts)
	}
	if c.PartSizeMiB != 0 && c.PartSizeMiB < 5 {
		return fmt.Errorf("s3.part_size_mib: S3 needs parts of at least 5 MiB, got %d", c.PartSizeMiB)
	}
	if c.UploadConcurrency != 0 && (c.UploadConcurrency < 1 || c.UploadConcurrency > maxUploadConcurrency) {
		return fmt.Errorf("s3.upload_concurrency: must be 1..%d, got %d", maxUploadConcurrency, c.UploadConcurrency)
	}
	if c.RequestTimeout < 0 {
		return fmt.Errorf("s3.request_timeout: must be >= 0, got %s", c.RequestTimeout)
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("s3.endpoint: want http(s)://host[:port], got %q", Redact(c.Endpoint))
		}
	}
	return nil
}

// maxUploadConcurrency bounds S3Config.UploadConcurrency.
const maxUploadConcurrency = 16

// S3 is a Bucket over one S3 bucket, narrowed to a key prefix.
type S3 struct {
	client      *s3.Client
	bucket      string
	prefix      string // "" or ending in "/"
	partSize    int64
	concurrency int // parts of one upload in flight at once
	name        string
	// drainTimeout bounds the wait, before an abort, for the parts in
	// flight to be answered; parts still unanswered then are cancelled.
	drainTimeout time.Duration
}

// NewS3 opens s3://bucket/prefix with cfg. It makes no request: call Check
// to fail early on a wrong endpoint, bucket or credentials.
func NewS3(ctx context.Context, bucket, prefix string, cfg S3Config) (*S3, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	name := "s3://" + bucket
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		name += "/" + prefix
		prefix += "/"
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRetryMaxAttempts(cfg.MaxAttempts)}
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("open %s: loading the AWS configuration: %w", name, err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	// Checksums only where required: what S3-compatible servers expect.
	awsCfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	awsCfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		o.HTTPClient = newHTTPClient(cfg.RequestTimeout)
	})
	return &S3{
		client: client, bucket: bucket, prefix: prefix, name: name,
		partSize: int64(cfg.PartSizeMiB) << 20, concurrency: cfg.UploadConcurrency,
		drainTimeout: partDrainTimeout,
	}, nil
}

// newHTTPClient bounds connection set-up and the wait for each response, so
// that an unreachable endpoint fails in seconds rather than hanging.
func newHTTPClient(responseTimeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.ResponseHeaderTimeout = responseTimeout
	tr.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: tr}
}

// Name implements BucketReader.
func (b *S3) Name() string { return b.name }

// Check lists one key, so that a wrong endpoint, bucket or credentials
// fail before any work starts.
func (b *S3) Check(ctx context.Context) error {
	_, err := b.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: aws.String(b.prefix), MaxKeys: aws.Int32(1)})
	if err != nil {
		return b.wrap("list", "", err)
	}
	return nil
}

func (b *S3) wrap(op, key string, err error) error {
	obj := b.name
	if key != "" {
		obj = objectName(b, key)
	}
	e := &Error{Op: op, Object: obj, Err: err}
	var apiErr smithy.APIError
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	var nsb *types.NoSuchBucket
	switch {
	case errors.As(err, &nsb):
		e.Hint, e.NotFound = "bucket does not exist", true
	case errors.As(err, &nsk), errors.As(err, &nf):
		e.Hint, e.NotFound = "not found", true
	case errors.As(err, &apiErr):
		switch apiErr.ErrorCode() {
		case "NoSuchBucket":
			e.Hint, e.NotFound = "bucket does not exist", true
		case "NoSuchKey", "NotFound":
			e.Hint, e.NotFound = "not found", true
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "Forbidden", "InvalidToken", "ExpiredToken":
			e.Hint = "credentials rejected (check the AWS credential chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, roles)"
		}
	}
	if e.Hint == "" {
		e.Hint = transportHint(err)
	}
	return e
}

// Iter implements BucketReader. S3 lists keys in ascending UTF-8 order.
func (b *S3) Iter(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: aws.String(b.prefix + prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return b.wrap("list", prefix, err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), b.prefix)
			if err := fn(ObjectInfo{Key: key, Size: aws.ToInt64(o.Size), ETag: strings.Trim(aws.ToString(o.ETag), `"`)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// GetRange implements BucketReader.
func (b *S3) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	in := &s3.GetObjectInput{Bucket: &b.bucket, Key: aws.String(b.prefix + key)}
	switch {
	case length == 0:
		return io.NopCloser(bytes.NewReader(nil)), nil
	case length > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", off, off+length-1))
	case off > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", off))
	}
	out, err := b.client.GetObject(ctx, in)
	if err != nil {
		return nil, b.wrap("read", key, err)
	}
	return out.Body, nil
}

// Stat implements BucketReader.
func (b *S3) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: aws.String(b.prefix + key)})
	if err != nil {
		return ObjectInfo{}, b.wrap("stat", key, err)
	}
	return ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: strings.Trim(aws.ToString(out.ETag), `"`)}, nil
}

// Delete implements Bucket.
func (b *S3) Delete(ctx context.Context, key string) error {
	_, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: aws.String(b.prefix + key)})
	if err != nil {
		if e := b.wrap("delete", key, err); errors.Is(e, ErrNotFound) {
			return nil
		} else {
			return e
		}
	}
	return nil
}

// Close implements Bucket.
func (b *S3) Close() error { return nil }
