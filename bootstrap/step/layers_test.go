package step_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportsPointDown: a package never depends on one that sits above it.
// go list -deps follows imports transitively, so an indirect way back up
// fails too.
func TestImportsPointDown(t *testing.T) {
	const mod = "github.com/ec2boot/ec2boot/bootstrap/"
	rules := []struct{ pkg, mustNotUse string }{
		{"step", "peers"},       // the contract knows no concern
		{"step", "hosts"},       //
		{"prepareimage", "run"}, // needs the lock path only: bootstrap/lock
		{"render", "hosts"},     // gets peers through a source of its own type
		{"hosts", "render"},     //
		{"peers", "step"},       // the peer set is below the steps
		{"lock", "run"},         //
		{"ddns", "run"},         //
		{"ddns", "publish"},     // publish writes role records through ddns's accounts
		{"peers", "publish"},    // readers of a role record never need its writers
		{"awsconfig", "ddns"},   // both AWS clients use it: it knows neither
		{"awsconfig", "peers"},  //
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("the go command is needed: %v", err)
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-deps", "../"+r.pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", r.pkg, err)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, mod+r.pkg) {
			t.Fatalf("go list -deps %s does not list the package itself: %v", r.pkg, deps)
		}
		if slices.Contains(deps, mod+r.mustNotUse) {
			t.Errorf("bootstrap/%s depends on bootstrap/%s", r.pkg, r.mustNotUse)
		}
	}
}
