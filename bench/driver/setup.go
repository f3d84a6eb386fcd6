package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The instance the benchmark pretends to be, and the fleet around it.
const (
	instanceID = "i-0bench000000000001"
	localIPv4  = "10.200.0.1"
	publicIPv4 = "203.0.113.10"
	zone       = "example.test"
	username   = "bench"
	password   = "bench-secret"
	internal   = "web-1.internal.example.test"
	external   = "web-1.example.test"
)

// peerSeeds are the three peers, and the instance's own names as the
// previous instance left them (the redeploy case: DNS holds old addresses).
var peerSeeds = []string{
	"db-1.example.test=10.200.1.1",
	"db-2.example.test=10.200.1.2",
	"web-2.example.test=10.200.0.2",
}
var staleSelf = []string{
	internal + "=10.200.0.99",
	external + "=203.0.113.99",
}

const aemmConfig = `{ "imdsv2": true, "server": { "hostname": "127.0.0.1", "port": "%d" },
  "metadata": { "values": { "instance-id": "%s", "local-ipv4": "%s", "public-ipv4": "%s",
      "hostname": "ip-10-200-0-1.ec2.internal", "local-hostname": "ip-10-200-0-1.ec2.internal",
      "placement-availability-zone": "eu-west-1b", "placement-region": "eu-west-1" } },
  "dynamic": { "values": { "instance-identity-document": { "accountId": "111122223333",
      "availabilityZone": "eu-west-1b", "region": "eu-west-1", "instanceId": "%s", "privateIp": "%s",
      "instanceType": "m5d.large", "imageId": "ami-0123456789abcdef0", "architecture": "x86_64",
      "version": "2017-09-30", "pendingTime": "2026-01-01T00:00:00Z" } } },
  "userdata": { "paths": { "userdata": "" } } }
`

// fullConfig is the cold-boot job: two names, three peers, /etc/hosts, two
// templates, two directories relocated onto the instance store.
const fullConfig = `[imds]
timeout = "10s"

[dns]
check_server = "{{DNS}}"

[dns.accounts.test]
server = "http://{{HTTP}}"
username = "bench"
password_file = "/etc/ec2boot/dyn.secret"

[[dns.records]]
name = "web-1.internal.example.test"
address = "local-ipv4"
account = "test"

[[dns.records]]
name = "web-1.example.test"
address = "public-ipv4"
account = "test"

[peers]
nameserver = "{{DNS}}"

[peers.roles]
db = ["db-1.example.test", "db-2.example.test"]
web = ["web-2.example.test"]

[[templates]]
source = "templates/peers.env.tmpl"
destination = "/etc/app/peers.env"

[[templates]]
source = "templates/nginx-upstream.conf.tmpl"
destination = "/etc/nginx/conf.d/upstream.conf"

[relocate]
enabled = {{RELOCATE}}
paths = ["/var/log", "/var/tmp"]

[disk]
paths = ["/", "/mnt"]
`

// dnsOnlyConfig is the job ddclient and inadyn do: the two names only.
const dnsOnlyConfig = `[imds]
timeout = "10s"

[dns]
check_server = "{{DNS}}"

[dns.accounts.test]
server = "http://{{HTTP}}"
username = "bench"
password_file = "/etc/ec2boot/dyn.secret"

[[dns.records]]
name = "web-1.internal.example.test"
address = "local-ipv4"
account = "test"

[[dns.records]]
name = "web-1.example.test"
address = "public-ipv4"
account = "test"

[hosts]
enabled = false

[relocate]
enabled = false
`

const debianHosts = "127.0.0.1\tlocalhost\n\n" +
	"# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\n" +
	"ff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n"

// rootSpec says how to build a scratch --root.
type rootSpec struct {
	config    string
	relocate  bool   // tmpfs instance store at /mnt with a fake NVMe sysfs
	templates string // directory holding the example templates
	dirs      bool   // /var/log and /var/tmp with some files
}

