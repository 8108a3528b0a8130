package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Hints for failures below the S3 API, for people reading the error.
const (
	hintUnreachable = "endpoint unreachable"
	hintDeadline    = "no answer before the deadline (endpoint slow or unreachable)"
)

// transportHint classifies a failure that happened below the S3 API (no
// API error code to go on) by the types in its chain, never by its
// message: the SDK wraps the net/http error (*url.Error around
// *net.OpError, *net.DNSError, syscall errors, io.EOF ...) in
// *smithyhttp.RequestSendError, *retry.MaxAttemptsError and
// *smithy.OperationError, all of which unwrap. It returns "" when err is
// not a transport failure, or when the caller cancelled (nothing for the
// endpoint to answer for).
func transportHint(err error) string {
	hint := transportKind(err)
	if hint == "" {
		return ""
	}
	var maxAttempts *retry.MaxAttemptsError
	if errors.As(err, &maxAttempts) && maxAttempts.Attempt > 1 {
		hint += fmt.Sprintf(" (gave up after %d attempts)", maxAttempts.Attempt)
	}
	var quota ratelimit.QuotaExceededError
	if errors.As(err, &quota) {
		hint += " (the SDK's retry quota is spent: too many requests are failing)"
	}
	return hint
}

func transportKind(err error) string {
	var (
		dnsErr  *net.DNSError
		opErr   *net.OpError
		netErr  net.Error
		respErr *smithyhttp.ResponseError
	)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
		return ""
	case errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.EHOSTDOWN):
		return hintUnreachable
	case errors.As(err, &dnsErr):
		return hintUnreachable
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		// The server closed the connection before a whole response.
		return hintUnreachable
	case errors.Is(err, context.DeadlineExceeded):
		// Checked before net.Error: context.DeadlineExceeded is a
		// net.Error whose Timeout() is true, but the deadline is the
		// caller's, not a network one.
		return hintDeadline
	case errors.As(err, &netErr) && netErr.Timeout():
		// Dial and read timeouts, and net/http's "timeout awaiting
		// response headers".
		return hintUnreachable
	case errors.As(err, &opErr):
		return hintUnreachable
	case errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500:
		// A response without an S3 error code, such as a proxy's 502.
		return fmt.Sprintf("server error (HTTP %d)", respErr.HTTPStatusCode())
	}
	return ""
}
