package netns

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"testing"
)

// A listener opened in a fresh namespace answers a dial made in the same
// namespace, and is unreachable from the machine's own namespace.
func TestListenAndDialInNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("needs root: creates a network namespace")
		}
		t.Skip("needs root: creates a network namespace")
	}
	name := "ec2boot-join-" + randomSuffix()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v: %s", err, out)
	}
	path := "/run/netns/" + name
	l, err := Listen(path, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		fmt.Fprint(c, "inside")
		c.Close()
	}()
	c, err := Dialer(path)(t.Context(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != "inside" {
		t.Errorf("read %q, want %q", got, "inside")
	}
	// The port is the namespace's own: from here nobody listens on it
	// (unless by chance something else does, which would answer differently).
	if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
		b, _ := io.ReadAll(c)
		c.Close()
		if string(b) == "inside" {
			t.Error("the namespace's listener answered from the machine's own namespace")
		}
	}
}
