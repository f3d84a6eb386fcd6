package awsapi

import (
	"strconv"
	"strings"
)

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

func fieldType(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return ""
	}
	return f[1]
}
