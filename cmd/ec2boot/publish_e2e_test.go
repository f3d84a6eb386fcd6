package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/ec2boot/ec2boot/bootstrap/clock"
	"github.com/ec2boot/ec2boot/bootstrap/ddns/member"
	"github.com/ec2boot/ec2boot/bootstrap/ddns/rfc2136"
	"github.com/ec2boot/ec2boot/internal/testpeer/aemm"
	"github.com/ec2boot/ec2boot/internal/testpeer/bind"
)

const queueRecord = "queue.roles.example.test"

// queueUserData: every instance is a member of the queue role, published
// through BIND with a key file on the image, and lists the members it
// resolves (through BIND) in a file.
func queueUserData(server string) []byte {
	return []byte(fmt.Sprintf(`[dns.accounts.corp]
provider = "rfc2136"
server = %q
zone = "example.test"
key_file = "/etc/ec2boot/queue.key"

[peers]
nameserver = %q

[peers.discover.queue]
source = "dns"
record = %q
publish = { account = "corp" }

[[templates]]
source = "queue.tmpl"
destination = "/etc/queue.conf"
`, server, server, queueRecord))
}

// queueMember boots instance n: its own metadata emulator and root.
func queueMember(t *testing.T, named *bind.Server, n int) (root string, flags []string) {
	t.Helper()
	imds := aemm.Start(t, aemm.Config{IMDSv2: true, UserData: queueUserData(named.Addr), Values: map[string]string{
		"instance-id": fmt.Sprintf("i-0e2eq000000000%02d", n), "local-ipv4": fmt.Sprintf("10.3.0.%d", n)}})
	root = t.TempDir()
	write(t, root, "/etc/hosts", "127.0.0.1\tlocalhost\n")
	write(t, root, "/etc/ec2boot/config.toml", "[imds]\ntimeout = \"3s\"\n")
	write(t, root, "/etc/ec2boot/queue.tmpl", "{{ range .Peers.queue }}{{ .Addr }}\n{{ end }}")
	write(t, root, "/etc/ec2boot/queue.key", fmt.Sprintf("key \"role-key\" {\n\talgorithm hmac-sha256;\n\tsecret %q;\n};\n", named.Secrets["role-key"]))
	if err := os.Chmod(filepath.Join(root, "etc/ec2boot/queue.key"), 0o600); err != nil {
		t.Fatal(err)
	}
	return root, []string{"--root", root, "--imds-endpoint", imds.URL, "--log-format", "json"}
}

func queueConf(t *testing.T, root string) []string {
	t.Helper()
	return strings.Fields(readFile(t, filepath.Join(root, "etc/queue.conf")))
}

// queueTXT is the member TXT set as BIND holds it: instance ids.
func queueTXT(t *testing.T, named *bind.Server) []string {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(member.TXTName(queueRecord), dns.TypeTXT)
	r, _, err := (&dns.Client{Net: "tcp", Timeout: 3 * time.Second}).Exchange(m, named.Addr)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rr := range r.Answer {
		if mm, ok := member.Parse(strings.Join(rr.(*dns.TXT).Txt, "")); ok {
			out = append(out, mm.InstanceID)
		}
	}
	slices.Sort(out)
	return out
}

// TestRoleRecordMembersEndToEnd: three instances publish themselves under
// one role record through the real binary and BIND, and each resolves the
// role through BIND; a run with nothing due sends no UPDATE; a member that
// vanished a day ago (its record planted with a refresh time 25 hours old,
// since the binary runs on the real clock that TSIG needs) is pruned by
// the first member that publishes; one member stops cleanly and the
// others' next run no longer lists it.
func TestRoleRecordMembersEndToEnd(t *testing.T) {
	named := bind.StartWith(t, bind.Options{Zone: "example.test", Keys: []string{"role-key"},
		UpdatePolicy: "grant role-key name " + queueRecord + ". A AAAA;\ngrant role-key name " + member.TXTName(queueRecord) + " TXT;"})

	ghost := member.Member{Role: "queue", InstanceID: "i-0e2eq0000000ghost", Addr: netip.MustParseAddr("10.3.0.99"),
		Refreshed: time.Now().UTC().Truncate(time.Second).Add(-25 * time.Hour)}
	reg := rfc2136.Members{C: &rfc2136.Client{Server: named.Addr, Zone: "example.test", TTL: 300, Timeout: 3 * time.Second, Clock: clock.Real{},
		Key: rfc2136.Key{Name: "role-key.", Algorithm: dns.HmacSHA256, Secret: named.Secrets["role-key"]}}}
	ro, err := reg.Read(context.Background(), queueRecord)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Publish(context.Background(), ro, ghost); err != nil {
		t.Fatal(err)
	}

	var roots []string
	var flags [][]string
	for n := 1; n <= 3; n++ {
		r, f := queueMember(t, named, n)
		roots, flags = append(roots, r), append(flags, f)
	}
	run := func(i int, args ...string) result {
		t.Helper()
		r := ec2boot(t, append(args, flags[i]...)...)
		if r.code != 0 {
			t.Fatalf("instance %d: %v exit %d\n%s", i+1, args, r.code, r.stderr)
		}
		return r
	}
	first := run(0, "run")
	if !strings.Contains(first.stderr, "pruned i-0e2eq0000000ghost (10.3.0.99") {
		t.Errorf("the first member did not prune the vanished one:\n%s", first.stderr)
	}
	run(1, "run")
	run(2, "run")
	all := []string{"i-0e2eq00000000001", "i-0e2eq00000000002", "i-0e2eq00000000003"}
	if got := queueTXT(t, named); !slices.Equal(got, all) {
		t.Fatalf("members %v, want %v", got, all)
	}
	if got := queueConf(t, roots[2]); !slices.Equal(got, []string{"10.3.0.1", "10.3.0.2", "10.3.0.3"}) {
		t.Errorf("instance 3 lists %v", got)
	}

	// Runs with nothing due send no UPDATE; the first two now list all three.
	serial := soaSerial(t, named)
	run(0, "run")
	run(1, "run")
	if s := soaSerial(t, named); s != serial {
		t.Errorf("runs with nothing due changed the zone (serial %d -> %d)", serial, s)
	}
	if got := queueConf(t, roots[0]); !slices.Equal(got, []string{"10.3.0.1", "10.3.0.2", "10.3.0.3"}) {
		t.Errorf("instance 1 lists %v", got)
	}
	before := snapshot(t, roots[0])
	run(0, "run")
	if after := snapshot(t, roots[0]); after != before {
		t.Errorf("a run with nothing changed wrote files")
	}

	// Instance 3 stops cleanly; instance 1's next run no longer lists it.
	stop := run(2, "stop", "--timeout", "5s")
	if !strings.Contains(stop.stderr, "removed i-0e2eq00000000003 from "+queueRecord) {
		t.Errorf("stop did not say what it removed:\n%s", stop.stderr)
	}
	if got := queueTXT(t, named); !slices.Equal(got, all[:2]) {
		t.Fatalf("members after instance 3 stopped: %v", got)
	}
	run(0, "run")
	if got := queueConf(t, roots[0]); !slices.Equal(got, []string{"10.3.0.1", "10.3.0.2"}) {
		t.Errorf("instance 1 lists %v after instance 3 left", got)
	}
}
