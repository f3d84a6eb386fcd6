package imds

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
)

// Which failures count as "nothing is there yet" (short retry pace) and
// which back off.
func TestNotUp(t *testing.T) {
	dial := func(errno syscall.Errno) error {
		return fmt.Errorf("PUT /latest/api/token: %w", &net.OpError{Op: "dial", Net: "tcp",
			Err: os.NewSyscallError("connect", errno)})
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", dial(syscall.ECONNREFUSED), true},
		{"network unreachable", dial(syscall.ENETUNREACH), true},
		{"host unreachable", dial(syscall.EHOSTUNREACH), true},
		{"connection reset", dial(syscall.ECONNRESET), false},
		{"timeout", fmt.Errorf("PUT: %w", context.DeadlineExceeded), false},
		{"HTTP 503", &StatusError{Method: "PUT", Path: tokenPath, Code: 503}, false},
		{"other", errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := notUp(tt.err); got != tt.want {
			t.Errorf("%s: notUp = %v, want %v", tt.name, got, tt.want)
		}
	}
}
