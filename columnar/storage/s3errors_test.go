package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sdkChain wraps a transport error the way the SDK does for a failed
// request of GetObject that was tried attempts times.
func sdkChain(attempts int, err error) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &retry.MaxAttemptsError{
		Attempt: attempts,
		Err:     &smithyhttp.RequestSendError{Err: &url.Error{Op: "Get", URL: "http://127.0.0.1:9/b/k", Err: err}},
	}}
}

func dialErr(errno syscall.Errno) error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: errno}}
}

// netTimeout is a net.Error that timed out, as net/http's "timeout
// awaiting response headers".
type netTimeout struct{}

func (netTimeout) Error() string   { return "net/http: timeout awaiting response headers" }
func (netTimeout) Timeout() bool   { return true }
func (netTimeout) Temporary() bool { return true }

func responseError(status int, err error) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}
}

func TestTransportHint(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"connection refused", sdkChain(1, dialErr(syscall.ECONNREFUSED)), hintUnreachable},
		{"connection refused, retried", sdkChain(3, dialErr(syscall.ECONNREFUSED)), hintUnreachable + " (gave up after 3 attempts)"},
		{"network unreachable", sdkChain(1, dialErr(syscall.ENETUNREACH)), hintUnreachable},
		{"host unreachable", sdkChain(1, dialErr(syscall.EHOSTUNREACH)), hintUnreachable},
		{"no such host", sdkChain(1, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "nope.invalid", IsNotFound: true}}), hintUnreachable},
		{"connection reset", sdkChain(1, &net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}), hintUnreachable},
		{"broken pipe", sdkChain(1, &net.OpError{Op: "write", Net: "tcp", Err: &os.SyscallError{Syscall: "write", Err: syscall.EPIPE}}), hintUnreachable},
		{"closed mid-response", sdkChain(1, io.ErrUnexpectedEOF), hintUnreachable},
		{"closed before a response", sdkChain(1, io.EOF), hintUnreachable},
		{"truncated body", &smithy.DeserializationError{Err: fmt.Errorf("failed to decode response body: %w", io.EOF)}, hintUnreachable},
		{"i/o timeout", sdkChain(1, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}), hintUnreachable},
		{"response header timeout", sdkChain(1, netTimeout{}), hintUnreachable},
		{"other dial failure", sdkChain(1, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("socket: too many open files")}), hintUnreachable},
		{"caller's deadline", &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &smithy.CanceledError{Err: context.DeadlineExceeded}}, hintDeadline},
		{"caller's deadline, dialling", sdkChain(1, &net.OpError{Op: "dial", Net: "tcp", Err: context.DeadlineExceeded}), hintDeadline},
		{"caller cancelled", &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &smithy.CanceledError{Err: context.Canceled}}, ""},
		{"caller cancelled, dialling", sdkChain(1, &net.OpError{Op: "dial", Net: "tcp", Err: context.Canceled}), ""},
		{"proxy's 502", responseError(502, errors.New("bad gateway")), "server error (HTTP 502)"},
		{"404 is not transport", responseError(404, errors.New("not found")), ""},
		{"retry quota spent", errors.Join(sdkChain(1, dialErr(syscall.ECONNREFUSED)), ratelimit.QuotaExceededError{Available: 0, Requested: 5}),
			hintUnreachable + " (the SDK's retry quota is spent: too many requests are failing)"},
		// Message text alone classifies nothing.
		{"message says connection refused", errors.New("dial tcp 127.0.0.1:9: connect: connection refused"), ""},
		{"message says EOF", errors.New("unexpected EOF"), ""},
		{"message says no such host", fmt.Errorf("lookup: %s", "no such host"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := transportHint(tc.err); got != tc.want {
				t.Errorf("transportHint(%v) = %q; want %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestS3WrapHints(t *testing.T) {
	b := &S3{name: "s3://bkt/pre"}
	tests := []struct {
		name     string
		err      error
		hint     string
		notFound bool
	}{
		{"no such bucket", &smithy.GenericAPIError{Code: "NoSuchBucket"}, "bucket does not exist", true},
		{"no such key", &smithy.GenericAPIError{Code: "NoSuchKey"}, "not found", true},
		{"access denied", responseError(403, &smithy.GenericAPIError{Code: "AccessDenied"}), "credentials rejected", false},
		{"internal error", responseError(500, &smithy.GenericAPIError{Code: "InternalError"}), "server error (HTTP 500)", false},
		{"refused", sdkChain(2, dialErr(syscall.ECONNREFUSED)), "endpoint unreachable (gave up after 2 attempts)", false},
		{"unknown", errors.New("something else"), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := b.wrap("read", "k", tc.err)
			var se *Error
			if !errors.As(err, &se) || !strings.HasPrefix(se.Hint, tc.hint) || (tc.hint == "" && se.Hint != "") {
				t.Fatalf("wrap = %#v; want hint %q", err, tc.hint)
			}
			if errors.Is(err, ErrNotFound) != tc.notFound || !errors.Is(err, tc.err) {
				t.Fatalf("wrap = %v: NotFound %v, want %v; wraps the cause %v", err, errors.Is(err, ErrNotFound), tc.notFound, errors.Is(err, tc.err))
			}
			if !strings.Contains(err.Error(), "s3://bkt/pre/k") {
				t.Fatalf("wrap = %v; want the object named", err)
			}
		})
	}
}

// TestS3ClosedPort sends real requests to a port nobody listens on.
func TestS3ClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "closedportaccess")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "closedportsecret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := NewS3(ctx, "bkt", "", S3Config{Endpoint: "http://" + addr, PathStyle: true, MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	err = b.Check(ctx)
	var se *Error
	if !errors.As(err, &se) || se.Hint != hintUnreachable+" (gave up after 2 attempts)" {
		t.Fatalf("Check = %v; want %q", err, hintUnreachable+" (gave up after 2 attempts)")
	}
	var opErr *net.OpError
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &opErr) || opErr.Op != "dial" {
		t.Fatalf("Check = %v; want a refused dial in the chain", err)
	}
	if _, err := b.Stat(ctx, "k"); err == nil || errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), hintUnreachable) {
		t.Fatalf("Stat = %v; want endpoint unreachable, not ErrNotFound", err)
	}
}

func TestS3ConfigUploadConcurrency(t *testing.T) {
	if got := (S3Config{}).WithDefaults().UploadConcurrency; got != 4 {
		t.Errorf("default UploadConcurrency = %d, want 4", got)
	}
	if got := (S3Config{UploadConcurrency: 2}).WithDefaults().UploadConcurrency; got != 2 {
		t.Errorf("WithDefaults changed UploadConcurrency 2 to %d", got)
	}
	tests := []struct {
		n  int
		ok bool
	}{{0, true}, {1, true}, {4, true}, {16, true}, {17, false}, {-1, false}}
	for _, tc := range tests {
		err := S3Config{UploadConcurrency: tc.n}.Validate()
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "s3.upload_concurrency")) {
			t.Errorf("Validate(UploadConcurrency=%d) = %v; want ok %v", tc.n, err, tc.ok)
		}
	}
}
