package awsapi

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

func fieldType(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

var contextDeadline = context.DeadlineExceeded

func contextWithTimeout(t *testing.T, d time.Duration) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithTimeout(context.Background(), d)
}
