package mountinfo

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    Mount
		wantErr string
	}{
		{
			name: "proc(5) example",
			line: "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue",
			want: Mount{ID: 36, ParentID: 35, Major: 98, Minor: 0, Root: "/mnt1", MountPoint: "/mnt2",
				Options: "rw,noatime", Optional: []string{"master:1"}, FSType: "ext3", Source: "/dev/root",
				SuperOptions: "rw,errors=continue"},
		},
		{
			name: "no optional fields, escaped space",
			line: `65 27 7:0 /ec2boot/var/log /srv/my\040root/var/log rw,relatime - ext4 /dev/loop0 rw`,
			want: Mount{ID: 65, ParentID: 27, Major: 7, Minor: 0, Root: "/ec2boot/var/log",
				MountPoint: "/srv/my root/var/log", Options: "rw,relatime", FSType: "ext4", Source: "/dev/loop0",
				SuperOptions: "rw"},
		},
		{
			name: "several optional fields",
			line: "27 1 254:0 / / rw shared:1 master:2 propagate_from:3 - ext4 /dev/vda rw,discard",
			want: Mount{ID: 27, ParentID: 1, Major: 254, Root: "/", MountPoint: "/", Options: "rw",
				Optional: []string{"shared:1", "master:2", "propagate_from:3"}, FSType: "ext4", Source: "/dev/vda",
				SuperOptions: "rw,discard"},
		},
		{
			name: "empty super options",
			line: "30 27 0:27 / /run rw - tmpfs tmpfs",
			want: Mount{ID: 30, ParentID: 27, Minor: 27, Root: "/", MountPoint: "/run", Options: "rw",
				FSType: "tmpfs", Source: "tmpfs"},
		},
		{name: "no separator", line: "36 35 98:0 /mnt1 /mnt2 rw ext3 /dev/root rw", wantErr: "malformed"},
		{name: "separator without fstype", line: "36 35 98:0 /a /b rw -", wantErr: "malformed"},
		{name: "bad id", line: "x 35 98:0 / / rw - ext4 /dev/x rw", wantErr: "bad mount id"},
		{name: "negative parent", line: "1 -3 98:0 / / rw - ext4 /dev/x rw", wantErr: "bad parent id"},
		{name: "bad device", line: "1 0 98 / / rw - ext4 /dev/x rw", wantErr: "bad device"},
		{name: "relative mount point", line: "1 0 1:2 / mnt rw - ext4 /dev/x rw", wantErr: "not absolute"},
		{name: "empty", line: "", wantErr: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLine(tt.line)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLine error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ParseLine (-want +got):\n%s", d)
			}
		})
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`/a\040b`:      "/a b",
		`/tab\011x`:    "/tab\tx",
		`/bs\134`:      `/bs\`,
		`/short\04`:    `/short\04`,
		`/notoctal\09`: `/notoctal\09`,
		`/big\777`:     `/big\777`,
		`plain`:        "plain",
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

const sample = `27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
40 27 0:50 / /mnt rw,relatime shared:2 - ext4 /dev/nvme1n1 rw
41 27 0:50 /ec2boot/var/log /var/log rw,relatime shared:2 - ext4 /dev/nvme1n1 rw
42 41 0:51 / /var/log/sub rw - tmpfs tmpfs rw
`

func TestTableLookups(t *testing.T) {
	tab, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	ids := func(ms []Mount, ok bool) []int {
		if !ok {
			return nil
		}
		var out []int
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	one := func(m Mount, ok bool) []int { return ids([]Mount{m}, ok) }
	tests := []struct {
		name string
		got  []int
		want []int
	}{
		{"At /var/log", ids(tab.At("/var/log"), true), []int{41}},
		{"Top /mnt", one(tab.Top("/mnt")), []int{40}},
		{"Top /var missing", one(tab.Top("/var")), nil},
		{"Containing /var/log/x", one(tab.Containing("/var/log/x")), []int{41}},
		{"Containing /var/logx", one(tab.Containing("/var/logx")), []int{27}},
		{"Containing /var/log/sub/y", one(tab.Containing("/var/log/sub/y")), []int{42}},
		{"Below /var/log", one(tab.Below("/var/log")), []int{27}},
		{"ByID 42", one(tab.ByID(42)), []int{42}},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, tt.got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, d)
		}
	}
	if _, err := Parse(strings.NewReader(sample + "garbage\n")); err == nil || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("Parse with a bad line: error %v, want one naming line 5", err)
	}
}

func TestSelf(t *testing.T) {
	tab, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tab.Containing("/"); !ok {
		t.Errorf("no mount contains / in %d entries", len(tab))
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue")
	f.Add(`1 0 1:1 /a\040b /c\134 rw - x y`)
	f.Add("1 0 1:1 / / rw - - - -")
	f.Fuzz(func(t *testing.T, s string) {
		tab, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, m := range tab {
			if !strings.HasPrefix(m.MountPoint, "/") {
				t.Fatalf("accepted relative mount point %q", m.MountPoint)
			}
			// Lookups must not panic on whatever was accepted.
			tab.Containing(m.MountPoint + "/x")
			tab.Below(m.MountPoint)
		}
	})
}

func FuzzUnescape(f *testing.F) {
	for _, s := range []string{`/a\040b`, `\`, `\0`, `\777x`, `/etc/hosts`, `\134\011`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Unescape(s)
		if len(out) > len(s) {
			t.Fatalf("unescaping grew %q to %q", s, out)
		}
		if !strings.Contains(s, `\`) && out != s {
			t.Fatalf("changed a string without escapes")
		}
	})
}