func expand(cfg string, dnsAddr, httpAddr string, relocate bool) string {
	r := strings.NewReplacer("{{DNS}}", dnsAddr, "{{HTTP}}", httpAddr, "{{RELOCATE}}", fmt.Sprint(relocate))
	return r.Replace(cfg)
}

// makeRoot builds a scratch root at dir.
func makeRoot(dir string, spec rootSpec) error {
	files := map[string]string{
		"etc/ec2boot/config.toml": spec.config,
		"etc/ec2boot/dyn.secret":  password + "\n",
		"etc/hosts":               debianHosts,
	}
	for p, body := range files {
		if err := writeFile(filepath.Join(dir, p), body, 0o600); err != nil {
			return err
		}
	}
	for _, t := range []string{"peers.env.tmpl", "nginx-upstream.conf.tmpl"} {
		b, err := os.ReadFile(filepath.Join(spec.templates, t))
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(dir, "etc/ec2boot/templates", t), string(b), 0o644); err != nil {
			return err
		}
	}
	for _, d := range []string{"etc/app", "etc/nginx/conf.d", "var/lib", "run", "mnt", "dev"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if spec.dirs {
		// Two small directories: a log tree of 24 files (~200 KiB) and a
		// temp dir of 6.
		for i := 0; i < 24; i++ {
			sub := []string{"", "apt/", "app/"}[i%3]
			body := strings.Repeat(fmt.Sprintf("2026-01-01T00:00:%02dZ line of log %d\n", i%60, i), 256)
			if err := writeFile(filepath.Join(dir, "var/log", sub, fmt.Sprintf("log-%02d.log", i)), body, 0o640); err != nil {
				return err
			}
		}
		for i := 0; i < 6; i++ {
			if err := writeFile(filepath.Join(dir, "var/tmp", fmt.Sprintf("tmp-%d", i)), strings.Repeat("x", 4096), 0o600); err != nil {
				return err
			}
		}
		if err := os.Chmod(filepath.Join(dir, "var/tmp"), 0o1777); err != nil {
			return err
		}
	}
	if spec.relocate {
		return fakeInstanceStore(dir)
	}
	return nil
}

// fakeInstanceStore mounts a tmpfs at root/mnt and makes the root's fake
// sysfs say that its device number is an NVMe instance-store disk. Only in
// the benchmark's private mount namespace.
func fakeInstanceStore(root string) error {
	mp := filepath.Join(root, "mnt")
	if err := unix.Mount("bench-instance-store", mp, "tmpfs", 0, "size=64m,mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", mp, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(mp, &st); err != nil {
		return err
	}
	model := fmt.Sprintf("%-40s\n", "Amazon EC2 NVMe Instance Storage")
	if err := writeFile(filepath.Join(root, "sys/block/nvme1n1/device/model"), model, 0o644); err != nil {
		return err
	}
	ebs := fmt.Sprintf("%-40s\n", "Amazon Elastic Block Store")
	if err := writeFile(filepath.Join(root, "sys/block/nvme0n1/device/model"), ebs, 0o644); err != nil {
		return err
	}
	links := filepath.Join(root, "sys/dev/block")
	if err := os.MkdirAll(links, 0o755); err != nil {
		return err
	}
	return os.Symlink("../../block/nvme1n1", filepath.Join(links, fmt.Sprintf("%d:%d", unix.Major(st.Dev), unix.Minor(st.Dev))))
}

// removeRoot detaches every mount under root, deepest first, then deletes it.
func removeRoot(root string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var mps []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 {
			mp := unescapeMount(f[4])
			if mp == root || strings.HasPrefix(mp, root+"/") {
				mps = append(mps, mp)
			}
		}
	}
	for i := len(mps) - 1; i >= 0; i-- {
		if err := unix.Unmount(mps[i], unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount %s: %w", mps[i], err)
		}
	}
	return os.RemoveAll(root)
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

func writeFile(p, body string, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(body), mode)
}

// waitIMDS polls the emulator's token endpoint until it answers.
func waitIMDS(ctx context.Context, base string) error {
	c := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, base+"/latest/api/token", nil)
		req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "60")
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("IMDS emulator at %s did not answer: %w", base, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
