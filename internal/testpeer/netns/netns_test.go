package netns

import (
	"net"
	"os"
	"testing"
)

func TestRunPattern(t *testing.T) {
	for in, want := range map[string]string{
		"TestA":          "^TestA$",
		"TestA/sub_case": "^TestA$/^sub_case$",
		"TestA/a.b(c)":   `^TestA$/^a\.b\(c\)$`,
	} {
		if got := runPattern(in); got != want {
			t.Errorf("runPattern(%q) = %q, want %q", in, got, want)
		}
	}
}

// The inner run sees the namespace's addresses and not the machine's.
func TestReexecIsolates(t *testing.T) {
	outer, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatalf("cannot read the network namespace: %v", err)
	}
	if os.Getenv(Env) == "" { // the outer run tells the inner where it was
		t.Setenv("EC2BOOT_TEST_OUTER_NETNS", outer)
	}
	if !Reexec(t, []string{"addr", "add", "169.254.169.254/32", "dev", "lo"}) {
		return
	}
	inner, err := os.Readlink("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	if inner == os.Getenv("EC2BOOT_TEST_OUTER_NETNS") {
		t.Fatalf("inner run in the same network namespace %s", inner)
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(net.ParseIP("169.254.169.254")) {
			found = true
		}
	}
	if !found {
		t.Errorf("169.254.169.254 not on lo inside: %v", addrs)
	}
}
