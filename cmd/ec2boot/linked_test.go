package main

import (
	"os/exec"
	"regexp"
	"slices"
	"testing"
)

// The binary links one EC2 operation, DescribeInstances: a client kept in
// an interface would link all of them (text/template makes the linker
// keep every exported method of such types), tripling the binary.
func TestBinaryLinksOnlyDescribeInstances(t *testing.T) {
	out, err := exec.Command("go", "tool", "nm", binary(t)).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	ops := map[string]bool{}
	re := regexp.MustCompile(`service/ec2\.\(\*Client\)\.([A-Z]\w*)`)
	for _, m := range re.FindAllStringSubmatch(string(out), -1) {
		ops[m[1]] = true
	}
	var got []string
	for op := range ops {
		got = append(got, op)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"DescribeInstances"}) {
		t.Errorf("EC2 operations linked: %d (%.10v…), want DescribeInstances alone", len(got), got)
	}
}
