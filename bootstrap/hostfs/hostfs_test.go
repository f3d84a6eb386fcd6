package hostfs

import "testing"

func TestPathAndRel(t *testing.T) {
	tests := []struct {
		root    Root
		in      string
		want    string
		wantRel string
	}{
		{"", "/etc/hosts", "/etc/hosts", "/etc/hosts"},
		{"/", "/etc/hosts", "/etc/hosts", "/etc/hosts"},
		{"/tmp/r", "/etc/hosts", "/tmp/r/etc/hosts", "/etc/hosts"},
		{"/tmp/r", "etc/hosts", "/tmp/r/etc/hosts", "/etc/hosts"},
		{"/tmp/r", "/../../etc/hosts", "/tmp/r/etc/hosts", "/etc/hosts"},
	}
	for _, tt := range tests {
		got := tt.root.Path(tt.in)
		if got != tt.want {
			t.Errorf("Root(%q).Path(%q) = %q, want %q", tt.root, tt.in, got, tt.want)
		}
		if rel := tt.root.Rel(got); rel != tt.wantRel {
			t.Errorf("Root(%q).Rel(%q) = %q, want %q", tt.root, got, rel, tt.wantRel)
		}
	}
}

func TestRelOutsideRoot(t *testing.T) {
	r := Root("/tmp/r")
	if got := r.Rel("/tmp/rx/etc"); got != "/tmp/rx/etc" {
		t.Errorf("Rel of a sibling = %q, want it unchanged", got)
	}
	if got := r.Rel("/tmp/r"); got != "/" {
		t.Errorf("Rel(root) = %q, want /", got)
	}
}
