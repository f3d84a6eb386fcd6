package imds

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrNotFound means the metadata service answered 404: the item is absent
// (no public IPv4 on a private instance, no user-data). It is an answer,
// not a failure.
var ErrNotFound = errors.New("not found")

// ErrDisabled is returned by every request when the client is disabled
// (AWS_EC2_METADATA_DISABLED=true).
var ErrDisabled = errors.New("instance metadata access is disabled")

// ErrTooLarge means an answer was longer than Options.MaxBody.
var ErrTooLarge = errors.New("answer too large")

// ErrUnreachable means the metadata service gave no usable answer before
// the deadline; the error also wraps the last failure seen.
var ErrUnreachable = errors.New("instance metadata service unreachable")

// ErrNoToken means no IMDSv2 token could be had and the IMDSv1 fallback is
// not allowed (V1Disabled) or not possible.
var ErrNoToken = errors.New("no IMDSv2 token")

// StatusError is an HTTP answer other than 200 or 404.
type StatusError struct {
	Method string
	Path   string
	Code   int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d %s", e.Method, e.Path, e.Code, http.StatusText(e.Code))
}

// retryable reports whether a status is worth asking again: throttling and
// server errors, which IMDS returns while it is starting or overloaded.
func retryable(code int) bool {
	return code == http.StatusTooManyRequests || code >= 500
}

// permanentError stops the retry loop: asking again cannot help.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func permanent(err error) error { return &permanentError{err} }

func isPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
