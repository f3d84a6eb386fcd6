package main

import (
	"os/exec"
	"regexp"
	"slices"
	"strings"
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

// The binary links the two credential sources ec2boot reads (the
// environment's keys and the instance role) and none of the SDK's others:
// config.LoadDefaultConfig would bring SSO, SSO OIDC, STS and sign-in,
// their clients and initialisers, into every start.
func TestBinaryLinksNoOtherCredentialSource(t *testing.T) {
	out, err := exec.Command("go", "version", "-m", binary(t)).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	var linked []string
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && (f[0] == "dep" || f[0] == "=>") {
			linked = append(linked, f[1])
		}
	}
	if !slices.Contains(linked, "github.com/aws/aws-sdk-go-v2/credentials") {
		t.Fatalf("the credentials module is not among the linked modules %v: the check reads the wrong output", linked)
	}
	for _, unwanted := range []string{
		"github.com/aws/aws-sdk-go-v2/config",
		"github.com/aws/aws-sdk-go-v2/service/sso",
		"github.com/aws/aws-sdk-go-v2/service/ssooidc",
		"github.com/aws/aws-sdk-go-v2/service/sts",
		"github.com/aws/aws-sdk-go-v2/service/signin",
		"github.com/prometheus/client_golang",
	} {
		if slices.Contains(linked, unwanted) {
			t.Errorf("the binary links %s", unwanted)
		}
	}
}
