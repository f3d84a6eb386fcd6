package hostfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ec2boot/ec2boot/internal/testenv"
)

const nobody = 65534

func TestDestLinkRule(t *testing.T) {
	testenv.Root(t, "gives files to another owner")
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
		dest  string
		// refuse is "" when the write goes through, else words the
		// refusal must contain.
		refuse []string
		target string
	}{
		{name: "no link in a directory another account owns", dest: "/etc/app/peers.json", target: "/etc/app/peers.json",
			setup: func(t *testing.T, root string) { chown(t, root, "etc/app", nobody) }},
		{name: "root's link in root's directories", dest: "/etc/app/peers.json", target: "/srv/peers.json",
			setup: func(t *testing.T, root string) { link(t, root, "etc/app/peers.json", "/srv/peers.json") }},
		{name: "link owned by another account", dest: "/etc/app/peers.json",
			refuse: []string{"/etc/app/peers.json -> /etc/shadow", "uid 65534"},
			setup: func(t *testing.T, root string) {
				link(t, root, "etc/app/peers.json", "/etc/shadow")
				lchown(t, root, "etc/app/peers.json", nobody)
			}},
		{name: "root's link in a directory another account owns", dest: "/etc/app/peers.json",
			refuse: []string{"/etc/app/peers.json -> /etc/shadow", "directory /etc/app is owned by uid 65534"},
			setup: func(t *testing.T, root string) {
				link(t, root, "etc/app/peers.json", "/etc/shadow")
				chown(t, root, "etc/app", nobody)
			}},
		{name: "link in a directory others can write", dest: "/etc/app/peers.json",
			refuse: []string{"/etc/app/peers.json -> /etc/shadow", "directory /etc/app is writable"},
			setup: func(t *testing.T, root string) {
				link(t, root, "etc/app/peers.json", "/etc/shadow")
				chmod(t, root, "etc/app", 0o777)
			}},
		{name: "link in a sticky directory", dest: "/tmp/peers.json",
			refuse: []string{"/tmp/peers.json -> /etc/shadow", "directory /tmp is writable"},
			setup: func(t *testing.T, root string) {
				link(t, root, "tmp/peers.json", "/etc/shadow")
				chmod(t, root, "tmp", 0o777|os.ModeSticky)
			}},
		{name: "target in a directory another account owns", dest: "/etc/app/peers.json",
			refuse: []string{"/etc/app/peers.json -> /srv/peers.json", "directory /srv is owned by uid 65534"},
			setup: func(t *testing.T, root string) {
				link(t, root, "etc/app/peers.json", "/srv/peers.json")
				chown(t, root, "srv", nobody)
			}},
		{name: "directory link owned by another account", dest: "/etc/app/conf/peers.json",
			refuse: []string{"/etc/app/conf -> /etc", "uid 65534"},
			setup: func(t *testing.T, root string) {
				link(t, root, "etc/app/conf", "/etc")
				lchown(t, root, "etc/app/conf", nobody)
			}},
		{name: "dangling link", dest: "/etc/app/peers.json",
			refuse: []string{"/etc/app/peers.json points to /srv/nothing", "does not exist"},
			setup:  func(t *testing.T, root string) { link(t, root, "etc/app/peers.json", "/srv/nothing") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tree(t, "etc/app/", "srv/", "tmp/", "etc/shadow=secret", "srv/peers.json=old")
			tt.setup(t, root)
			res, err := Root(root).Dest(tt.dest)
			if tt.refuse == nil {
				if err != nil {
					t.Fatalf("Dest: %v", err)
				}
				if res.Target != tt.target || res.Real != filepath.Join(root, tt.target) {
					t.Errorf("Dest: target %s real %s, want %s", res.Target, res.Real, tt.target)
				}
				return
			}
			if err == nil {
				t.Fatalf("Dest(%s) = %+v, want a refusal", tt.dest, res)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("refusal is not one line: %q", msg)
			}
			for _, w := range tt.refuse {
				if !strings.Contains(msg, w) {
					t.Errorf("refusal %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, root) {
				t.Errorf("refusal %q names the root's own path instead of host paths", msg)
			}
		})
	}
}

func TestDestRefusalIsErrUntrustedLink(t *testing.T) {
	testenv.Root(t, "gives a link to another owner")
	root := tree(t, "etc/app/", "etc/shadow=secret")
	link(t, root, "etc/app/peers.json", "/etc/shadow")
	lchown(t, root, "etc/app/peers.json", nobody)
	if _, err := Root(root).Dest("/etc/app/peers.json"); !errors.Is(err, ErrUntrustedLink) {
		t.Errorf("err = %v, want ErrUntrustedLink", err)
	}
}

func link(t *testing.T, root, p, target string) {
	t.Helper()
	if err := os.Symlink(target, filepath.Join(root, p)); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, root, p string, uid int) {
	t.Helper()
	if err := os.Chown(filepath.Join(root, p), uid, uid); err != nil {
		t.Fatal(err)
	}
}

func lchown(t *testing.T, root, p string, uid int) {
	t.Helper()
	if err := os.Lchown(filepath.Join(root, p), uid, uid); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, root, p string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(filepath.Join(root, p), mode); err != nil {
		t.Fatal(err)
	}
}
